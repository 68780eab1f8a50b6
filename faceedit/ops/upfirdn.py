"""Up-sample, FIR-filter, down-sample (``upfirdn2d``) in plain PyTorch.

The StyleGAN2 family resamples with a small low-pass FIR filter, by default the binomial
``[1, 3, 3, 1]`` taps. The general operation pads the input, inserts zeros to up-sample,
convolves with the 2-D filter and keeps every ``down``-th pixel. The common 2x up-sampling
case runs as a single depthwise transposed convolution, which is equivalent and faster.
"""

from __future__ import annotations

from typing import Sequence, Tuple, Union

import torch
import torch.nn.functional as F

__all__ = ["setup_filter", "upfirdn2d", "upsample2d", "downsample2d", "filter2d", "Upsample2d", "Downsample2d"]

Padding = Union[int, Sequence[int]]


def setup_filter(
    taps: Union[Sequence[float], torch.Tensor],
    normalize: bool = True,
    flip: bool = False,
    gain: float = 1.0,
    device: Union[str, torch.device, None] = None,
) -> torch.Tensor:
    """Build the 2-D FIR filter StyleGAN2 registers as ``resample_filter``.

    Args:
        taps: 1-D taps (the outer product with themselves is taken) or a 2-D filter.
        normalize: scale the filter so its elements sum to one.
        flip: flip the filter along both axes.
        gain: multiply the normalised filter by ``gain``.
        device: device of the result.

    Returns:
        Float32 tensor of shape ``[fh, fw]``. ``[1, 3, 3, 1]`` gives the ``4x4`` binomial filter
        whose elements sum to one (outer product divided by 64).
    """
    f = torch.as_tensor(taps, dtype=torch.float32, device=device)
    if f.ndim == 0:
        f = f.reshape(1)
    if f.ndim == 1:
        f = f.ger(f)  # [fh, fw]
    if f.ndim != 2 or f.numel() == 0:
        raise ValueError(f"a resampling filter must be 1-D or 2-D and non-empty, got shape {tuple(f.shape)}")
    if normalize:
        f = f / f.sum()
    if flip:
        f = f.flip([0, 1])
    return f * gain


def _pad4(padding: Padding) -> Tuple[int, int, int, int]:
    """Expand padding to ``(x0, x1, y0, y1)``."""
    if isinstance(padding, int):
        return padding, padding, padding, padding
    padding = [int(p) for p in padding]
    if len(padding) == 2:
        px, py = padding
        return px, px, py, py
    if len(padding) == 4:
        return padding[0], padding[1], padding[2], padding[3]
    raise ValueError(f"padding must be an int or 2 or 4 ints, got {padding!r}")


def upfirdn2d(
    x: torch.Tensor,
    f: torch.Tensor,
    up: int = 1,
    down: int = 1,
    padding: Padding = 0,
    flip_filter: bool = False,
    gain: float = 1.0,
) -> torch.Tensor:
    """Pad, up-sample by zero insertion, FIR-filter and down-sample a batch of images.

    Args:
        x: images, shape ``[N, C, H, W]``.
        f: 2-D filter ``[fh, fw]`` (as from :func:`setup_filter`).
        up: integer up-sampling factor.
        down: integer down-sampling factor.
        padding: ``int``, ``(px, py)`` or ``(x0, x1, y0, y1)``; applied after up-sampling;
            negative values crop.
        flip_filter: ``False`` convolves (flips the filter), ``True`` correlates.
        gain: overall scale of the filter (``up**2`` keeps the mean when up-sampling).

    Returns:
        Tensor ``[N, C, (H*up + y0 + y1 - fh) // down + 1, (W*up + x0 + x1 - fw) // down + 1]``.
    """
    if x.ndim != 4:
        raise ValueError(f"upfirdn2d expects [N, C, H, W] input, got shape {tuple(x.shape)}")
    n, c, h, w = x.shape
    px0, px1, py0, py1 = _pad4(padding)
    fh, fw = f.shape
    if up > 1:
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])  # zero after every pixel
        x = x.reshape(n, c, h * up, w * up)
    conv_padding = 0
    if px0 == px1 >= 0 and py0 == py1 >= 0:
        conv_padding = (py0, px0)  # symmetric: let the convolution pad, saving a copy of the input
    else:
        x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
        x = x[:, :, max(-py0, 0) : x.shape[2] - max(-py1, 0), max(-px0, 0) : x.shape[3] - max(-px1, 0)]
    kernel = f.to(x.dtype) * (gain ** (f.ndim / 2))
    if not flip_filter:
        kernel = kernel.flip([0, 1])
    kernel = kernel.reshape(1, 1, fh, fw).expand(c, 1, fh, fw).contiguous()  # [C, 1, fh, fw], depthwise
    x = F.conv2d(x, kernel, padding=conv_padding, groups=c)
    if down > 1:
        x = x[:, :, ::down, ::down]
    return x


