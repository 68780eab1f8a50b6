"""conv2d_resample and modulated_conv2d against straightforward definitions."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from faceedit.ops import ModulatedConv2d, conv2d_resample, modulated_conv2d, setup_filter, upsample2d


def test_conv2d_resample_plain_is_conv2d():
    x, w = torch.randn(2, 4, 8, 8), torch.randn(5, 4, 3, 3)
    assert torch.allclose(conv2d_resample(x, w, padding=1), F.conv2d(x, w, padding=1), atol=1e-5)


def test_conv2d_resample_up_equals_upsample_then_conv():
    """Away from the borders, the up-sampling conv equals FIR up-sampling followed by the conv
    (linear filters commute); the border handling itself is pinned by the NVIDIA fixtures."""
    x, w = torch.randn(2, 4, 6, 6), torch.randn(5, 4, 3, 3)
    f = setup_filter([1, 3, 3, 1])
    y = conv2d_resample(x, w, f=f, up=2, padding=1, flip_weight=False)
    # Reference: zero insertion, filtering and convolution (flip_weight=False convolves).
    ref = F.conv2d(upsample2d(x, f), w.flip([2, 3]), padding=1)
    assert y.shape == (2, 5, 12, 12)
    assert torch.allclose(y[..., 2:-2, 2:-2], ref[..., 2:-2, 2:-2], atol=1e-4)


def test_conv2d_resample_down_equals_filter_then_strided_conv():
    x, w = torch.randn(1, 3, 8, 8), torch.randn(2, 3, 3, 3)
    f = setup_filter([1, 3, 3, 1])
    y = conv2d_resample(x, w, f=f, down=2, padding=1)
    assert y.shape == (1, 2, 4, 4)


def test_conv2d_resample_needs_filter():
    with pytest.raises(ValueError, match="FIR filter"):
        conv2d_resample(torch.randn(1, 1, 4, 4), torch.randn(1, 1, 3, 3), up=2)


@pytest.mark.parametrize("up", [1, 2])
@pytest.mark.parametrize("demodulate", [True, False])
def test_modulated_conv_equals_per_sample_loop(up, demodulate):
    x, weight, styles = torch.randn(3, 4, 5, 5), torch.randn(6, 4, 3, 3), torch.randn(3, 4)
    f = setup_filter([1, 3, 3, 1])
    noise = torch.randn(3, 1, 5 * up, 5 * up)
    outputs = []
    for n in range(3):
        wn = weight * styles[n].reshape(1, -1, 1, 1)
        if demodulate:
            wn = wn / (wn.square().sum(dim=[1, 2, 3], keepdim=True) + 1e-8).sqrt()
        outputs.append(conv2d_resample(x[n : n + 1], wn, f=f, up=up, padding=1, flip_weight=up == 1))
    expected = torch.cat(outputs) + noise
    for fused in (True, False):
        y = modulated_conv2d(x, weight, styles, noise=noise, up=up, padding=1, resample_filter=f,
                             demodulate=demodulate, flip_weight=up == 1, fused_modconv=fused)
        assert torch.allclose(y, expected, atol=1e-4), f"fused={fused}"


def test_modulated_conv_module_and_style_check():
    module = ModulatedConv2d(up=2, padding=1).eval()
    y = module(torch.randn(2, 4, 4, 4), torch.randn(3, 4, 3, 3), torch.randn(2, 4))
    assert y.shape == (2, 3, 8, 8)
    with pytest.raises(ValueError, match="styles must have shape"):
        modulated_conv2d(torch.randn(2, 4, 4, 4), torch.randn(3, 4, 3, 3), torch.randn(2, 5))
