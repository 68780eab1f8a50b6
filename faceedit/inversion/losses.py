"""Image distances for projection, each usable as a function and as a module.

* :func:`pixel_loss` — mean squared (L2) or absolute (L1) error.
* :func:`ms_ssim` / :class:`MSSSIMLoss` — multi-scale structural similarity (Wang et al. 2003) with
  Gaussian windows; the number of scales adapts to the image size, so it works from 16x16 up.
* :func:`noise_regularization` — NVIDIA's penalty on spatial autocorrelation of optimised noise maps
  at every octave, so detail is not smuggled into the noise.

All take images ``[N, C, H, W]`` in the generator's range (about [-1, 1]) and return one value per
image ``[N]``.
"""

from __future__ import annotations

from typing import Iterable, Optional, Sequence

import torch
import torch.nn.functional as F

__all__ = ["pixel_loss", "ssim", "ms_ssim", "MSSSIMLoss", "PixelLoss", "noise_regularization", "normalize_noise_",
           "MS_SSIM_WEIGHTS"]

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)  # Wang et al., finest scale first


def pixel_loss(a: torch.Tensor, b: torch.Tensor, kind: str = "l2") -> torch.Tensor:
    """Mean squared (``'l2'``) or absolute (``'l1'``) difference per image.

    Shape:
        ``a, b [N, C, H, W]`` -> ``[N]``.
    """
    if kind not in ("l1", "l2"):
        raise ValueError(f"kind must be 'l1' or 'l2', got {kind!r}")
    diff = a - b
    return (diff.abs() if kind == "l1" else diff.square()).mean(dim=[1, 2, 3])


def _gaussian_window(size: int, sigma: float, channels: int, device, dtype) -> torch.Tensor:
    coords = torch.arange(size, device=device, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, size, size).contiguous()  # [C, 1, k, k]


def _ssim_parts(a: torch.Tensor, b: torch.Tensor, window: torch.Tensor, data_range: float):
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    channels = a.shape[1]
    mu_a = F.conv2d(a, window, groups=channels)  # [N, C, H', W']
    mu_b = F.conv2d(b, window, groups=channels)
    var_a = F.conv2d(a * a, window, groups=channels) - mu_a**2
    var_b = F.conv2d(b * b, window, groups=channels) - mu_b**2
    cov = F.conv2d(a * b, window, groups=channels) - mu_a * mu_b
    contrast_structure = (2 * cov + c2) / (var_a + var_b + c2)
    luminance = (2 * mu_a * mu_b + c1) / (mu_a**2 + mu_b**2 + c1)
    return luminance, contrast_structure


def ssim(a: torch.Tensor, b: torch.Tensor, window_size: int = 11, sigma: float = 1.5,
         data_range: float = 2.0) -> torch.Tensor:
    """Single-scale SSIM per image (valid windows only).

    Shape:
        ``a, b [N, C, H, W]`` with ``H, W >= window_size`` -> ``[N]``.
    """
    window = _gaussian_window(window_size, sigma, a.shape[1], a.device, a.dtype)
    luminance, cs = _ssim_parts(a, b, window, data_range)
    return (luminance * cs).mean(dim=[1, 2, 3])


def ms_ssim(
    a: torch.Tensor,  # [N, C, H, W]
    b: torch.Tensor,  # [N, C, H, W]
    window_size: int = 11,  # Gaussian window size (shrunk for small images)
    sigma: float = 1.5,  # Gaussian window width
    data_range: float = 2.0,  # value range of the images; 2 for [-1, 1]
    weights: Optional[Sequence[float]] = None,  # per-scale exponents; None = Wang et al.'s, as many as fit
) -> torch.Tensor:  # [N], 1 for identical images
    """Multi-scale SSIM: contrast-structure at every scale, luminance at the coarsest.

    Uses as many of the five standard scales as the image allows (each scale must be at least one
    window across); the weights are renormalised to sum to one.
    """
    if a.shape != b.shape or a.ndim != 4:
        raise ValueError(f"ms_ssim needs two [N, C, H, W] batches of one shape, got {tuple(a.shape)}, {tuple(b.shape)}")
    side = min(a.shape[-2:])
    window_size = min(window_size, side if side % 2 else side - 1)
    weights = list(weights or MS_SSIM_WEIGHTS)
    scales = 1
    while scales < len(weights) and side // 2**scales >= window_size:
        scales += 1
    w = torch.tensor(weights[:scales], device=a.device, dtype=a.dtype)
    w = w / w.sum()
    window = _gaussian_window(window_size, sigma, a.shape[1], a.device, a.dtype)
    values = []
    for scale in range(scales):
        luminance, cs = _ssim_parts(a, b, window, data_range)
        # relu keeps fractional powers defined; negative contrast-structure means no similarity.
        term = (luminance * cs) if scale == scales - 1 else cs
        values.append(F.relu(term.mean(dim=[1, 2, 3])))
        if scale < scales - 1:
            a, b = F.avg_pool2d(a, 2), F.avg_pool2d(b, 2)
    stacked = torch.stack(values, dim=1)  # [N, S]
    return torch.prod(stacked.clamp_min(1e-8) ** w, dim=1)


class MSSSIMLoss(torch.nn.Module):
    """``1 - ms_ssim(a, b)`` per image, as a module."""

    def __init__(self, window_size: int = 11, sigma: float = 1.5, data_range: float = 2.0):
        super().__init__()
        self.window_size, self.sigma, self.data_range = window_size, sigma, data_range

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return 1 - ms_ssim(a, b, self.window_size, self.sigma, self.data_range)


class PixelLoss(torch.nn.Module):
    """:func:`pixel_loss` as a module."""

    def __init__(self, kind: str = "l2"):
        super().__init__()
        if kind not in ("l1", "l2"):
            raise ValueError(f"kind must be 'l1' or 'l2', got {kind!r}")
        self.kind = kind

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return pixel_loss(a, b, self.kind)


def noise_regularization(noise_maps: Iterable[torch.Tensor]) -> torch.Tensor:
    """NVIDIA's noise regulariser per image: squared autocorrelation at shift 1, summed over octaves.

    Shape:
        each map ``[N, 1, R, R]`` -> ``[N]``.
    """
    total = None
    for noise in noise_maps:
        v = noise
        while True:
            term = ((v * torch.roll(v, shifts=1, dims=3)).mean(dim=[1, 2, 3]) ** 2
                    + (v * torch.roll(v, shifts=1, dims=2)).mean(dim=[1, 2, 3]) ** 2)
            total = term if total is None else total + term
            if v.shape[2] <= 8:
                break
            v = F.avg_pool2d(v, kernel_size=2)
    if total is None:
        raise ValueError("noise_regularization needs at least one noise map")
    return total


@torch.no_grad()
def normalize_noise_(noise_maps: Iterable[torch.Tensor]) -> None:
    """Give every map zero mean and unit variance per image, in place (after each optimiser step)."""
    for noise in noise_maps:
        noise.sub_(noise.mean(dim=[1, 2, 3], keepdim=True))
        noise.mul_(noise.square().mean(dim=[1, 2, 3], keepdim=True).rsqrt())
