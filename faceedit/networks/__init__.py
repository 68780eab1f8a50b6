"""StyleGAN2 networks in plain PyTorch, with parameter names matching NVIDIA's."""

from faceedit.networks.generator import Generator
from faceedit.networks.layers import Conv2dLayer, FullyConnectedLayer, normalize_2nd_moment
from faceedit.networks.mapping import MappingNetwork, truncate
from faceedit.networks.synthesis import SynthesisBlock, SynthesisLayer, SynthesisNetwork, ToRGBLayer

__all__ = ["Generator", "MappingNetwork", "SynthesisNetwork", "SynthesisBlock", "SynthesisLayer", "ToRGBLayer",
           "FullyConnectedLayer", "Conv2dLayer", "normalize_2nd_moment", "truncate"]
