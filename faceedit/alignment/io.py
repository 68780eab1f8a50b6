"""Reading any picture a user hands us into one well-defined form: ``uint8 [H, W, 3]`` RGB, upright.

EXIF orientation is applied; greyscale, palette, RGBA/LA (composited on white), CMYK and 16-bit
images are converted; anything that is not an image, or is absurdly large or small, raises
:class:`~faceedit.errors.InvalidImageError` with a message that says what to do.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Union

import numpy as np

from faceedit.errors import InvalidImageError

__all__ = ["load_image", "ImageSource", "MAX_PIXELS", "MIN_SIDE"]

MAX_PIXELS = 60_000_000  # refuse larger images (a 60 MP photo is about 9500 x 6300)
MIN_SIDE = 16  # refuse smaller images; no face can be found in fewer pixels
ImageSource = Union[str, Path, bytes, io.IOBase, np.ndarray, "PIL.Image.Image"]  # noqa: F821


def load_image(source: ImageSource, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read an image from a path, bytes, a file object, a PIL image or an array.

    Args:
        source: file path, encoded bytes (PNG, JPEG, ...), binary file object, ``PIL.Image`` or array
            (``[H, W]`` greyscale or ``[H, W, 3|4]``; uint8, uint16 or float in [0, 1]).
        max_pixels: refuse images with more pixels than this.

    Returns:
        ``uint8 [H, W, 3]`` RGB, rotated upright according to its EXIF orientation.

    Raises:
        InvalidImageError: not an image, unreadable, too large or too small.
    """
    from PIL import Image, ImageOps

    if isinstance(source, np.ndarray):
        return _check_size(_array_to_rgb(source), max_pixels)
    if isinstance(source, Image.Image):
        image = source
    else:
        image = _open(source, max_pixels)
    _check_size_wh(image.size, max_pixels)
    try:
        image = ImageOps.exif_transpose(image)
        return _check_size(_pil_to_rgb(image), max_pixels)
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or damaged data shows up on decode
        raise InvalidImageError(f"the image could not be decoded ({exc}); it may be truncated or damaged, "
                                f"save it again as PNG or JPEG") from None


def _open(source, max_pixels: int):
    from PIL import Image

    name = "the upload"
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = str(path)
        if not path.is_file():
            raise InvalidImageError(f"{path} does not exist or is not a file")
        stream = io.BytesIO(path.read_bytes())
    elif isinstance(source, (bytes, bytearray)):
        stream = io.BytesIO(source)
    elif hasattr(source, "read"):
        stream = source
    else:
        raise InvalidImageError(f"cannot read an image from a {type(source).__name__}; pass a path, bytes, a file "
                                f"object, a PIL image or a numpy array")
    # Pillow's own bomb check uses a global; ours is per call and raises our error before decoding.
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        image = Image.open(stream)
        _check_size_wh(image.size, max_pixels)
        image.load()
        return image
    except InvalidImageError:
        raise
    except Exception as exc:  # Pillow raises many types for non-images
        raise InvalidImageError(f"{name} is not an image faceedit can read ({type(exc).__name__}: {exc}); use a "
                                f"PNG, JPEG, WebP, BMP or TIFF file") from None
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _check_size_wh(size, max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise InvalidImageError(f"the image is {width} x {height} = {width * height / 1e6:.0f} MP, more than the "
                                f"{max_pixels / 1e6:.0f} MP faceedit accepts; downscale it first")
    if min(width, height) < MIN_SIDE:
        raise InvalidImageError(f"the image is {width} x {height} pixels; a face needs at least {MIN_SIDE} pixels a "
                                f"side")


def _check_size(rgb: np.ndarray, max_pixels: int) -> np.ndarray:
    _check_size_wh((rgb.shape[1], rgb.shape[0]), max_pixels)
    return rgb


def _pil_to_rgb(image) -> np.ndarray:
    from PIL import Image

    if image.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16- and 32-bit greyscale: scale to 8 bits
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        return _array_to_rgb((values / top).clip(0, 1))
    if image.mode == "F":
        return _array_to_rgb(np.asarray(image, dtype=np.float64).clip(0, 1))
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))


def _array_to_rgb(array: np.ndarray) -> np.ndarray:
    a = np.asarray(array)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise InvalidImageError(f"an image array must be [H, W], [H, W, 3] or [H, W, 4], got shape {a.shape}")
    if a.dtype == np.uint8:
        a = a.astype(np.float64) / 255
    elif a.dtype == np.uint16:
        a = a.astype(np.float64) / 65535
    elif np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise InvalidImageError("the image array contains NaN or infinite values")
        a = a.astype(np.float64).clip(0, 1)
    else:
        raise InvalidImageError(f"image arrays must be uint8, uint16 or float in [0, 1], got {a.dtype}")
    if a.shape[2] == 4:  # composite on white
        a = a[:, :, :3] * a[:, :, 3:] + (1 - a[:, :, 3:])
    elif a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    return np.ascontiguousarray(np.rint(a * 255).astype(np.uint8))
