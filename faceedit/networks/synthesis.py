"""StyleGAN2's synthesis network: ``ws [N, num_ws, w_dim]`` to images ``[N, C, H, W]``.

Three architectures, as NVIDIA's code writes them:

* ``orig``   - plain stack of blocks; only the last block converts features to RGB.
* ``skip``   - every block has a ToRGB layer; the image is up-sampled and summed (the default).
* ``resnet`` - blocks add a 1x1 up-sampling skip connection; only the last block has ToRGB.

Blocks at the highest ``num_fp16_res`` resolutions may run in float16 on CUDA; on other
devices (and with ``force_fp32``) everything runs in float32.
"""

from __future__ import annotations

import math
from typing import Dict, Mapping, Optional, Sequence

import torch

from faceedit.networks.layers import DEFAULT_RESAMPLE_FILTER, Conv2dLayer, FullyConnectedLayer
from faceedit.ops.bias_act import bias_act, get_activation
from faceedit.ops.conv import modulated_conv2d
from faceedit.ops.upfirdn import setup_filter, upsample2d

__all__ = ["SynthesisLayer", "ToRGBLayer", "SynthesisBlock", "SynthesisNetwork", "ARCHITECTURES", "NOISE_MODES"]

ARCHITECTURES = ("orig", "skip", "resnet")
NOISE_MODES = ("const", "random", "none")


class SynthesisLayer(torch.nn.Module):
    """Modulated 3x3 convolution with per-pixel noise, bias and activation."""

    def __init__(
        self,
        in_channels: int,  # number of input channels
        out_channels: int,  # number of output channels
        w_dim: int,  # dimensionality of w
        resolution: int,  # output resolution of this layer
        kernel_size: int = 3,  # convolution kernel size
        up: int = 1,  # up-sampling factor (2 for the first layer of a block)
        use_noise: bool = True,  # add per-pixel noise
        activation: str = "lrelu",  # activation name
        resample_filter: Optional[Sequence[float]] = None,  # FIR taps, None = [1, 3, 3, 1]
        conv_clamp: Optional[float] = None,  # clamp outputs to +-conv_clamp, None = no clamping
        channels_last: bool = False,  # store the weight in channels-last memory format
    ):
        super().__init__()
        self.resolution = resolution
        self.up = up
        self.use_noise = use_noise
        self.activation = activation
        self.conv_clamp = conv_clamp
        self.register_buffer("resample_filter", setup_filter(list(resample_filter or DEFAULT_RESAMPLE_FILTER)))
        self.padding = kernel_size // 2
        self.act_gain = get_activation(activation).def_gain

        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.weight = torch.nn.Parameter(
            torch.randn([out_channels, in_channels, kernel_size, kernel_size]).to(memory_format=memory_format))
        if use_noise:
            self.register_buffer("noise_const", torch.randn([resolution, resolution]))
            self.noise_strength = torch.nn.Parameter(torch.zeros([]))
        self.bias = torch.nn.Parameter(torch.zeros([out_channels]))

    def forward(
        self,
        x: torch.Tensor,  # [N, C_in, R / up, R / up]
        w: torch.Tensor,  # [N, w_dim]
        noise_mode: str = "random",
        fused_modconv: bool = True,
        gain: float = 1.0,
        noise_input: Optional[torch.Tensor] = None,  # [N, 1, R, R] or [R, R] noise to use, None = by noise_mode
    ) -> torch.Tensor:  # [N, C_out, R, R]
        styles = self.affine(w)  # [N, C_in]
        noise = None
        if self.use_noise and noise_input is not None:
            noise = noise_input.to(x.dtype) * self.noise_strength
        elif self.use_noise and noise_mode == "random":
            noise = torch.randn([x.shape[0], 1, self.resolution, self.resolution], device=x.device)
            noise = noise * self.noise_strength
        elif self.use_noise and noise_mode == "const":
            noise = self.noise_const * self.noise_strength  # [R, R]
        x = modulated_conv2d(x, self.weight, styles, noise=noise, up=self.up, padding=self.padding,
                             resample_filter=self.resample_filter, flip_weight=self.up == 1,
                             fused_modconv=fused_modconv)
        act_clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        # x is the convolution's fresh output, so it may be overwritten when no gradient is recorded.
        return bias_act(x, self.bias.to(x.dtype), act=self.activation, gain=self.act_gain * gain, clamp=act_clamp,
                        inplace=True)


