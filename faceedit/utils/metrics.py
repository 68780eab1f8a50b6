"""Image-quality figures shared by the CLI, benchmarks and tests."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["psnr", "psnr_uint8"]


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image of two batches in [-1, 1] (values are clamped to it).

    Shape:
        ``a, b [N, C, H, W]`` -> ``[N]``.
    """
    mse = (a.clamp(-1, 1) - b.clamp(-1, 1)).square().flatten(1).mean(dim=1)  # [N]
    return 10 * torch.log10(4.0 / mse)


def psnr_uint8(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two ``uint8`` images of the same shape (inf when they are identical)."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))
