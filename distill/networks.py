"""Pix2PixHD (Wang et al. 2018) in modern PyTorch: global generator, local enhancer, multi-scale PatchGAN.

Our own implementation of the published architecture:

* :class:`GlobalGenerator` — 7x7 stem, ``n_downsampling`` stride-2 convolutions, ``n_blocks``
  residual blocks, transposed-convolution upsampling, 7x7 output with tanh; instance norm and
  reflection padding. With ``residual=True`` it predicts a change added to the input image, which
  keeps identity and background by construction. With ``skips=True`` (our addition, U-Net-like) each
  encoder scale's features reach the decoder at the same scale through a 1x1 convolution, so the change
  can follow the input's edges instead of being painted from the bottleneck alone.
* :class:`LocalEnhancer` — wraps a global generator that runs at half resolution and adds a
  full-resolution front end and back end (for twice the global generator's resolution).
* :class:`MultiscaleDiscriminator` — ``num_d`` PatchGAN discriminators on the input downsampled
  1, 2, 4, ... times, each returning its intermediate features for the feature-matching loss.
"""

from __future__ import annotations

from typing import List, Optional

import torch
import torch.nn.functional as F

__all__ = ["GlobalGenerator", "LocalEnhancer", "MultiscaleDiscriminator", "NLayerDiscriminator", "build_generator",
           "lsgan_loss", "feature_matching_loss"]


def _norm(channels: int) -> torch.nn.Module:
    return torch.nn.InstanceNorm2d(channels, affine=False)


def _zero_conv1x1(channels: int) -> torch.nn.Conv2d:
    """A 1x1 convolution whose output starts at zero (a new path that changes nothing until it is trained)."""
    conv = torch.nn.Conv2d(channels, channels, 1)
    torch.nn.init.zeros_(conv.weight)
    torch.nn.init.zeros_(conv.bias)
    return conv


class ResnetBlock(torch.nn.Module):
    """Two reflection-padded 3x3 convolutions with instance norm and a skip connection."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.ReflectionPad2d(1), torch.nn.Conv2d(channels, channels, 3), _norm(channels), torch.nn.ReLU(True),
            torch.nn.ReflectionPad2d(1), torch.nn.Conv2d(channels, channels, 3), _norm(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class GlobalGenerator(torch.nn.Module):
    """Image-to-image generator ``[N, C_in, H, W] -> [N, C_out, H, W]``, values in [-1, 1]."""

    def __init__(
        self,
        input_nc: int = 3,  # input channels
        output_nc: int = 3,  # output channels
        ngf: int = 64,  # channels after the stem (doubling with every downsampling)
        n_downsampling: int = 3,  # stride-2 convolutions; H and W must be divisible by 2**n_downsampling
        n_blocks: int = 9,  # residual blocks at the bottleneck
        max_channels: int = 1024,  # cap on channels
        residual: bool = True,  # predict a change added to the input (input_nc == output_nc)
        skips: bool = False,  # add each encoder scale's features to the decoder's at that scale (1x1 convolutions
        # starting at zero: with them a filter trained without skips computes exactly what it did)
    ):
        super().__init__()
        if residual and input_nc != output_nc:
            raise ValueError("residual=True needs input_nc == output_nc")
        self.residual = residual
        self.n_downsampling = n_downsampling
        layers: List[torch.nn.Module] = [torch.nn.ReflectionPad2d(3), torch.nn.Conv2d(input_nc, ngf, 7), _norm(ngf),
                                         torch.nn.ReLU(True)]
        channels = ngf
        encoder_channels = [ngf]  # channels of the stem and of each downsampling's output, full resolution first
        for _ in range(n_downsampling):
            out = min(channels * 2, max_channels)
            layers += [torch.nn.Conv2d(channels, out, 3, stride=2, padding=1), _norm(out), torch.nn.ReLU(True)]
            channels = out
            encoder_channels.append(out)
        # front[i] after which an encoder scale's features are taken: the stem's ReLU, then each downsampling's
        # but the last (whose output is the bottleneck itself)
        self._taps = [3 + 3 * k for k in range(n_downsampling)]
        layers += [ResnetBlock(channels) for _ in range(n_blocks)]
        self.front = torch.nn.Sequential(*layers)
        up: List[torch.nn.Module] = []
        for i in range(n_downsampling):
            out = min(ngf * 2 ** (n_downsampling - i - 1), max_channels)
            up += [torch.nn.ConvTranspose2d(channels, out, 3, stride=2, padding=1, output_padding=1), _norm(out),
                   torch.nn.ReLU(True)]
            channels = out
        self.up = torch.nn.Sequential(*up)
        self.skip: Optional[torch.nn.ModuleList] = None
        if skips:
            # decoder stage i ends at the resolution of encoder scale n_downsampling - 1 - i
            self.skip = torch.nn.ModuleList(
                _zero_conv1x1(encoder_channels[n_downsampling - 1 - i]) for i in range(n_downsampling))
        self.last = torch.nn.Sequential(torch.nn.ReflectionPad2d(3), torch.nn.Conv2d(channels, output_nc, 7))
        self.features_nc = channels

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Full-resolution features before the output convolution ``[N, ngf, H, W]`` (for the local enhancer)."""
        if self.skip is None:
            return self.up(self.front(x))
        taps = []
        for index, layer in enumerate(self.front):
            x = layer(x)
            if index in self._taps:
                taps.append(x)  # [N, C_k, H / 2^k, W / 2^k]
        for stage, skip in enumerate(self.skip):
            for layer in self.up[3 * stage:3 * stage + 3]:  # transposed convolution, norm, ReLU
                x = layer(x)
            x = x + skip(taps[-1 - stage])  # [N, C, H', W']: the encoder's features at the same scale
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.last(self.features(x))  # [N, C_out, H, W]
        return (x + out).clamp(-1, 1) if self.residual else torch.tanh(out)


