"""Basic layers of the StyleGAN2 networks: equalised-learning-rate dense and conv layers.

Weights are stored at unit scale and multiplied by ``weight_gain`` (He's constant times the
learning-rate multiplier) at run time, as in NVIDIA's code, so parameter values map one to one
onto NVIDIA's state dicts.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import torch

from faceedit.ops.bias_act import bias_act, get_activation
from faceedit.ops.conv import conv2d_resample
from faceedit.ops.upfirdn import setup_filter

__all__ = ["normalize_2nd_moment", "FullyConnectedLayer", "Conv2dLayer"]

DEFAULT_RESAMPLE_FILTER = (1, 3, 3, 1)


def normalize_2nd_moment(x: torch.Tensor, dim: int = 1, eps: float = 1e-8) -> torch.Tensor:
    """Scale ``x`` so its mean square along ``dim`` is one (``[N, C] -> [N, C]``)."""
    return x * (x.square().mean(dim=dim, keepdim=True) + eps).rsqrt()


class FullyConnectedLayer(torch.nn.Module):
    """Dense layer with equalised learning rate: ``y = act(x @ (W * gain).T + b * bias_gain)``."""

    def __init__(
        self,
        in_features: int,  # number of input features
        out_features: int,  # number of output features
        bias: bool = True,  # add a learned bias
        activation: str = "linear",  # activation name, see faceedit.ops.ACTIVATIONS
        lr_multiplier: float = 1.0,  # learning-rate multiplier (0.01 in the mapping network)
        bias_init: float = 0.0,  # initial bias value (1 for style affines, so styles start at one)
    ):
        super().__init__()
        get_activation(activation)
        self.in_features = in_features
        self.out_features = out_features
        self.activation = activation
        self.weight = torch.nn.Parameter(torch.randn([out_features, in_features]) / lr_multiplier)
        self.bias = torch.nn.Parameter(torch.full([out_features], float(bias_init))) if bias else None
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight.to(x.dtype) * self.weight_gain  # [out, in]
        b = self.bias
        if b is not None:
            b = b.to(x.dtype)
            if self.bias_gain != 1:
                b = b * self.bias_gain
        if self.activation == "linear" and b is not None:
            return torch.addmm(b.unsqueeze(0), x, w.t())  # [N, out]
        return bias_act(x.matmul(w.t()), b, act=self.activation)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, activation={self.activation}"


class Conv2dLayer(torch.nn.Module):
    """Convolution with equalised learning rate, optional FIR up-/down-sampling and clamping."""

    def __init__(
        self,
        in_channels: int,  # number of input channels
        out_channels: int,  # number of output channels
        kernel_size: int,  # width and height of the kernel
        bias: bool = True,  # add a learned bias
        activation: str = "linear",  # activation name, see faceedit.ops.ACTIVATIONS
        up: int = 1,  # up-sampling factor
        down: int = 1,  # down-sampling factor
        resample_filter: Optional[Sequence[float]] = None,  # FIR taps, None = [1, 3, 3, 1]
        conv_clamp: Optional[float] = None,  # clamp outputs to +-conv_clamp, None = no clamping
        channels_last: bool = False,  # store the weight in channels-last memory format
        trainable: bool = True,  # register weight and bias as parameters (else as buffers)
    ):
        super().__init__()
        self.activation = activation
        self.up = up
        self.down = down
        self.conv_clamp = conv_clamp
        self.register_buffer("resample_filter", setup_filter(list(resample_filter or DEFAULT_RESAMPLE_FILTER)))
        self.padding = kernel_size // 2
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size**2)
        self.act_gain = get_activation(activation).def_gain

        memory_format = torch.channels_last if channels_last else torch.contiguous_format
        weight = torch.randn([out_channels, in_channels, kernel_size, kernel_size]).to(memory_format=memory_format)
        bias_value = torch.zeros([out_channels]) if bias else None
        if trainable:
            self.weight = torch.nn.Parameter(weight)
            self.bias = torch.nn.Parameter(bias_value) if bias_value is not None else None
        else:
            self.register_buffer("weight", weight)
            if bias_value is not None:
                self.register_buffer("bias", bias_value)
            else:
                self.bias = None

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        w = self.weight * self.weight_gain
        b = self.bias.to(x.dtype) if self.bias is not None else None
        x = conv2d_resample(x, w.to(x.dtype), f=self.resample_filter, up=self.up, down=self.down,
                            padding=self.padding, flip_weight=self.up == 1)
        act_gain = self.act_gain * gain
        act_clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return bias_act(x, b, act=self.activation, gain=act_gain, clamp=act_clamp)
