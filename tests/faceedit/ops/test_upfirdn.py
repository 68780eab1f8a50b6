"""FIR resampling: filter setup, the fast transposed-conv path, and shapes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from faceedit.ops import Downsample2d, Upsample2d, downsample2d, filter2d, setup_filter, upfirdn2d, upsample2d


def test_setup_filter_is_nvidias_binomial():
    f = setup_filter([1, 3, 3, 1])
    expected = torch.tensor([1.0, 3, 3, 1]).ger(torch.tensor([1.0, 3, 3, 1])) / 64
    assert f.shape == (4, 4) and torch.equal(f, expected)


def _reference_upfirdn(x, f, up, pad):
    """Textbook definition: zero insertion, padding, true convolution."""
    n, c, h, w = x.shape
    u = torch.zeros(n, c, h * up, w * up)
    u[:, :, ::up, ::up] = x
    u = F.pad(u, pad)
    k = f.flip([0, 1])[None, None].repeat(c, 1, 1, 1)
    return F.conv2d(u, k, groups=c)


@pytest.mark.parametrize("taps", [[1, 3, 3, 1], [1, 2, 1], [1, 4, 6, 4, 1], [1, 2, 3, 4]])
def test_upsample2d_matches_definition(taps):
    x = torch.randn(2, 3, 5, 7)
    f = setup_filter(taps)
    fw = f.shape[0]
    pads = [(fw + 1) // 2, (fw - 2) // 2, (fw + 1) // 2, (fw - 2) // 2]
    expected = _reference_upfirdn(x, f * 4, 2, pads)
    assert torch.allclose(upsample2d(x, f), expected, atol=1e-6)
    assert torch.allclose(upfirdn2d(x, f, up=2, padding=pads, gain=4), expected, atol=1e-6)


def test_upsample_keeps_constants_and_shape():
    x = torch.full((1, 2, 4, 4), 3.0)
    y = Upsample2d()(x)
    assert y.shape == (1, 2, 8, 8) and torch.allclose(y[:, :, 2:-2, 2:-2], torch.full((1, 2, 4, 4), 3.0))


def test_downsample_and_filter_shapes():
    x = torch.randn(2, 3, 8, 8)
    f = setup_filter([1, 3, 3, 1])
    assert downsample2d(x, f).shape == (2, 3, 4, 4)
    assert Downsample2d()(x).shape == (2, 3, 4, 4)
    assert filter2d(x, f).shape == (2, 3, 8, 8)


def test_negative_padding_crops():
    x = torch.randn(1, 1, 6, 6)
    one = torch.ones(1, 1)
    assert torch.equal(upfirdn2d(x, one, padding=[-1, -1, -1, -1]), x[:, :, 1:-1, 1:-1])
