"""StyleGAN2's discriminator (residual architecture), used only for training.

Parameter names follow NVIDIA's ``training.networks.Discriminator`` so a trained discriminator
can be compared with theirs. Its layers run in the dtype of their input; the trainer's
``precision='bf16'`` runs it under bfloat16 autocast (see ``BENCHMARKS.md`` for the speed-up).
"""

from __future__ import annotations

import math
from typing import Any, Dict, Mapping, Optional, Sequence

import torch

from faceedit.networks.layers import DEFAULT_RESAMPLE_FILTER, Conv2dLayer, FullyConnectedLayer
from faceedit.networks.mapping import MappingNetwork
from faceedit.ops.upfirdn import downsample2d, setup_filter

__all__ = ["Discriminator", "DiscriminatorBlock", "DiscriminatorEpilogue", "MinibatchStdLayer", "minibatch_std"]

ARCHITECTURES = ("orig", "skip", "resnet")


def minibatch_std(x: torch.Tensor, group_size: Optional[int] = 4, num_channels: int = 1) -> torch.Tensor:
    """Append the standard deviation across groups of samples as extra feature maps.

    Lets the discriminator see a batch's lack of variety (a symptom of mode collapse).

    Args:
        x: features ``[N, C, H, W]``; ``N`` must be a multiple of the group size.
        group_size: samples per group, None = the whole batch.
        num_channels: number of statistics channels (``C`` must be divisible by it).

    Returns:
        ``[N, C + num_channels, H, W]``.
    """
    N, C, H, W = x.shape
    G = min(group_size, N) if group_size is not None else N
    if N % G != 0:
        raise ValueError(f"batch size {N} is not a multiple of the minibatch-std group size {G}; "
                         f"use a batch size divisible by {G}")
    F = num_channels
    c = C // F
    y = x.reshape(G, -1, F, c, H, W)  # [G, n, F, c, H, W]
    y = y - y.mean(dim=0)  # deviation from the group mean
    y = y.square().mean(dim=0)  # [n, F, c, H, W] variance over the group
    y = (y + 1e-8).sqrt()
    y = y.mean(dim=[2, 3, 4])  # [n, F]
    y = y.reshape(-1, F, 1, 1).repeat(G, 1, H, W)  # [N, F, H, W]
    return torch.cat([x, y], dim=1)


class MinibatchStdLayer(torch.nn.Module):
    """Module form of :func:`minibatch_std`."""

    def __init__(
        self,
        group_size: Optional[int],  # samples per group, None = whole batch
        num_channels: int = 1,  # number of statistics channels
    ):
        super().__init__()
        self.group_size = group_size
        self.num_channels = num_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return minibatch_std(x, self.group_size, self.num_channels)


