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
