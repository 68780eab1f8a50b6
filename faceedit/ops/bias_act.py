"""Fused bias + activation + gain + clamp, as NVIDIA's StyleGAN2 networks use it.

Plain PyTorch: no compiled plugin. Each activation has a default gain chosen so that the
activation preserves the signal's second moment (``sqrt(2)`` for ReLU-like functions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn.functional as F

__all__ = ["ACTIVATIONS", "Activation", "bias_act", "BiasAct"]


@dataclass(frozen=True)
class Activation:
    """One activation function and its defaults."""

    func: Callable[[torch.Tensor, float], torch.Tensor]  # f(x, alpha) -> y
    def_alpha: float  # default slope parameter (only leaky ReLU uses it)
    def_gain: float  # default output gain


ACTIVATIONS = {
    "linear": Activation(lambda x, alpha: x, 0.0, 1.0),
    "relu": Activation(lambda x, alpha: F.relu(x), 0.0, math.sqrt(2)),
    "lrelu": Activation(lambda x, alpha: F.leaky_relu(x, alpha), 0.2, math.sqrt(2)),
    "tanh": Activation(lambda x, alpha: torch.tanh(x), 0.0, 1.0),
    "sigmoid": Activation(lambda x, alpha: torch.sigmoid(x), 0.0, 1.0),
    "elu": Activation(lambda x, alpha: F.elu(x), 0.0, 1.0),
    "selu": Activation(lambda x, alpha: F.selu(x), 0.0, 1.0),
    "softplus": Activation(lambda x, alpha: F.softplus(x), 0.0, 1.0),
    "swish": Activation(lambda x, alpha: torch.sigmoid(x) * x, 0.0, math.sqrt(2)),
}


def get_activation(name: str) -> Activation:
    """Look up an activation by name, with an error that lists the known ones."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}") from None


def bias_act(
    x: torch.Tensor,
    b: Optional[torch.Tensor] = None,
    dim: int = 1,
    act: str = "linear",
    alpha: Optional[float] = None,
    gain: Optional[float] = None,
    clamp: Optional[float] = None,
    inplace: bool = False,
) -> torch.Tensor:
    """Add a bias, apply an activation, scale by a gain and clamp, in that order.

    Args:
        x: input tensor of any shape.
        b: bias vector whose length equals ``x.shape[dim]``; ``None`` adds nothing.
        dim: the dimension of ``x`` that ``b`` runs along.
        act: activation name, one of :data:`ACTIVATIONS`.
        alpha: slope parameter of the activation; ``None`` uses its default.
        gain: output scale; ``None`` uses the activation's default gain.
        clamp: clamp the output to ``[-clamp, clamp]``; ``None`` does not clamp.
        inplace: overwrite ``x`` (saves a full-size allocation per step at high resolution);
            only honoured when no gradient is being recorded for ``x``.

    Returns:
        Tensor of the same shape and dtype as ``x``.
    """
    spec = get_activation(act)
    if inplace and not (torch.is_grad_enabled() and x.requires_grad) and act in _INPLACE:
        return _bias_act_(x, b, dim, act, spec, alpha, gain, clamp)
    if b is not None:
        shape = [1] * x.ndim
        shape[dim] = -1
        x = x + b.reshape(shape)
    x = spec.func(x, float(spec.def_alpha if alpha is None else alpha))
    gain = float(spec.def_gain if gain is None else gain)
    if gain != 1:
        x = x * gain
    if clamp is not None and clamp >= 0:
        x = x.clamp(-clamp, clamp)
    return x


_INPLACE = ("linear", "relu", "lrelu")


def _bias_act_(x, b, dim, act, spec, alpha, gain, clamp):
    """In-place version of :func:`bias_act` for the common activations (no autograd)."""
    if b is not None:
        shape = [1] * x.ndim
        shape[dim] = -1
        x.add_(b.reshape(shape))
    if act == "lrelu":
        torch.nn.functional.leaky_relu_(x, float(spec.def_alpha if alpha is None else alpha))
    elif act == "relu":
        x.relu_()
    gain = float(spec.def_gain if gain is None else gain)
    if gain != 1:
        x.mul_(gain)
    if clamp is not None and clamp >= 0:
        x.clamp_(-clamp, clamp)
    return x


class BiasAct(torch.nn.Module):
    """Module form of :func:`bias_act` with a fixed activation, gain and clamp."""

    def __init__(
        self,
        act: str = "linear",  # activation name, one of ACTIVATIONS
        alpha: Optional[float] = None,  # slope parameter, None = the activation's default
        gain: Optional[float] = None,  # output gain, None = the activation's default
        clamp: Optional[float] = None,  # clamp the output to +-clamp, None = no clamping
    ):
        super().__init__()
        get_activation(act)
        self.act, self.alpha, self.gain, self.clamp = act, alpha, gain, clamp

    def forward(self, x: torch.Tensor, b: Optional[torch.Tensor] = None) -> torch.Tensor:
        return bias_act(x, b, act=self.act, alpha=self.alpha, gain=self.gain, clamp=self.clamp)
