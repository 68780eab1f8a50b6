"""Converting generator output to pictures, and laying pictures out in grids."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import torch

from faceedit.utils.files import atomic_write_bytes

__all__ = ["images_from_tensor", "tensor_from_images", "make_grid", "label_rows", "encode_image", "save_image",
           "save_png"]


def images_from_tensor(img: torch.Tensor) -> np.ndarray:
    """Generator output ``[N, C, H, W]`` (about [-1, 1]) to ``uint8`` ``[N, H, W, C]``.

    Uses NVIDIA's convention (``x * 127.5 + 128``, clamped), so pixels match their tools.
    """
    if img.ndim != 4:
        raise ValueError(f"expected images [N, C, H, W], got shape {tuple(img.shape)}")
    out = (img.detach().to(torch.float32).permute(0, 2, 3, 1) * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    return out.cpu().numpy()


def tensor_from_images(images: np.ndarray) -> torch.Tensor:
    """``uint8 [N, H, W, C]`` (or one ``[H, W, C]``) to ``float32 [N, C, H, W]``; inverts :func:`images_from_tensor`."""
    array = np.asarray(images)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.dtype != np.uint8:
        raise ValueError(f"expected uint8 images [N, H, W, C], got {array.dtype} {array.shape}")
    pixels = torch.from_numpy(array.astype(np.float32))  # a copy: the input may be read-only
    return (pixels.permute(0, 3, 1, 2) - 128) / 127.5


def make_grid(images: Union[np.ndarray, Sequence[np.ndarray]], cols: Optional[int] = None, pad: int = 2,
              pad_value: int = 255) -> np.ndarray:
    """Lay ``[N, H, W, C]`` uint8 images out in a grid (``cols`` None = about square)."""
    images = np.asarray(images)
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"expected a non-empty batch [N, H, W, C], got shape {images.shape}")
    n, h, w, c = images.shape
    cols = cols or int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    grid = np.full((rows * h + (rows + 1) * pad, cols * w + (cols + 1) * pad, c), pad_value, dtype=images.dtype)
    for i, image in enumerate(images):
        r, q = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + q * (w + pad)
        grid[y : y + h, x : x + w] = image
    return grid


def label_rows(rows: Sequence[np.ndarray], labels: Sequence[str], label_width: int = 96,
               header: Optional[str] = None, column_labels: Optional[Sequence[str]] = None) -> np.ndarray:
    """Stack ``uint8 [H_i, W, 3]`` rows of equal width top to bottom, each with its text label on the left.

    Args:
        rows: image rows, e.g. :func:`make_grid` strips of one row each.
        labels: one text per row, drawn in a column ``label_width`` pixels wide.
        header: a line of text above everything, e.g. what the columns are.
        column_labels: texts spread evenly above the rows, one per column of a grid row.

    Returns:
        ``uint8 [H, label_width + W, 3]``.
    """
    from PIL import Image, ImageDraw

    if len(rows) != len(labels) or not rows:
        raise ValueError(f"need one label per row and at least one row, got {len(rows)} rows, {len(labels)} labels")
    strips = []
    for row, text in zip(rows, labels):
        label = Image.new("RGB", (label_width, row.shape[0]), (255, 255, 255))
        ImageDraw.Draw(label).text((4, row.shape[0] // 2 - 6), text, fill=(0, 0, 0))
        strips.append(np.concatenate([np.asarray(label), row[..., :3]], axis=1))
    width, heads = strips[0].shape[1], []
    if header:
        top = Image.new("RGB", (width, 18), (255, 255, 255))
        ImageDraw.Draw(top).text((label_width + 2, 3), header, fill=(0, 0, 0))
        heads.append(np.asarray(top))
    if column_labels:
        top = Image.new("RGB", (width, 16), (255, 255, 255))
        draw, cell = ImageDraw.Draw(top), (width - label_width) / len(column_labels)
        for i, text in enumerate(column_labels):
            draw.text((label_width + (i + 0.5) * cell - 3 * len(text), 2), text, fill=(0, 0, 0))
        heads.append(np.asarray(top))
    return np.concatenate(heads + strips, axis=0)


IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}  # suffix -> PIL format


def encode_image(image: np.ndarray, format: str = "PNG", quality: int = 95) -> bytes:
    """An ``[H, W, C]`` (C = 1, 3 or 4) uint8 image as file bytes: ``'PNG'`` (lossless), ``'JPEG'`` or ``'WEBP'``."""
    from PIL import Image

    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    buffer = io.BytesIO()
    options = {} if format == "PNG" else {"quality": quality}
    Image.fromarray(image).save(buffer, format=format, **options)
    return buffer.getvalue()


def save_image(image: np.ndarray, path: Union[str, Path], quality: int = 95) -> Path:
    """Write a uint8 image atomically in the format its suffix names (.png, .jpg/.jpeg, .webp)."""
    suffix = Path(path).suffix.lower()
    if suffix not in IMAGE_FORMATS:
        raise ValueError(f"cannot write {path}: use a .png, .jpg or .webp file name")
    atomic_write_bytes(path, encode_image(image, IMAGE_FORMATS[suffix], quality))
    return Path(path)


def save_png(image: np.ndarray, path: Union[str, Path]) -> Path:
    """Write an ``[H, W, C]`` (C = 1, 3 or 4) uint8 image as PNG, atomically."""
    atomic_write_bytes(path, encode_image(image, "PNG"))
    return Path(path)