class ToRGBLayer(torch.nn.Module):
    """Modulated 1x1 convolution (no demodulation) from features to image channels."""

    def __init__(
        self,
        in_channels: int,  # number of input feature channels
        out_channels: int,  # number of image channels
        w_dim: int,  # dimensionality of w
        kernel_size: int = 1,  # convolution kernel size
        conv_clamp: Optional[float] = None,  # clamp outputs to +-conv_clamp, None = no clamping
        channels_last: bool = False,  # store the weight in channels-last memory format
    ):
        super().__init__()
        self.conv_clamp = conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.weight = torch.nn.Parameter(
            torch.randn([out_channels, in_channels, kernel_size, kernel_size]).to(memory_format=memory_format))
        self.bias = torch.nn.Parameter(torch.zeros([out_channels]))
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size**2)

    def forward(self, x: torch.Tensor, w: torch.Tensor, fused_modconv: bool = True) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain  # [N, C_in]
        x = modulated_conv2d(x, self.weight, styles, demodulate=False, fused_modconv=fused_modconv)
        return bias_act(x, self.bias.to(x.dtype), clamp=self.conv_clamp, inplace=True)


class SynthesisBlock(torch.nn.Module):
    """One resolution of the synthesis network: (up-sampling conv), conv, and ToRGB / skip."""

    def __init__(
        self,
        in_channels: int,  # input channels, 0 = first block (starts from a learned constant)
        out_channels: int,  # output channels
        w_dim: int,  # dimensionality of w
        resolution: int,  # resolution of this block
        img_channels: int,  # number of image channels
        is_last: bool,  # the block at the output resolution
        architecture: str = "skip",  # 'orig', 'skip' or 'resnet'
        resample_filter: Optional[Sequence[float]] = None,  # FIR taps, None = [1, 3, 3, 1]
        conv_clamp: Optional[float] = None,  # clamp conv outputs to +-conv_clamp, None = no clamping
        use_fp16: bool = False,  # run this block in float16 (CUDA only)
        fp16_channels_last: bool = False,  # use channels-last memory format when in float16
        fused_modconv_default: object = True,  # accepted for stylegan3-era pickles; fusing is chosen at run time
        kernel_size: int = 3,  # kernel size of the convolutions
        use_noise: bool = True,  # add per-pixel noise
        activation: str = "lrelu",  # activation of the convolutions
    ):
        super().__init__()
        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")
        self.in_channels = in_channels
        self.w_dim = w_dim
        self.resolution = resolution
        self.img_channels = img_channels
        self.is_last = is_last
        self.architecture = architecture
        self.use_fp16 = use_fp16
        self.channels_last = use_fp16 and fp16_channels_last
        self.register_buffer("resample_filter", setup_filter(list(resample_filter or DEFAULT_RESAMPLE_FILTER)))
        self.num_conv = 0
        self.num_torgb = 0
        layer_kwargs = dict(kernel_size=kernel_size, use_noise=use_noise, activation=activation)

        if in_channels == 0:
            self.const = torch.nn.Parameter(torch.randn([out_channels, resolution, resolution]))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim=w_dim, resolution=resolution, up=2,
                                        resample_filter=resample_filter, conv_clamp=conv_clamp,
                                        channels_last=self.channels_last, **layer_kwargs)
            self.num_conv += 1
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim=w_dim, resolution=resolution,
                                    conv_clamp=conv_clamp, channels_last=self.channels_last, **layer_kwargs)
        self.num_conv += 1
        if is_last or architecture == "skip":
            self.torgb = ToRGBLayer(out_channels, img_channels, w_dim=w_dim, conv_clamp=conv_clamp,
                                    channels_last=self.channels_last)
            self.num_torgb += 1
        if in_channels != 0 and architecture == "resnet":
            self.skip = Conv2dLayer(in_channels, out_channels, kernel_size=1, bias=False, up=2,
                                    resample_filter=resample_filter, channels_last=self.channels_last)

    def forward(
        self,
        x: Optional[torch.Tensor],  # [N, C_in, R/2, R/2], None for the first block
        img: Optional[torch.Tensor],  # [N, img_channels, R/2, R/2] or None
        ws: torch.Tensor,  # [N, num_conv + num_torgb, w_dim]
        force_fp32: bool = True,
        fused_modconv: Optional[bool] = None,
        noise_mode: str = "random",
        noise: Optional[Mapping[str, torch.Tensor]] = None,  # 'b{R}.conv0' / 'b{R}.conv1' -> noise map
    ):
        w_iter = iter(ws.unbind(dim=1))
        noise = noise or {}
        conv0_noise, conv1_noise = noise.get(f"b{self.resolution}.conv0"), noise.get(f"b{self.resolution}.conv1")
        dtype = torch.float16 if self.use_fp16 and not force_fp32 else torch.float32
        memory_format = torch.channels_last if self.channels_last and not force_fp32 else torch.contiguous_format
        if fused_modconv is None:
            # One grouped conv per layer beats scaling activations whenever no gradient flows.
            fused_modconv = (not self.training) and (dtype == torch.float32 or ws.shape[0] == 1)

        if self.in_channels == 0:
            x = self.const.to(dtype=dtype, memory_format=memory_format)
            x = x.unsqueeze(0).repeat([ws.shape[0], 1, 1, 1])  # [N, C, 4, 4]
        else:
            x = x.to(dtype=dtype, memory_format=memory_format)

        layer = dict(noise_mode=noise_mode, fused_modconv=fused_modconv)
        if self.in_channels == 0:
            x = self.conv1(x, next(w_iter), noise_input=conv1_noise, **layer)
        elif self.architecture == "resnet":
            y = self.skip(x, gain=math.sqrt(0.5))
            x = self.conv0(x, next(w_iter), noise_input=conv0_noise, **layer)
            x = self.conv1(x, next(w_iter), noise_input=conv1_noise, gain=math.sqrt(0.5), **layer)
            x = y + x
        else:
            x = self.conv0(x, next(w_iter), noise_input=conv0_noise, **layer)
            x = self.conv1(x, next(w_iter), noise_input=conv1_noise, **layer)

        if img is not None:
            img = upsample2d(img, self.resample_filter)  # [N, img_channels, R, R]
        if self.is_last or self.architecture == "skip":
            y = self.torgb(x, next(w_iter), fused_modconv=fused_modconv)
            y = y.to(dtype=torch.float32, memory_format=torch.contiguous_format)
            img = img + y if img is not None else y
        return x, img


