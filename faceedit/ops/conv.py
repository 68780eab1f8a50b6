"""Convolution with FIR resampling, and StyleGAN2's modulated convolution.

``conv2d_resample`` is a 2-D convolution combined with up- or down-sampling through a FIR
filter, laid out so the expensive convolution always runs at the lower resolution (a strided
transposed convolution when up-sampling). ``modulated_conv2d`` scales the weights per sample by
a style vector and optionally demodulates them, as in StyleGAN2.
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F

from faceedit.ops.upfirdn import Padding, _pad4, upfirdn2d, upsample2d

__all__ = ["conv2d_resample", "modulated_conv2d", "ModulatedConv2d"]


def _conv(
    x: torch.Tensor,
    w: torch.Tensor,
    stride: int = 1,
    padding: Union[int, Sequence[int]] = 0,
    groups: int = 1,
    transpose: bool = False,
    flip_weight: bool = True,
) -> torch.Tensor:
    # PyTorch's conv2d is a correlation: flip_weight=True keeps the weight as it is.
    if not flip_weight:
        w = w.flip([2, 3])
    if transpose:
        return F.conv_transpose2d(x, w, stride=stride, padding=padding, groups=groups)
    return F.conv2d(x, w, stride=stride, padding=padding, groups=groups)


def conv2d_resample(
    x: torch.Tensor,
    w: torch.Tensor,
    f: Optional[torch.Tensor] = None,
    up: int = 1,
    down: int = 1,
    padding: Padding = 0,
    groups: int = 1,
    flip_weight: bool = True,
    flip_filter: bool = False,
) -> torch.Tensor:
    """2-D convolution with optional FIR up-/down-sampling.

    Args:
        x: input ``[N, C_in, H, W]``.
        w: weight ``[C_out, C_in // groups, kh, kw]``.
        f: 2-D FIR filter ``[fh, fw]``; required when ``up > 1`` or ``down > 1``.
        up: up-sampling factor.
        down: down-sampling factor.
        padding: padding of the (up-sampled) input, ``int``, ``(px, py)`` or ``(x0, x1, y0, y1)``.
        groups: convolution groups.
        flip_weight: ``True`` correlates (like ``torch.nn.functional.conv2d``), ``False`` convolves.
        flip_filter: ``False`` convolves with ``f``, ``True`` correlates.

    Returns:
        ``[N, C_out, H', W']`` with ``H' = (H * up + y0 + y1 - kh + 1) // down`` (same for width).
    """
    out_channels, in_per_group, kh, kw = w.shape
    if (up > 1 or down > 1) and f is None:
        raise ValueError("conv2d_resample needs a FIR filter f when up > 1 or down > 1")
    fh, fw = (f.shape[0], f.shape[1]) if f is not None else (1, 1)
    px0, px1, py0, py1 = _pad4(padding)

    # Fold the filter's support into the padding.
    if up > 1:
        px0 += (fw + up - 1) // 2
        px1 += (fw - up) // 2
        py0 += (fh + up - 1) // 2
        py1 += (fh - up) // 2
    if down > 1:
        px0 += (fw - down + 1) // 2
        px1 += (fw - down) // 2
        py0 += (fh - down + 1) // 2
        py1 += (fh - down) // 2

    if kw == 1 and kh == 1 and down > 1 and up == 1:
        # 1x1 kernel: filter and decimate first, then the cheap convolution.
        x = upfirdn2d(x, f, down=down, padding=[px0, px1, py0, py1], flip_filter=flip_filter)
        return _conv(x, w, groups=groups, flip_weight=flip_weight)
    if kw == 1 and kh == 1 and up > 1 and down == 1:
        # 1x1 kernel: convolve at the low resolution, then up-sample.
        x = _conv(x, w, groups=groups, flip_weight=flip_weight)
        if not flip_filter:
            return upsample2d(x, f, up=up, padding=padding)
        return upfirdn2d(x, f, up=up, padding=[px0, px1, py0, py1], gain=up**2, flip_filter=flip_filter)
    if down > 1 and up == 1:
        # Low-pass, then a strided convolution does the decimation.
        x = upfirdn2d(x, f, padding=[px0, px1, py0, py1], flip_filter=flip_filter)
        return _conv(x, w, stride=down, groups=groups, flip_weight=flip_weight)
    if up > 1:
        # Strided transposed convolution, then the FIR filter removes the aliasing images.
        if groups == 1:
            w = w.transpose(0, 1)  # [C_in, C_out, kh, kw]
        else:
            w = w.reshape(groups, out_channels // groups, in_per_group, kh, kw)
            w = w.transpose(1, 2)
            w = w.reshape(groups * in_per_group, out_channels // groups, kh, kw)
        px0 -= kw - 1
        px1 -= kw - up
        py0 -= kh - 1
        py1 -= kh - up
        pxt = max(min(-px0, -px1), 0)
        pyt = max(min(-py0, -py1), 0)
        x = _conv(x, w, stride=up, padding=[pyt, pxt], groups=groups, transpose=True, flip_weight=not flip_weight)
        x = upfirdn2d(x, f, padding=[px0 + pxt, px1 + pxt, py0 + pyt, py1 + pyt], gain=up**2, flip_filter=flip_filter)
        if down > 1:
            x = upfirdn2d(x, f, down=down, flip_filter=flip_filter)
        return x
    if px0 == px1 and py0 == py1 and px0 >= 0 and py0 >= 0:
        return _conv(x, w, padding=[py0, px0], groups=groups, flip_weight=flip_weight)
    # General case: explicit padding (possibly negative) through upfirdn2d.
    x = upfirdn2d(x, f if f is not None else x.new_ones(1, 1), up=up, padding=[px0, px1, py0, py1],
                  gain=up**2, flip_filter=flip_filter)
    x = _conv(x, w, groups=groups, flip_weight=flip_weight)
    if down > 1:
        x = upfirdn2d(x, f, down=down, flip_filter=flip_filter)
    return x


def modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    noise: Optional[torch.Tensor] = None,
    up: int = 1,
    down: int = 1,
    padding: Padding = 0,
    resample_filter: Optional[torch.Tensor] = None,
    demodulate: bool = True,
    flip_weight: bool = True,
    fused_modconv: bool = True,
) -> torch.Tensor:
    """StyleGAN2's modulated (and demodulated) convolution.

    Each sample ``n`` is convolved with ``weight * styles[n]`` (scaling input channels); with
    ``demodulate`` the result is normalised so every output channel has unit expected variance.

    Args:
        x: input ``[N, C_in, H, W]``.
        weight: shared weight ``[C_out, C_in, kh, kw]``.
        styles: per-sample scales of the input channels ``[N, C_in]``.
        noise: added after the convolution, broadcastable to the output (``[N, 1, H', W']`` or ``[H', W']``).
        up, down, padding, resample_filter, flip_weight: as in :func:`conv2d_resample`.
        demodulate: normalise each output channel.
        fused_modconv: ``True`` builds per-sample weights and runs one grouped convolution;
            ``False`` scales activations before and after a shared-weight convolution. Both give
            the same result up to float rounding; which one is faster depends on device and batch.

    Returns:
        ``[N, C_out, H', W']`` in the dtype of ``x``.
    """
    batch_size = x.shape[0]
    out_channels, in_channels, kh, kw = weight.shape
    if styles.shape != (batch_size, in_channels):
        raise ValueError(f"styles must have shape [{batch_size}, {in_channels}], got {tuple(styles.shape)}")

    if x.dtype == torch.float16 and demodulate:
        # Pre-normalise so the per-sample weights cannot overflow in half precision;
        # demodulation removes the scale again.
        weight = weight * (1 / (in_channels * kh * kw) ** 0.5 / weight.norm(float("inf"), dim=[1, 2, 3], keepdim=True))
        styles = styles / styles.norm(float("inf"), dim=1, keepdim=True)

    w = None
    dcoefs = None
    if demodulate or fused_modconv:
        w = weight.unsqueeze(0) * styles.reshape(batch_size, 1, -1, 1, 1)  # [N, C_out, C_in, kh, kw]
    if demodulate:
        dcoefs = (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()  # [N, C_out]
    if demodulate and fused_modconv:
        w = w * dcoefs.reshape(batch_size, -1, 1, 1, 1)  # [N, C_out, C_in, kh, kw]

    if not fused_modconv:
        x = x * styles.to(x.dtype).reshape(batch_size, -1, 1, 1)
        x = conv2d_resample(x, weight.to(x.dtype), f=resample_filter, up=up, down=down, padding=padding,
                            flip_weight=flip_weight)
        if demodulate and noise is not None:
            x = torch.addcmul(noise.to(x.dtype), x, dcoefs.to(x.dtype).reshape(batch_size, -1, 1, 1))
        elif demodulate:
            x = x * dcoefs.to(x.dtype).reshape(batch_size, -1, 1, 1)
        elif noise is not None:
            x = x + noise.to(x.dtype)
        return x

    # One grouped convolution: the batch becomes the group dimension.
    x = x.reshape(1, -1, *x.shape[2:])  # [1, N*C_in, H, W]
    w = w.reshape(-1, in_channels, kh, kw)  # [N*C_out, C_in, kh, kw]
    x = conv2d_resample(x, w.to(x.dtype), f=resample_filter, up=up, down=down, padding=padding,
                        groups=batch_size, flip_weight=flip_weight)
    x = x.reshape(batch_size, -1, *x.shape[2:])  # [N, C_out, H', W']
    if noise is not None:
        x = x.add_(noise.to(x.dtype))  # x is the convolution's fresh output; add needs no saved input
    return x


class ModulatedConv2d(torch.nn.Module):
    """Module form of :func:`modulated_conv2d` with fixed resampling settings (weights passed in)."""

    def __init__(
        self,
        up: int = 1,  # up-sampling factor
        padding: int = 0,  # padding of the (up-sampled) input
        demodulate: bool = True,  # normalise each output channel
        taps: Sequence[float] = (1, 3, 3, 1),  # FIR taps used when up > 1
    ):
        super().__init__()
        from faceedit.ops.upfirdn import setup_filter

        self.up, self.padding, self.demodulate = up, padding, demodulate
        self.register_buffer("resample_filter", setup_filter(list(taps)))

    def forward(self, x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor,
                noise: Optional[torch.Tensor] = None) -> torch.Tensor:
        return modulated_conv2d(x, weight, styles, noise=noise, up=self.up, padding=self.padding,
                                resample_filter=self.resample_filter, demodulate=self.demodulate,
                                flip_weight=self.up == 1, fused_modconv=not self.training)
