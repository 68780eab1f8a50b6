"""Seed parsing, NVIDIA-compatible latents, image conversion and grids."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from faceedit.utils.device import resolve_device
from faceedit.utils.images import images_from_tensor, make_grid
from faceedit.utils.seeds import parse_seeds, z_from_seeds
from tests.conftest import NVIDIA_FIXTURES


def test_parse_seeds():
    assert parse_seeds("0-3,7, 9") == [0, 1, 2, 3, 7, 9]
    for bad in ("", "a", "5-2", "-1"):
        with pytest.raises(ValueError):
            parse_seeds(bad)


def test_z_from_seeds_matches_nvidia_generate():
    ref = np.load(NVIDIA_FIXTURES / "sg2_f_skip64_w64_ref.npz")["z"]
    assert np.array_equal(z_from_seeds([0, 1, 2, 3], 64).numpy(), ref)


def test_images_and_grid():
    img = images_from_tensor(torch.tensor([-2.0, -1.0, 0.0, 1.0]).reshape(1, 1, 2, 2))
    assert img.dtype == np.uint8 and img.shape == (1, 2, 2, 1)
    assert img.reshape(-1).tolist() == [0, 0, 128, 255]
    grid = make_grid(np.zeros((5, 4, 4, 3), np.uint8), pad=1)
    assert grid.shape == (2 * 4 + 3, 3 * 4 + 4, 3)  # 5 images: 3 columns, 2 rows, 1-pixel padding


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device(None).type in {"cpu", "cuda", "mps"}
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device("toaster")


def test_label_rows_adds_a_label_column_and_header():
    from faceedit.utils.images import label_rows

    rows = [np.zeros((10, 20, 3), np.uint8), np.full((12, 20, 3), 128, np.uint8)]
    out = label_rows(rows, ["a", "b"], label_width=30, header="alpha -3 .. 3", column_labels=["-1", "+1"])
    assert out.shape == (18 + 16 + 22, 50, 3)
    assert (out[34:44, 30:] == 0).all() and (out[44:, 30:] == 128).all()
    assert (out[34:, :30] < 255).any() and (out[18:34, 30:] < 255).any()  # row and column labels were drawn
    with pytest.raises(ValueError, match="one label per row"):
        label_rows(rows, ["a"])


def test_images_save_in_the_format_their_name_says(tmp_path):
    from PIL import Image as PILImage

    from faceedit.utils.images import save_image

    image = np.random.RandomState(0).randint(0, 256, (12, 10, 3)).astype(np.uint8)
    for name, fmt in (("a.png", "PNG"), ("b.JPG", "JPEG"), ("c.webp", "WEBP")):
        with PILImage.open(save_image(image, tmp_path / name)) as opened:
            assert opened.format == fmt and opened.size == (10, 12)
    np.testing.assert_array_equal(np.asarray(PILImage.open(tmp_path / "a.png")), image)
    with pytest.raises(ValueError, match=r"\.png, \.jpg or \.webp"):
        save_image(image, tmp_path / "d.gif")


def test_psnr_of_tensors_and_uint8_images():
    from faceedit.utils.metrics import psnr, psnr_uint8

    a = torch.zeros(2, 3, 4, 4)
    np.testing.assert_allclose(psnr(a, a + 0.2).numpy(), [10 * np.log10(4 / 0.04)] * 2, rtol=1e-5)
    x = np.zeros((4, 4, 3), np.uint8)
    assert psnr_uint8(x, x) == float("inf")
    assert abs(psnr_uint8(x, x + 255) - 0.0) < 1e-9