class SynthesisNetwork(torch.nn.Module):
    """Stack of synthesis blocks from 4x4 to ``img_resolution``."""

    def __init__(
        self,
        w_dim: int,  # dimensionality of w
        img_resolution: int,  # output resolution, a power of two >= 4
        img_channels: int,  # number of image channels
        channel_base: int = 32768,  # channels at resolution r are min(channel_base // r, channel_max)
        channel_max: int = 512,  # maximum channels in any block
        num_fp16_res: int = 0,  # number of highest resolutions that may run in float16 (CUDA only)
        architecture: str = "skip",  # 'orig', 'skip' or 'resnet'
        resample_filter: Optional[Sequence[float]] = None,  # FIR taps, None = [1, 3, 3, 1]
        conv_clamp: Optional[float] = None,  # clamp conv outputs to +-conv_clamp, None = no clamping
        fp16_channels_last: bool = False,  # channels-last memory format in float16 blocks
        fused_modconv_default: object = True,  # accepted for stylegan3-era pickles; chosen at run time
        kernel_size: int = 3,  # kernel size of the convolutions
        use_noise: bool = True,  # add per-pixel noise
        activation: str = "lrelu",  # activation of the convolutions
    ):
        super().__init__()
        if img_resolution < 4 or img_resolution & (img_resolution - 1) != 0:
            raise ValueError(f"img_resolution must be a power of two >= 4, got {img_resolution}")
        self.w_dim = w_dim
        self.img_resolution = img_resolution
        self.img_resolution_log2 = int(math.log2(img_resolution))
        self.img_channels = img_channels
        self.num_fp16_res = num_fp16_res
        self.block_resolutions = [2**i for i in range(2, self.img_resolution_log2 + 1)]
        channels = {res: min(channel_base // res, channel_max) for res in self.block_resolutions}
        fp16_resolution = max(2 ** (self.img_resolution_log2 + 1 - num_fp16_res), 8)

        self.num_ws = 0
        for res in self.block_resolutions:
            in_channels = channels[res // 2] if res > 4 else 0
            is_last = res == self.img_resolution
            block = SynthesisBlock(in_channels, channels[res], w_dim=w_dim, resolution=res, img_channels=img_channels,
                                   is_last=is_last, architecture=architecture, resample_filter=resample_filter,
                                   conv_clamp=conv_clamp, use_fp16=res >= fp16_resolution,
                                   fp16_channels_last=fp16_channels_last, kernel_size=kernel_size,
                                   use_noise=use_noise, activation=activation)
            self.num_ws += block.num_conv
            if is_last:
                self.num_ws += block.num_torgb
            setattr(self, f"b{res}", block)

    def forward(
        self,
        ws: torch.Tensor,  # [N, num_ws, w_dim]; rows may differ (W+)
        noise_mode: str = "const",
        force_fp32: Optional[bool] = None,
        fused_modconv: Optional[bool] = None,
        noise: Optional[Mapping[str, torch.Tensor]] = None,
    ) -> torch.Tensor:  # [N, img_channels, H, W], NVIDIA's scale (about [-1, 1])
        """Render images from per-layer latents.

        Args:
            ws: latents ``[N, num_ws, w_dim]``; a single ``[N, w_dim]`` is broadcast to all rows.
            noise_mode: ``'const'`` uses the stored noise maps (deterministic), ``'random'`` draws
                fresh noise, ``'none'`` adds no noise.
            force_fp32: run float16 blocks in float32; None = float16 only on CUDA.
            fused_modconv: grouped-conv modulation; None = choose by mode and dtype.
            noise: per-layer noise maps (``[N, 1, R, R]`` or ``[R, R]``) keyed as :meth:`noise_layers`
                names them; they replace ``noise_mode`` for those layers (projection optimises them).
        """
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        if noise:
            unknown = sorted(set(noise) - set(self.noise_layers()))
            if unknown:
                raise ValueError(f"no noise input named {unknown[0]!r}; this network has "
                                 f"{', '.join(self.noise_layers())}")
        if ws.ndim == 2:
            ws = ws.unsqueeze(1).expand(-1, self.num_ws, -1)
        if ws.ndim != 3 or ws.shape[1] != self.num_ws or ws.shape[2] != self.w_dim:
            raise ValueError(f"ws must have shape [N, {self.num_ws}, {self.w_dim}], got {tuple(ws.shape)}")
        if force_fp32 is None:
            force_fp32 = ws.device.type != "cuda"
        ws = ws.to(torch.float32)
        x = img = None
        w_idx = 0
        for res in self.block_resolutions:
            block = getattr(self, f"b{res}")
            # A block's ToRGB shares its row with the next block's first conv.
            block_ws = ws.narrow(1, w_idx, block.num_conv + block.num_torgb)
            w_idx += block.num_conv
            x, img = block(x, img, block_ws, force_fp32=force_fp32, fused_modconv=fused_modconv, noise_mode=noise_mode,
                           noise=noise)
        return img

    def noise_layers(self) -> Dict[str, int]:
        """Names of the layers that take noise (``'b4.conv1'``, ``'b8.conv0'``, ...) and their resolutions."""
        layers = {}
        for res in self.block_resolutions:
            block = getattr(self, f"b{res}")
            for name in ("conv0", "conv1"):
                layer = getattr(block, name, None)
                if layer is not None and layer.use_noise:
                    layers[f"b{res}.{name}"] = layer.resolution
        return layers
