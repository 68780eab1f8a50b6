import numpy as np
import pytest
import torch

from directions.edit import ApplyDirection, apply_direction, layer_range


def test_edit_moves_only_the_chosen_rows_by_alpha_times_scale():
    ws = torch.randn(3, 8, 4)
    d = torch.tensor([1.0, 0, 0, 0])
    out = apply_direction(ws, d, alpha=2.0, layers=(2, 5), scale=0.5)
    delta = out - ws
    assert torch.allclose(delta[:, 2:5, 0], torch.ones(3, 3))
    assert delta[:, :2].abs().max() == 0 and delta[:, 5:].abs().max() == 0 and delta[..., 1:].abs().max() == 0


def test_per_sample_alpha_and_plain_w():
    w = torch.zeros(2, 3)
    out = apply_direction(w, np.array([0.0, 1.0, 0.0]), alpha=torch.tensor([1.0, -2.0]))
    assert torch.equal(out, torch.tensor([[0.0, 1.0, 0.0], [0.0, -2.0, 0.0]]))


def test_presets_and_module_form():
    assert layer_range("coarse", 10) == (0, 3) and layer_range(None, 10) == (0, 10)
    assert layer_range("fine", 10) == (6, 10)
    module = ApplyDirection(np.array([1.0, 0.0]), layers="coarse")
    ws = torch.zeros(1, 10, 2)
    assert torch.equal(module(ws, 1.0), apply_direction(ws, np.array([1.0, 0.0]), 1.0, "coarse"))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="unknown layer range"):
        layer_range("middle-ish", 10)
    with pytest.raises(ValueError, match="0 <= start < stop"):
        layer_range((4, 2), 10)
    with pytest.raises(ValueError, match="w_dim"):
        apply_direction(torch.zeros(1, 4, 3), torch.ones(5), 1.0)
    with pytest.raises(ValueError, match="W\\+ latents"):
        apply_direction(torch.zeros(1, 3), torch.ones(3), 1.0, layers="coarse")