def upsample2d(x: torch.Tensor, f: torch.Tensor, up: int = 2, padding: Padding = 0, gain: float = 1.0) -> torch.Tensor:
    """Up-sample by ``up`` with a FIR filter, keeping the image centred (``[N,C,H,W] -> [N,C,H*up,W*up]``).

    The filter is scaled by ``up**2`` times ``gain`` so a constant image keeps its value.
    """
    px0, px1, py0, py1 = _pad4(padding)
    fh, fw = f.shape
    pads = [px0 + (fw + up - 1) // 2, px1 + (fw - up) // 2, py0 + (fh + up - 1) // 2, py1 + (fh - up) // 2]
    if up > 1 and pads[0] == pads[2] and pads[1] == pads[3] and fh == fw:
        # Zero insertion followed by convolution equals a strided transposed convolution whose
        # padding is (fw - 1 - pad0); valid whenever that padding is non-negative and the
        # output size matches, which holds for every centred up-sampling.
        tpad = fw - 1 - pads[0]
        out_w = (x.shape[3] - 1) * up - 2 * tpad + fw
        if tpad >= 0 and out_w == x.shape[3] * up + pads[0] + pads[1] - fw + 1:
            c = x.shape[1]
            kernel = (f.to(x.dtype) * (gain * up * up)).reshape(1, 1, fh, fw).expand(c, 1, fh, fw)
            return F.conv_transpose2d(x, kernel, stride=up, padding=tpad, groups=c)
    return upfirdn2d(x, f, up=up, padding=pads, gain=gain * up * up)


def downsample2d(x: torch.Tensor, f: torch.Tensor, down: int = 2, padding: Padding = 0,
                 gain: float = 1.0) -> torch.Tensor:
    """Down-sample by ``down`` with a FIR filter (``[N,C,H,W] -> [N,C,H//down,W//down]``)."""
    px0, px1, py0, py1 = _pad4(padding)
    fh, fw = f.shape
    pads = [px0 + (fw - down + 1) // 2, px1 + (fw - down) // 2, py0 + (fh - down + 1) // 2, py1 + (fh - down) // 2]
    return upfirdn2d(x, f, down=down, padding=pads, gain=gain)


def filter2d(x: torch.Tensor, f: torch.Tensor, padding: Padding = 0, gain: float = 1.0) -> torch.Tensor:
    """Filter with a FIR filter, keeping the image size (``[N,C,H,W] -> [N,C,H,W]``)."""
    px0, px1, py0, py1 = _pad4(padding)
    fh, fw = f.shape
    pads = [px0 + fw // 2, px1 + (fw - 1) // 2, py0 + fh // 2, py1 + (fh - 1) // 2]
    return upfirdn2d(x, f, padding=pads, gain=gain)


class Upsample2d(torch.nn.Module):
    """Module form of :func:`upsample2d` with a registered filter buffer."""

    def __init__(
        self,
        taps: Sequence[float] = (1, 3, 3, 1),  # FIR taps (1-D, outer product taken) or a 2-D filter
        up: int = 2,  # up-sampling factor
    ):
        super().__init__()
        self.up = up
        self.register_buffer("resample_filter", setup_filter(list(taps)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upsample2d(x, self.resample_filter, up=self.up)


class Downsample2d(torch.nn.Module):
    """Module form of :func:`downsample2d` with a registered filter buffer."""

    def __init__(
        self,
        taps: Sequence[float] = (1, 3, 3, 1),  # FIR taps (1-D, outer product taken) or a 2-D filter
        down: int = 2,  # down-sampling factor
    ):
        super().__init__()
        self.down = down
        self.register_buffer("resample_filter", setup_filter(list(taps)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return downsample2d(x, self.resample_filter, down=self.down)
