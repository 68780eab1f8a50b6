"""Unsupervised directions for exploring a new model: GANSpace (PCA in W) and SeFa.

Both return candidate unit directions, strongest first; :func:`direction_grid` renders each
one as a strip of edits so a person can name it.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch

from directions.edit import Layers, apply_direction, layer_range

__all__ = ["ganspace", "sefa", "direction_grid"]


@torch.no_grad()
def ganspace(G, n: int = 10_000, k: int = 10, seed: int = 0, batch_size: int = 1000) -> Tuple[np.ndarray, np.ndarray]:
    """Principal components of W (Härkönen et al., 2020).

    Returns:
        ``components [k, w_dim]`` (unit rows, sign: positive skew of the projections) and
        ``explained_variance_ratio [k]``.
    """
    if not 1 <= k <= G.w_dim or n <= k:
        raise ValueError(f"need 1 <= k <= w_dim ({G.w_dim}) and n > k, got k={k}, n={n}")
    z = torch.from_numpy(np.random.RandomState(seed).randn(n, G.z_dim).astype(np.float32))
    w = torch.cat([G.mapping(z[i:i + batch_size].to(G.device), None)[:, 0].cpu()
                   for i in range(0, n, batch_size)]).double().numpy()  # [n, w_dim]
    centred = w - w.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)  # vt: [w_dim, w_dim]
    components = vt[:k]
    projections = centred @ components.T  # [n, k]
    components = components * np.sign(((projections**3).mean(axis=0)) + 1e-12)[:, None]
    variance = singular**2
    return components, (variance / variance.sum())[:k]


def sefa(G, k: int = 10, layers: Layers = None) -> Tuple[np.ndarray, np.ndarray]:
    """Closed-form factorisation of the style affines (Shen & Zhou, 2021).

    The directions that the style-affine layers of the chosen W+ rows amplify most: the top
    eigenvectors of ``A^T A``, with ``A`` the stacked affine weights (rows unit-normalised).

    Returns:
        ``directions [k, w_dim]`` (unit rows) and their eigenvalues ``[k]``.
    """
    start, stop = layer_range(layers, G.num_ws)
    weights: List[np.ndarray] = []
    row = 0
    for res in G.synthesis.block_resolutions:
        block = getattr(G.synthesis, f"b{res}")
        # Each conv layer reads one W+ row; a ToRGB layer reads the row after the block's last conv.
        for name in ("conv0", "conv1"):
            if hasattr(block, name):
                if start <= row < stop:
                    weights.append(getattr(block, name).affine.weight.detach().double().cpu().numpy())
                row += 1
        if hasattr(block, "torgb") and start <= row < stop:
            weights.append(block.torgb.affine.weight.detach().double().cpu().numpy())
    if not weights:
        raise ValueError(f"no style affine reads W+ rows {start}..{stop - 1}")
    A = np.concatenate(weights)  # [sum of channels, w_dim]
    A = A / np.linalg.norm(A, axis=1, keepdims=True)
    values, vectors = np.linalg.eigh(A.T @ A)  # ascending
    order = np.argsort(values)[::-1][:k]
    return vectors[:, order].T, values[order]


@torch.no_grad()
def direction_grid(
    G,
    directions: np.ndarray,  # [K, w_dim]
    seeds: Sequence[int] = (0,),  # one strip per (direction, seed)
    alphas: Sequence[float] = (-3, -2, -1, 0, 1, 2, 3),  # edit strengths, in units of `scale`
    layers: Layers = None,  # W+ rows to edit
    scale: Optional[float] = None,  # W length of one unit; None = std of W along each direction
    truncation_psi: float = 0.7,
) -> np.ndarray:
    """Image grid ``uint8 [H, W, 3]``: a row per (direction, seed), a column per alpha."""
    from faceedit.utils.images import images_from_tensor, make_grid
    from faceedit.utils.seeds import z_from_seeds

    directions = np.atleast_2d(directions)
    z = z_from_seeds(list(seeds), G.z_dim).to(G.device)
    ws = G.mapping(z, None, truncation_psi=truncation_psi)  # [S, num_ws, w_dim]
    if scale is None:
        sample = G.mapping(z_from_seeds(list(range(1000, 3000)), G.z_dim).to(G.device), None)[:, 0]
    rows = []
    for d in directions:
        unit = scale if scale is not None else float((sample @ torch.as_tensor(d, dtype=sample.dtype,
                                                                                 device=sample.device)).std())
        for s in range(len(seeds)):
            edited = torch.cat([apply_direction(ws[s:s + 1], d, a, layers, unit) for a in alphas])
            rows.append(images_from_tensor(G.synthesis(edited, noise_mode="const")))
    return make_grid(np.concatenate(rows), cols=len(alphas))
