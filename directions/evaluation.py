"""How clean is an edit? Sweep alpha, let an independent judge score every image.

For N faces and a grid of edit strengths, :func:`edit_sweep` records the judge's scores of every
attribute and how much of the picture outside the face changed. From a sweep:
:func:`monotonic_fraction` (does the target rise steadily with alpha for each face?),
:func:`effect_per_unit` (slope of the mean score against alpha), and
:func:`entanglement_matrix` (the slopes of every attribute for every direction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Sequence

import numpy as np
import torch

from directions.edit import Layers, apply_direction

__all__ = ["EditSweep", "edit_sweep", "monotonic_fraction", "effect_per_unit", "entanglement_matrix",
           "face_mask"]


@dataclass
class EditSweep:
    """Judge scores along an edit."""

    alphas: np.ndarray  # [A] edit strengths
    scores: Dict[str, np.ndarray]  # attribute -> [A, N] judge scores
    outside_change: np.ndarray  # [A, N] mean absolute pixel change outside the face mask (0-2 scale)


def face_mask(resolution: int, center=(0.5, 0.47), radii=(0.26, 0.34)) -> torch.Tensor:
    """An ellipse ``[H, W]`` (1 inside) covering the face of an FFHQ-style aligned portrait.

    The default fits the synthfaces and FFHQ crops; pass ``radii``/``center`` (fractions of the
    image) for other framings.
    """
    coords = (torch.arange(resolution, dtype=torch.float32) + 0.5) / resolution
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    inside = ((x - center[0]) / radii[0]) ** 2 + ((y - center[1]) / radii[1]) ** 2 <= 1
    return inside.float()


@torch.no_grad()
def edit_sweep(
    G,  # faceedit Generator
    direction: np.ndarray,  # [w_dim] unit vector
    judge,  # AttributeClassifier that is *not* the one the direction was fitted with
    n: int = 1000,  # faces
    alphas: Sequence[float] = (-3, -2, -1, 0, 1, 2, 3),  # strengths, in units of `scale`
    scale: float = 1.0,  # W length of one unit (a Direction's unit)
    layers: Layers = None,  # W+ rows to edit
    seed: int = 0,  # seed of the faces
    truncation_psi: float = 0.7,
    batch_size: int = 50,
    mask: Optional[torch.Tensor] = None,  # [H, W] face region; None = face_mask(resolution)
    progress: bool = True,
) -> EditSweep:
    """Render every face at every strength and score each image with the judge."""
    from tqdm.auto import tqdm

    alphas = np.asarray(alphas, dtype=np.float64)
    if 0.0 not in alphas:
        raise ValueError("alphas must include 0 (the unedited face) to measure changes against")
    zero = int(np.flatnonzero(alphas == 0)[0])
    mask = (mask if mask is not None else face_mask(G.img_resolution)).to(G.device)
    outside = 1 - mask  # [H, W]
    z = torch.from_numpy(np.random.RandomState(seed).randn(n, G.z_dim).astype(np.float32))
    scores: Dict[str, list] = {}
    change = np.zeros((len(alphas), n))
    with tqdm(total=n * len(alphas), unit="img", desc="edit sweep", disable=not progress) as bar:
        for start in range(0, n, batch_size):
            ws = G.mapping(z[start:start + batch_size].to(G.device), None, truncation_psi=truncation_psi)
            images = [G.synthesis(apply_direction(ws, direction, float(a), layers, scale), noise_mode="const")
                      for a in alphas]  # A x [B, 3, H, W]
            for i, img in enumerate(images):
                diff = (img - images[zero]).abs().mean(dim=1)  # [B, H, W]
                change[i, start:start + len(img)] = ((diff * outside).sum(dim=[1, 2]) / outside.sum()).cpu().numpy()
                for name, value in judge(img).items():
                    scores.setdefault(name, [[] for _ in alphas])[i].append(value.numpy())
                bar.update(len(img))
    return EditSweep(alphas=alphas, scores={k: np.stack([np.concatenate(v) for v in rows])
                                            for k, rows in scores.items()}, outside_change=change)


def monotonic_fraction(sweep: EditSweep, attribute: str, tolerance: float = 0.0) -> float:
    """Fraction of faces whose judged ``attribute`` never drops by more than ``tolerance`` as alpha grows."""
    values = sweep.scores[attribute]  # [A, N]
    order = np.argsort(sweep.alphas)
    steps = np.diff(values[order], axis=0)  # [A-1, N]
    return float((steps >= -tolerance).all(axis=0).mean())


def effect_per_unit(sweep: EditSweep, attribute: str) -> float:
    """Least-squares slope of the mean judged ``attribute`` against alpha."""
    mean = sweep.scores[attribute].mean(axis=1)  # [A]
    return float(np.polyfit(sweep.alphas, mean, 1)[0])


def entanglement_matrix(sweeps: Mapping[str, EditSweep], attributes: Sequence[str]) -> np.ndarray:
    """Slopes ``[len(sweeps), len(attributes)]``: how much each direction moves each attribute per unit."""
    return np.array([[effect_per_unit(sweep, a) for a in attributes] for sweep in sweeps.values()])
