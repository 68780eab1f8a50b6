"""How clean is an edit? Sweep alpha, let an independent judge score every image.

For N faces and a grid of edit strengths, :func:`edit_sweep` (several edits of the same faces:
:func:`edit_sweeps`) records the judge's scores of every
attribute and how much of the picture outside the face changed. From a sweep:
:func:`monotonic_fraction` (does the target rise steadily with alpha for each face?),
:func:`effect_per_unit` (slope of the mean score against alpha), and
:func:`entanglement_matrix` (the slopes of every attribute for every direction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np
import torch

from directions.edit import Layers, apply_direction

__all__ = ["EditSweep", "SweepSetting", "edit_sweep", "edit_sweeps", "monotonic_fraction", "effect_per_unit",
           "entanglement_matrix", "face_mask"]


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


@dataclass(frozen=True)
class SweepSetting:
    """One edit to sweep: strengths, the W length of a unit, and the rows edited."""

    alphas: Sequence[float] = (-3, -2, -1, 0, 1, 2, 3)  # strengths, in units of `scale`; must include 0
    scale: float = 1.0  # W length of one unit (a Direction's unit)
    layers: Layers = None  # W+ rows to edit; None = all


@torch.no_grad()
def edit_sweeps(
    G,  # faceedit Generator
    direction: np.ndarray,  # [w_dim] unit vector
    judge,  # AttributeClassifier that is *not* the one the direction was fitted with
    settings: Sequence[SweepSetting],  # the edits to sweep, all on the same faces
    n: int = 1000,  # faces
    seed: int = 0,  # seed of the faces
    truncation_psi: float = 0.7,
    batch_size: int = 50,
    mask: Optional[torch.Tensor] = None,  # [H, W] face region; None = face_mask(resolution)
    progress: bool = True,
) -> List[EditSweep]:
    """:func:`edit_sweep` for several settings over the same faces; each unedited face is rendered and
    judged once, not once per setting.

    Returns:
        One :class:`EditSweep` per setting, as ``edit_sweep`` would return it.
    """
    from tqdm.auto import tqdm

    grids = [np.asarray(setting.alphas, dtype=np.float64) for setting in settings]
    for grid in grids:
        if 0.0 not in grid:
            raise ValueError("alphas must include 0 (the unedited face) to measure changes against")
    mask = (mask if mask is not None else face_mask(G.img_resolution)).to(G.device)
    outside = 1 - mask  # [H, W]
    z = torch.from_numpy(np.random.RandomState(seed).randn(n, G.z_dim).astype(np.float32))
    scores: List[Dict[str, list]] = [{} for _ in settings]
    changes = [np.zeros((len(grid), n)) for grid in grids]
    renders = n * (1 + sum(int((grid != 0).sum()) for grid in grids))
    with tqdm(total=renders, unit="img", desc="edit sweep", disable=not progress) as bar:
        for start in range(0, n, batch_size):
            ws = G.mapping(z[start:start + batch_size].to(G.device), None, truncation_psi=truncation_psi)
            unedited = G.synthesis(ws, noise_mode="const")  # [B, 3, H, W]
            unedited_scores = judge(unedited)
            bar.update(len(unedited))
            for setting, grid, found, change in zip(settings, grids, scores, changes):
                for i, alpha in enumerate(grid):
                    if alpha == 0:
                        img, judged = unedited, unedited_scores
                    else:
                        img = G.synthesis(apply_direction(ws, direction, float(alpha), setting.layers, setting.scale),
                                          noise_mode="const")  # [B, 3, H, W]
                        judged = judge(img)
                        bar.update(len(img))
                    diff = (img - unedited).abs().mean(dim=1)  # [B, H, W]
                    change[i, start:start + len(img)] = ((diff * outside).sum(dim=[1, 2]) / outside.sum()).cpu().numpy()
                    for name, value in judged.items():
                        found.setdefault(name, [[] for _ in grid])[i].append(value.numpy())
    return [EditSweep(alphas=grid, scores={k: np.stack([np.concatenate(v) for v in rows]) for k, rows in found.items()},
                      outside_change=change) for grid, found, change in zip(grids, scores, changes)]


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
    return edit_sweeps(G, direction, judge, [SweepSetting(alphas, scale, layers)], n=n, seed=seed,
                       truncation_psi=truncation_psi, batch_size=batch_size, mask=mask, progress=progress)[0]


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
