"""Converting generator output to pictures, and laying pictures out in grids."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import torch

from faceedit.utils.files import atomic_write_bytes

__all__ = ["images_from_tensor", "make_grid", "save_png"]


def images_from_tensor(img: torch.Tensor) -> np.ndarray:
    """Generator output ``[N, C, H, W]`` (about [-1, 1]) to ``uint8`` ``[N, H, W, C]``.

    Uses NVIDIA's convention (``x * 127.5 + 128``, clamped), so pixels match their tools.
    """
    if img.ndim != 4:
        raise ValueError(f"expected images [N, C, H, W], got shape {tuple(img.shape)}")
    out = (img.detach().to(torch.float32).permute(0, 2, 3, 1) * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    return out.cpu().numpy()


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


def save_png(image: np.ndarray, path: Union[str, Path]) -> Path:
    """Write an ``[H, W, C]`` (C = 1, 3 or 4) uint8 image as PNG, atomically."""
    from PIL import Image

    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)