class DiscriminatorBlock(torch.nn.Module):
    """Two 3x3 convolutions, the second halving the resolution, with an optional residual path."""

    def __init__(
        self,
        in_channels: int,  # input channels, 0 = first block (reads the image)
        tmp_channels: int,  # channels between the two convolutions
        out_channels: int,  # output channels
        resolution: int,  # input resolution of this block
        img_channels: int,  # image channels
        architecture: str = "resnet",  # 'orig', 'skip' or 'resnet'
        activation: str = "lrelu",  # activation of the convolutions
        resample_filter: Optional[Sequence[float]] = None,  # FIR taps, None = [1, 3, 3, 1]
        conv_clamp: Optional[float] = None,  # clamp conv outputs to +-conv_clamp, None = no clamping
    ):
        super().__init__()
        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")
        if in_channels not in (0, tmp_channels):
            raise ValueError(f"in_channels must be 0 or tmp_channels ({tmp_channels}), got {in_channels}")
        filt = list(resample_filter or DEFAULT_RESAMPLE_FILTER)
        self.in_channels = in_channels
        self.resolution = resolution
        self.img_channels = img_channels
        self.architecture = architecture
        self.register_buffer("resample_filter", setup_filter(filt))
        if in_channels == 0 or architecture == "skip":
            self.fromrgb = Conv2dLayer(img_channels, tmp_channels, kernel_size=1, activation=activation,
                                       conv_clamp=conv_clamp)
        self.conv0 = Conv2dLayer(tmp_channels, tmp_channels, kernel_size=3, activation=activation,
                                 conv_clamp=conv_clamp)
        self.conv1 = Conv2dLayer(tmp_channels, out_channels, kernel_size=3, activation=activation, down=2,
                                 resample_filter=filt, conv_clamp=conv_clamp)
        if architecture == "resnet":
            self.skip = Conv2dLayer(tmp_channels, out_channels, kernel_size=1, bias=False, down=2,
                                    resample_filter=filt)

    def forward(self, x: Optional[torch.Tensor], img: Optional[torch.Tensor]):
        """``x [N, C_in, R, R]`` (None in the first block), ``img [N, img_channels, R, R]`` -> half resolution."""
        if self.in_channels == 0 or self.architecture == "skip":
            y = self.fromrgb(img)  # [N, tmp, R, R]
            x = x + y if x is not None else y
            img = downsample2d(img, self.resample_filter) if self.architecture == "skip" else None
        if self.architecture == "resnet":
            y = self.skip(x, gain=math.sqrt(0.5))  # [N, out, R/2, R/2]
            x = self.conv0(x)
            x = self.conv1(x, gain=math.sqrt(0.5))
            x = y + x
        else:
            x = self.conv0(x)
            x = self.conv1(x)
        return x, img


class DiscriminatorEpilogue(torch.nn.Module):
    """The 4x4 head: minibatch std, a conv, two dense layers, one logit (or a label projection)."""

    def __init__(
        self,
        in_channels: int,  # input channels
        cmap_dim: int,  # width of the mapped label, 0 = unconditional
        resolution: int,  # input resolution (4)
        img_channels: int,  # image channels
        architecture: str = "resnet",  # 'orig', 'skip' or 'resnet'
        mbstd_group_size: Optional[int] = 4,  # minibatch-std group size, None = whole batch
        mbstd_num_channels: int = 1,  # minibatch-std channels, 0 = no minibatch-std layer
        activation: str = "lrelu",  # activation of the hidden layers
        conv_clamp: Optional[float] = None,  # clamp conv outputs, None = no clamping
    ):
        super().__init__()
        self.in_channels = in_channels
        self.cmap_dim = cmap_dim
        self.resolution = resolution
        self.architecture = architecture
        if architecture == "skip":
            self.fromrgb = Conv2dLayer(img_channels, in_channels, kernel_size=1, activation=activation)
        self.mbstd = MinibatchStdLayer(mbstd_group_size, mbstd_num_channels) if mbstd_num_channels > 0 else None
        self.conv = Conv2dLayer(in_channels + mbstd_num_channels, in_channels, kernel_size=3, activation=activation,
                                conv_clamp=conv_clamp)
        self.fc = FullyConnectedLayer(in_channels * resolution**2, in_channels, activation=activation)
        self.out = FullyConnectedLayer(in_channels, 1 if cmap_dim == 0 else cmap_dim)

    def features(self, x: torch.Tensor, img: Optional[torch.Tensor]) -> torch.Tensor:
        """The penultimate features ``[N, in_channels]``."""
        if self.architecture == "skip":
            x = x + self.fromrgb(img)
        if self.mbstd is not None:
            x = self.mbstd(x)  # [N, C + F, 4, 4]
        x = self.conv(x)
        return self.fc(x.flatten(1))  # [N, C]

    def forward(self, x: torch.Tensor, img: Optional[torch.Tensor], cmap: Optional[torch.Tensor]) -> torch.Tensor:
        x = self.out(self.features(x, img))  # [N, 1] or [N, cmap_dim]
        if self.cmap_dim > 0:
            x = (x * cmap).sum(dim=1, keepdim=True) * (1 / math.sqrt(self.cmap_dim))  # [N, 1]
        return x


