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

from typing import Dict, Iterable, List, Optional, Sequence

import torch
import torch.nn.functional as F

__all__ = ["pixel_loss", "ssim", "ms_ssim", "MSSSIMLoss", "PixelLoss", "noise_regularization", "NoiseRegularization",
           "normalize_noise_", "MS_SSIM_WEIGHTS"]

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


def _gaussian_kernel(size: int, sigma: float, device, dtype) -> torch.Tensor:
    """A normalised 1-D Gaussian ``[size]``; the 2-D SSIM window is its outer product."""
    coords = torch.arange(size, device=device, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    return g / g.sum()


def _band(size: int, g: torch.Tensor) -> torch.Tensor:
    """``[size - k + 1, size]`` matrix whose rows are ``g`` shifted along: valid 1-D filtering as a matmul."""
    k = g.shape[0]
    rows = size - k + 1
    index = torch.arange(rows, device=g.device)[:, None] + torch.arange(k, device=g.device)[None, :]  # [rows, k]
    return torch.zeros(rows, size, device=g.device, dtype=g.dtype).scatter_(1, index, g.expand(rows, k))


def _blur(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Valid Gaussian filtering of every channel: the separable window applied as two matrix products.

    Projection evaluates this every step. Forward + backward of ``ms_ssim`` on one 64x64 image took
    2.64 ms this way against 2.93 ms with 1-D depthwise convolutions and 3.95 ms with the k x k window
    (2-core CPU, ``BENCHMARKS.md``, projection step cost).

    Shape:
        ``x [N, C, H, W]``, ``g [k]`` -> ``[N, C, H - k + 1, W - k + 1]``.
    """
    return _band(x.shape[2], g) @ x @ _band(x.shape[3], g).T  # [N, C, H', H] ... -> [N, C, H', W']


def _ssim_parts(a: torch.Tensor, b: torch.Tensor, g: torch.Tensor, data_range: float):
    """Local means ``mu_a, mu_b`` and the contrast-structure map, each ``[N, C, H', W']``."""
    c2 = (0.03 * data_range) ** 2
    channels = a.shape[1]
    # One filtering pass over all five local statistics: fewer, larger ops (projection runs this every step).
    stats = _blur(torch.cat([a, b, a * a, b * b, a * b], dim=1), g)  # [N, 5C, H', W']
    mu_a, mu_b, e_aa, e_bb, e_ab = stats.split(channels, dim=1)  # each [N, C, H', W']
    var_a = e_aa - mu_a**2
    var_b = e_bb - mu_b**2
    cov = e_ab - mu_a * mu_b
    return mu_a, mu_b, (2 * cov + c2) / (var_a + var_b + c2)


def _luminance(mu_a: torch.Tensor, mu_b: torch.Tensor, data_range: float) -> torch.Tensor:
    """SSIM's luminance term from the local means (MS-SSIM uses it at the coarsest scale only)."""
    c1 = (0.01 * data_range) ** 2
    return (2 * mu_a * mu_b + c1) / (mu_a**2 + mu_b**2 + c1)


def ssim(a: torch.Tensor, b: torch.Tensor, window_size: int = 11, sigma: float = 1.5,
         data_range: float = 2.0) -> torch.Tensor:
    """Single-scale SSIM per image (valid windows only).

    Shape:
        ``a, b [N, C, H, W]`` with ``H, W >= window_size`` -> ``[N]``.
    """
    g = _gaussian_kernel(window_size, sigma, a.device, a.dtype)
    mu_a, mu_b, cs = _ssim_parts(a, b, g, data_range)
    return (_luminance(mu_a, mu_b, data_range) * cs).mean(dim=[1, 2, 3])


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
    g = _gaussian_kernel(window_size, sigma, a.device, a.dtype)
    values = []
    for scale in range(scales):
        mu_a, mu_b, cs = _ssim_parts(a, b, g, data_range)
        # relu keeps fractional powers defined; negative contrast-structure means no similarity.
        term = _luminance(mu_a, mu_b, data_range) * cs if scale == scales - 1 else cs
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

    Every map is penalised at its own resolution and at each 2x average-pooled octave down to 8x8.
    Maps meeting at one resolution (native or pooled) are stacked and handled by one set of ops, so
    the cost grows with the number of resolutions, not of maps.

    Shape:
        each map ``[N, 1, R, R]`` -> ``[N]``.
    """
    pending: Dict[int, List[torch.Tensor]] = {}  # resolution -> maps (native or pooled) at it
    for noise in noise_maps:
        pending.setdefault(noise.shape[2], []).append(noise)
    if not pending:
        raise ValueError("noise_regularization needs at least one noise map")
    total = None
    while pending:
        res = max(pending)
        v = torch.cat(pending.pop(res), dim=1)  # [N, k, R, R]
        term = ((v * torch.roll(v, shifts=1, dims=3)).mean(dim=[2, 3]).square().sum(dim=1)
                + (v * torch.roll(v, shifts=1, dims=2)).mean(dim=[2, 3]).square().sum(dim=1))  # [N]
        total = term if total is None else total + term
        if res > 8:
            pooled = F.avg_pool2d(v, kernel_size=2)  # [N, k, R/2, R/2]
            pending.setdefault(pooled.shape[2], []).append(pooled)
    return total


class NoiseRegularization(torch.nn.Module):
    """:func:`noise_regularization` as a module: ``forward(*noise_maps)`` -> ``[N]``.

    Shape:
        each map ``[N, 1, R, R]`` -> ``[N]``.
    """

    def forward(self, *noise_maps: torch.Tensor) -> torch.Tensor:
        return noise_regularization(noise_maps)


@torch.no_grad()
def normalize_noise_(noise_maps: Iterable[torch.Tensor]) -> None:
    """Give every map zero mean and unit variance per image, in place (after each optimiser step)."""
    for noise in noise_maps:
        noise.sub_(noise.mean(dim=[1, 2, 3], keepdim=True))
        noise.mul_(noise.square().mean(dim=[1, 2, 3], keepdim=True).rsqrt())
