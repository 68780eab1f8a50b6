"""Animations of image sequences, written with Pillow (no video codec needed)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence, Union

import numpy as np

from faceedit.utils.files import atomic_write_bytes

__all__ = ["save_animation"]


def save_animation(frames: Sequence[np.ndarray], path: Union[str, Path], fps: float = 15.0) -> Path:
    """Write ``uint8 [H, W, 3]`` frames as an animated GIF or PNG (by the suffix), atomically."""
    from PIL import Image

    if not frames:
        raise ValueError("an animation needs at least one frame")
    path = Path(path)
    fmt = {".gif": "GIF", ".png": "PNG", ".apng": "PNG"}.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"animations are written as .gif or .png (APNG), not {path.suffix!r}")
    images = [Image.fromarray(np.asarray(f, dtype=np.uint8)) for f in frames]
    buffer = io.BytesIO()
    images[0].save(buffer, format=fmt, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    atomic_write_bytes(path, buffer.getvalue())
    return path
