"""Tensor operations of the StyleGAN2 family, in plain PyTorch (no compiled plugins).

Every operation is usable as a function and as a module.
"""

from faceedit.ops.bias_act import ACTIVATIONS, BiasAct, bias_act
from faceedit.ops.conv import ModulatedConv2d, conv2d_resample, modulated_conv2d
from faceedit.ops.upfirdn import (
    Downsample2d,
    Upsample2d,
    downsample2d,
    filter2d,
    setup_filter,
    upfirdn2d,
    upsample2d,
)

__all__ = [
    "ACTIVATIONS", "BiasAct", "bias_act", "ModulatedConv2d", "conv2d_resample", "modulated_conv2d",
    "Downsample2d", "Upsample2d", "downsample2d", "filter2d", "setup_filter", "upfirdn2d", "upsample2d",
]