class Discriminator(torch.nn.Module):
    """StyleGAN2 discriminator: image (and label) to one realness logit per sample.

    Example:
        >>> D = Discriminator(c_dim=0, img_resolution=16, img_channels=3, channel_max=16)
        >>> D(torch.randn(4, 3, 16, 16), None).shape
        torch.Size([4, 1])
    """

    def __init__(
        self,
        c_dim: int,  # label dimensionality, 0 = unconditional
        img_resolution: int,  # input resolution, a power of two >= 8
        img_channels: int,  # input channels
        architecture: str = "resnet",  # 'orig', 'skip' or 'resnet'
        channel_base: int = 32768,  # channels at resolution r are min(channel_base // r, channel_max)
        channel_max: int = 512,  # maximum channels in any block
        conv_clamp: Optional[float] = None,  # clamp conv outputs, None = no clamping
        cmap_dim: Optional[int] = None,  # width of the mapped label, None = channels at 4x4
        mbstd_group_size: Optional[int] = 4,  # minibatch-std group size, None = whole batch
        mbstd_num_channels: int = 1,  # minibatch-std channels, 0 = none
        mapping_kwargs: Optional[Mapping[str, Any]] = None,  # label MappingNetwork options, None = defaults
    ):
        super().__init__()
        log2 = int(math.log2(img_resolution)) if img_resolution > 0 else 0
        if img_resolution < 8 or 2**log2 != img_resolution:
            raise ValueError(f"img_resolution must be a power of two >= 8, got {img_resolution}")
        self.c_dim = c_dim
        self.img_resolution = img_resolution
        self.img_channels = img_channels
        self.config: Dict[str, Any] = dict(
            c_dim=c_dim, img_resolution=img_resolution, img_channels=img_channels, architecture=architecture,
            channel_base=channel_base, channel_max=channel_max, conv_clamp=conv_clamp, cmap_dim=cmap_dim,
            mbstd_group_size=mbstd_group_size, mbstd_num_channels=mbstd_num_channels,
            mapping_kwargs=dict(mapping_kwargs or {}))
        self.block_resolutions = [2**i for i in range(log2, 2, -1)]
        channels = {res: min(channel_base // res, channel_max) for res in self.block_resolutions + [4]}
        if cmap_dim is None:
            cmap_dim = channels[4]
        if c_dim == 0:
            cmap_dim = 0
        common = dict(img_channels=img_channels, architecture=architecture, conv_clamp=conv_clamp)
        for res in self.block_resolutions:
            in_channels = channels[res] if res < img_resolution else 0
            block = DiscriminatorBlock(in_channels, channels[res], channels[res // 2], resolution=res, **common)
            setattr(self, f"b{res}", block)
        if c_dim > 0:
            self.mapping = MappingNetwork(z_dim=0, c_dim=c_dim, w_dim=cmap_dim, num_ws=None, w_avg_beta=None,
                                          **dict(mapping_kwargs or {}))
        self.b4 = DiscriminatorEpilogue(channels[4], cmap_dim=cmap_dim, resolution=4, mbstd_group_size=mbstd_group_size,
                                        mbstd_num_channels=mbstd_num_channels, **common)

    def _trunk(self, img: torch.Tensor):
        if img.ndim != 4 or img.shape[1:] != (self.img_channels, self.img_resolution, self.img_resolution):
            raise ValueError(f"images must have shape [N, {self.img_channels}, {self.img_resolution}, "
                             f"{self.img_resolution}], got {tuple(img.shape)}")
        x = None
        for res in self.block_resolutions:
            x, img = getattr(self, f"b{res}")(x, img)
        return x, img  # [N, C4, 4, 4]

    def forward(self, img: torch.Tensor, c: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Realness logits ``[N, 1]`` for images ``[N, img_channels, H, W]`` in [-1, 1]."""
        x, img = self._trunk(img)
        cmap = self.mapping(None, c) if self.c_dim > 0 else None  # [N, cmap_dim]
        return self.b4(x, img, cmap)
