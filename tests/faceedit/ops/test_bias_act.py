"""bias_act: bias, activation, gain and clamp in NVIDIA's order."""

from __future__ import annotations

import math

import pytest
import torch

from faceedit.ops import BiasAct, bias_act


def test_lrelu_with_default_gain():
    x, b = torch.randn(2, 3, 4, 4), torch.randn(3)
    y = bias_act(x, b, act="lrelu")
    expected = torch.nn.functional.leaky_relu(x + b.reshape(1, 3, 1, 1), 0.2) * math.sqrt(2)
    assert torch.allclose(y, expected)


def test_clamp_applies_after_gain_and_module_form():
    x = torch.tensor([[-10.0, 0.5, 10.0]])
    assert torch.equal(bias_act(x, act="linear", gain=2, clamp=3), torch.tensor([[-3.0, 1.0, 3.0]]))
    assert torch.equal(BiasAct("linear", gain=2, clamp=3)(x), torch.tensor([[-3.0, 1.0, 3.0]]))


def test_unknown_activation():
    with pytest.raises(ValueError, match="unknown activation"):
        bias_act(torch.zeros(1), act="gelu2")


@pytest.mark.parametrize("act", ["linear", "relu", "lrelu"])
def test_inplace_matches_and_is_ignored_under_autograd(act):
    x, b = torch.randn(2, 3, 4, 4), torch.randn(3)
    expected = bias_act(x, b, act=act, gain=1.5, clamp=0.8)
    with torch.no_grad():
        y = x.clone()
        out = bias_act(y, b, act=act, gain=1.5, clamp=0.8, inplace=True)
    assert out.data_ptr() == y.data_ptr() and torch.equal(out, expected)
    leaf = x.clone().requires_grad_(True)
    out = bias_act(leaf, b, act=act, inplace=True)
    out.sum().backward()
    assert leaf.grad is not None
