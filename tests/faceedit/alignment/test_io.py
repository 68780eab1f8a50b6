import io

import numpy as np
import pytest
from PIL import Image

from faceedit.alignment.io import load_image
from faceedit.errors import InvalidImageError


def _encode(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def _rgb(width=40, height=30):
    a = np.zeros((height, width, 3), np.uint8)
    a[:, : width // 2] = (200, 30, 10)  # red left half, so orientation is visible
    return a


def test_sources_give_the_same_rgb_array(tmp_path):
    array = _rgb()
    data = _encode(Image.fromarray(array))
    (tmp_path / "x.png").write_bytes(data)
    for source in (array, Image.fromarray(array), data, io.BytesIO(data), tmp_path / "x.png", str(tmp_path / "x.png")):
        out = load_image(source)
        assert out.dtype == np.uint8 and out.shape == (30, 40, 3)
        np.testing.assert_array_equal(out, array)


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = _encode(Image.fromarray(_rgb()), "JPEG", exif=exif, quality=95)
    out = load_image(data)
    assert out.shape == (40, 30, 3)  # portrait after rotation
    assert out[:15, :, 0].mean() > 150 and out[-15:, :, 0].mean() < 60  # the red half is now on top


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "RGBA", "LA", "I;16"])
def test_modes_become_rgb(mode):
    source = Image.fromarray(_rgb())
    if mode == "I;16":
        grey = (np.asarray(source.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
        image = Image.fromarray(grey)  # uint16 arrays become mode I;16
    else:
        image = source.convert(mode)
    out = load_image(_encode(image, "TIFF" if mode == "CMYK" else "PNG"))
    assert out.shape == (30, 40, 3) and out.dtype == np.uint8
    assert out[:, :20].mean() != out[:, 20:].mean()  # content survived


def test_transparency_is_composited_on_white():
    rgba = np.zeros((20, 20, 4), np.uint8)  # fully transparent black
    out = load_image(Image.fromarray(rgba, "RGBA"))
    assert (out == 255).all()
    np.testing.assert_array_equal(load_image(rgba), out)


def test_arrays_of_other_types():
    grey16 = np.full((20, 20), 65535, np.uint16)
    assert (load_image(grey16) == 255).all()
    assert (load_image(np.full((20, 20, 3), 0.5)) == 128).all()
    with pytest.raises(InvalidImageError, match="NaN"):
        load_image(np.full((20, 20, 3), np.nan))
    with pytest.raises(InvalidImageError, match="shape"):
        load_image(np.zeros((20, 20, 2)))
    with pytest.raises(InvalidImageError, match="uint8, uint16 or float"):
        load_image(np.zeros((20, 20, 3), np.int64))


def test_bad_inputs_name_the_problem(tmp_path):
    with pytest.raises(InvalidImageError, match="not an image faceedit can read"):
        load_image(b"%PDF-1.4 this is not a picture")
    with pytest.raises(InvalidImageError, match="does not exist"):
        load_image(tmp_path / "missing.jpg")
    with pytest.raises(InvalidImageError, match="cannot read an image from a int"):
        load_image(3)
    data = _encode(Image.fromarray(_rgb(400, 300)), "JPEG")
    with pytest.raises(InvalidImageError, match="truncated|damaged|not an image"):
        load_image(data[: len(data) // 2])


def test_absurd_sizes_are_refused_before_decoding():
    data = _encode(Image.new("RGB", (300, 200)))
    with pytest.raises(InvalidImageError, match="MP, more than"):
        load_image(data, max_pixels=50_000)
    with pytest.raises(InvalidImageError, match="at least 16 pixels"):
        load_image(np.zeros((8, 100, 3), np.uint8))
