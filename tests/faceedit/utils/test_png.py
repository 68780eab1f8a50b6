import io

import numpy as np
import pytest
from PIL import Image

from faceedit.utils.png import png_bytes


@pytest.mark.parametrize("shape, mode", [((5, 7), "L"), ((5, 7, 1), "L"), ((5, 7, 2), "LA"), ((5, 7, 3), "RGB"),
                                         ((5, 7, 4), "RGBA")])
def test_pillow_reads_back_the_same_pixels(shape, mode):
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    decoded = Image.open(io.BytesIO(png_bytes(image)))
    decoded.load()  # checks the CRCs and the zlib stream
    assert decoded.mode == mode and decoded.size == (7, 5)
    assert np.array_equal(np.asarray(decoded), image.reshape(np.asarray(decoded).shape))


def test_same_pixels_give_the_same_bytes_and_levels_trade_size():
    image = np.tile(np.arange(64, dtype=np.uint8), (64, 1))[:, :, None].repeat(3, axis=2)
    assert png_bytes(image) == png_bytes(image.copy())
    assert len(png_bytes(image, level=9)) < len(png_bytes(image, level=0))


@pytest.mark.parametrize("image", [np.zeros((4, 4, 3), np.float32), np.zeros((4, 4, 5), np.uint8),
                                   np.zeros((0, 4, 3), np.uint8), np.zeros(4, np.uint8)])
def test_bad_images_are_named(image):
    with pytest.raises(ValueError, match="png_bytes takes"):
        png_bytes(image)
