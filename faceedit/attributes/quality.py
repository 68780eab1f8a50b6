"""Judging a generator against its training world: attribute distributions and Fréchet distance.

Figures here are meant to come from the *judge*, a classifier trained independently of anything
being evaluated.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Sequence

import numpy as np
import torch

__all__ = ["frechet_distance", "binned_distribution", "total_variation", "attribute_distribution_distances"]


def _sqrtm_psd(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets ``[N, D]`` and ``[M, D]``.

    ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2)``, computed in float64 with
    symmetric square roots (stable where ``scipy.linalg.sqrtm`` can return complex noise).
    """
    a = np.asarray(features_a, dtype=np.float64)
    b = np.asarray(features_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"expected two feature sets [N, D] with the same D and N >= 2, got {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root_a = _sqrtm_psd(cov_a)
    cross = _sqrtm_psd(root_a @ cov_b @ root_a)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(cross))


def binned_distribution(values: torch.Tensor, head: Mapping[str, Any], bins: int = 10) -> np.ndarray:
    """Histogram (summing to one) of a classifier's predictions for one factor.

    Continuous factors use ``bins`` equal bins over ``[low, high]``; binary factors two bins
    (probability below / above one half); categorical factors the most probable class.
    """
    v = torch.as_tensor(values).float().cpu()
    if head["kind"] == "continuous":
        scaled = ((v - head["low"]) / (head["high"] - head["low"])).clamp(0, 1 - 1e-6)
        index = (scaled * bins).long()
        size = bins
    elif head["kind"] == "binary":
        index = (v > 0.5).long()
        size = 2
    else:
        index = v.argmax(dim=1)
        size = len(head["classes"])
    counts = torch.bincount(index, minlength=size).double().numpy()
    return counts / max(counts.sum(), 1)


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """Total-variation distance ``0.5 * sum |p - q|`` between two histograms (0 = same, 1 = disjoint)."""
    return float(0.5 * np.abs(np.asarray(p) - np.asarray(q)).sum())


def attribute_distribution_distances(
    predictions_a: Mapping[str, torch.Tensor],
    predictions_b: Mapping[str, torch.Tensor],
    heads: Sequence[Mapping[str, Any]],
    bins: int = 10,
) -> Dict[str, float]:
    """Per-factor total-variation distance between two sets of (judge) predictions."""
    return {h["name"]: total_variation(binned_distribution(predictions_a[h["name"]], h, bins),
                                       binned_distribution(predictions_b[h["name"]], h, bins)) for h in heads}