class LocalEnhancer(torch.nn.Module):
    """Pix2PixHD's local enhancer: a global generator on the half-resolution input plus a full-resolution branch."""

    def __init__(
        self,
        input_nc: int = 3,
        output_nc: int = 3,
        ngf: int = 32,  # channels of the full-resolution branch (the global generator gets 2 * ngf)
        n_downsampling_global: int = 3,
        n_blocks_global: int = 9,
        n_blocks_local: int = 3,  # residual blocks of the full-resolution branch
        residual: bool = True,
        skips: bool = False,  # the global generator's encoder-to-decoder skips (GlobalGenerator)
    ):
        super().__init__()
        self.residual = residual
        self.n_downsampling = n_downsampling_global + 1
        self.global_generator = GlobalGenerator(input_nc, output_nc, 2 * ngf, n_downsampling_global, n_blocks_global,
                                                residual=False, skips=skips)
        self.down = torch.nn.Sequential(
            torch.nn.ReflectionPad2d(3), torch.nn.Conv2d(input_nc, ngf, 7), _norm(ngf), torch.nn.ReLU(True),
            torch.nn.Conv2d(ngf, 2 * ngf, 3, stride=2, padding=1), _norm(2 * ngf), torch.nn.ReLU(True))
        self.local = torch.nn.Sequential(
            *[ResnetBlock(2 * ngf) for _ in range(n_blocks_local)],
            torch.nn.ConvTranspose2d(2 * ngf, ngf, 3, stride=2, padding=1, output_padding=1), _norm(ngf),
            torch.nn.ReLU(True), torch.nn.ReflectionPad2d(3), torch.nn.Conv2d(ngf, output_nc, 7))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        half = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)  # [N, C, H/2, W/2]
        out = self.local(self.down(x) + self.global_generator.features(half))  # [N, C_out, H, W]
        return (x + out).clamp(-1, 1) if self.residual else torch.tanh(out)


class NLayerDiscriminator(torch.nn.Module):
    """PatchGAN: ``n_layers`` stride-2 4x4 convolutions; returns every layer's output (the last is the logits)."""

    def __init__(self, input_nc: int, ndf: int = 64, n_layers: int = 3):
        super().__init__()
        layers = [torch.nn.Sequential(torch.nn.Conv2d(input_nc, ndf, 4, stride=2, padding=2),
                                      torch.nn.LeakyReLU(0.2, True))]
        channels = ndf
        for i in range(1, n_layers + 1):
            out = min(channels * 2, 512)
            stride = 2 if i < n_layers else 1
            layers.append(torch.nn.Sequential(torch.nn.Conv2d(channels, out, 4, stride=stride, padding=2), _norm(out),
                                              torch.nn.LeakyReLU(0.2, True)))
            channels = out
        layers.append(torch.nn.Sequential(torch.nn.Conv2d(channels, 1, 4, stride=1, padding=2)))
        self.layers = torch.nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        outputs = []
        for layer in self.layers:
            x = layer(x)
            outputs.append(x)
        return outputs


class MultiscaleDiscriminator(torch.nn.Module):
    """``num_d`` PatchGANs on the (condition, image) pair at 1, 1/2, 1/4, ... resolution."""

    def __init__(
        self,
        input_nc: int = 6,  # channels of the concatenated condition and image
        ndf: int = 64,  # channels of the first layer
        n_layers: int = 3,  # stride-2 layers per discriminator
        num_d: int = 3,  # number of scales
    ):
        super().__init__()
        self.discriminators = torch.nn.ModuleList(NLayerDiscriminator(input_nc, ndf, n_layers) for _ in range(num_d))

    def forward(self, x: torch.Tensor) -> List[List[torch.Tensor]]:
        results = []
        for i, discriminator in enumerate(self.discriminators):
            if i:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            results.append(discriminator(x))
        return results


def build_generator(kind: str = "global", **kwargs) -> torch.nn.Module:
    """``'global'`` -> :class:`GlobalGenerator`, ``'local'`` -> :class:`LocalEnhancer`, with their arguments."""
    if kind == "global":
        return GlobalGenerator(**kwargs)
    if kind == "local":
        return LocalEnhancer(**kwargs)
    raise ValueError(f"generator kind must be 'global' or 'local', got {kind!r}")


def lsgan_loss(outputs: List[List[torch.Tensor]], real: bool) -> torch.Tensor:
    """LSGAN loss over all scales: mean squared distance of the logits from 1 (real) or 0 (fake)."""
    target = 1.0 if real else 0.0
    return sum(F.mse_loss(scale[-1], torch.full_like(scale[-1], target)) for scale in outputs) / len(outputs)


def feature_matching_loss(fake: List[List[torch.Tensor]], real: List[List[torch.Tensor]],
                          weight: Optional[float] = None) -> torch.Tensor:
    """L1 between the discriminators' intermediate features on fakes and reals (reals detached)."""
    loss = 0.0
    num_d = len(fake)
    for fake_scale, real_scale in zip(fake, real):
        layers = len(fake_scale) - 1
        for f, r in zip(fake_scale[:-1], real_scale[:-1]):
            loss = loss + (weight or 4.0 / layers) / num_d * F.l1_loss(f, r.detach())
    return loss
