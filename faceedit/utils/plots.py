"""Line plots drawn with Pillow, so the core package needs no plotting library."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from faceedit.utils.files import atomic_write_bytes

__all__ = ["heatmap", "line_plot", "save_line_plot", "smooth"]

PALETTE = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207), (0, 0, 0), (255, 187, 120)]
Series = Tuple[Sequence[float], Sequence[float]]


def smooth(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing moving average over ``window`` points (shorter at the start)."""
    y = np.asarray(values, dtype=np.float64)
    if window <= 1 or len(y) == 0:
        return y
    csum = np.cumsum(np.insert(y, 0, 0.0))
    idx = np.arange(1, len(y) + 1)
    lo = np.maximum(idx - window, 0)
    return (csum[idx] - csum[lo]) / (idx - lo)


def _nice_ticks(lo: float, hi: float, count: int = 5) -> np.ndarray:
    if not math.isfinite(lo) or not math.isfinite(hi) or hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    return np.arange(math.ceil(lo / step) * step, hi + step * 1e-9, step)


def line_plot(
    series: Mapping[str, Series],  # label -> (x values, y values)
    title: str = "",  # title above the plot
    xlabel: str = "",  # label of the x axis
    size: Tuple[int, int] = (800, 450),  # image width and height in pixels
    ylim: Optional[Tuple[float, float]] = None,  # y range, None = from the data (1st-99th percentile)
) -> np.ndarray:
    """Draw series as coloured lines with axes, ticks and a legend.

    Returns:
        ``uint8 [H, W, 3]`` image.
    """
    from PIL import Image, ImageDraw

    width, height = size
    left, right, top, bottom = 64, 16, 32 if title else 12, 40
    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    finite = [(np.asarray(x, float), np.asarray(y, float)) for x, y in series.values()]
    all_x = np.concatenate([x for x, _ in finite] or [np.zeros(1)])
    all_y = np.concatenate([y[np.isfinite(y)] for _, y in finite] or [np.zeros(1)])
    if all_y.size == 0:
        all_y = np.zeros(1)
    x0, x1 = float(all_x.min()), float(all_x.max())
    if ylim is None:
        y0, y1 = (float(v) for v in np.percentile(all_y, [1, 99]))
        pad = 0.05 * (y1 - y0 or 1.0)
        y0, y1 = y0 - pad, y1 + pad
    else:
        y0, y1 = ylim
    x1 = x1 if x1 > x0 else x0 + 1.0
    y1 = y1 if y1 > y0 else y0 + 1.0

    def to_px(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        px = left + (x - x0) / (x1 - x0) * (width - left - right)
        py = top + (1 - (np.clip(y, y0, y1) - y0) / (y1 - y0)) * (height - top - bottom)
        return np.stack([px, py], axis=1)

    for tick in _nice_ticks(y0, y1):
        (_, py), = to_px(np.array([x0]), np.array([tick]))
        draw.line([(left, py), (width - right, py)], fill=(232, 232, 232))
        draw.text((4, py - 6), f"{tick:.4g}", fill=(60, 60, 60))
    for tick in _nice_ticks(x0, x1):
        (px, _), = to_px(np.array([tick]), np.array([y0]))
        draw.line([(px, top), (px, height - bottom)], fill=(232, 232, 232))
        draw.text((px - 12, height - bottom + 6), f"{tick:.4g}", fill=(60, 60, 60))
    draw.rectangle([left, top, width - right, height - bottom], outline=(90, 90, 90))
    for i, (label, (x, y)) in enumerate(series.items()):
        x, y = np.asarray(x, float), np.asarray(y, float)
        colour = PALETTE[i % len(PALETTE)]
        keep = np.isfinite(y)
        points = [tuple(p) for p in to_px(x[keep], y[keep])]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        elif points:
            draw.ellipse([points[0][0] - 2, points[0][1] - 2, points[0][0] + 2, points[0][1] + 2], fill=colour)
        draw.rectangle([left + 10, top + 8 + 14 * i, left + 22, top + 16 + 14 * i], fill=colour)
        draw.text((left + 28, top + 5 + 14 * i), label, fill=(30, 30, 30))
    if title:
        draw.text((left, 10), title, fill=(0, 0, 0))
    if xlabel:
        draw.text((width - right - 8 * len(xlabel), height - 16), xlabel, fill=(60, 60, 60))
    return np.asarray(image)


def save_line_plot(path: Union[str, Path], series: Mapping[str, Series], **kwargs) -> Path:
    """:func:`line_plot` written to a PNG file atomically."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(line_plot(series, **kwargs)).save(buffer, format="PNG")
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)


def heatmap(
    matrix: np.ndarray,  # [R, C] values
    row_labels: Sequence[str],  # one label per row
    col_labels: Sequence[str],  # one label per column
    title: str = "",  # title above the map
    cell: int = 56,  # cell size in pixels
    limit: Optional[float] = None,  # colour scale +-limit, None = max |value|
) -> np.ndarray:
    """Diverging (blue-white-red) heatmap with each value printed in its cell; ``uint8 [H, W, 3]``."""
    from PIL import Image, ImageDraw

    values = np.asarray(matrix, dtype=np.float64)
    rows, cols = values.shape
    left, top = 8 + 7 * max((len(s) for s in row_labels), default=0), 40 if title else 24
    width, height = left + cols * cell + 8, top + rows * cell + 8
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    scale = limit if limit else (np.nanmax(np.abs(values)) or 1.0)
    for r in range(rows):
        draw.text((4, top + r * cell + cell // 2 - 6), row_labels[r], fill=(0, 0, 0))
        for c in range(cols):
            t = float(np.clip(values[r, c] / scale, -1, 1)) if np.isfinite(values[r, c]) else 0.0
            colour = (255, int(255 * (1 - t)), int(255 * (1 - t))) if t > 0 else (
                int(255 * (1 + t)), int(255 * (1 + t)), 255)
            box = [left + c * cell, top + r * cell, left + (c + 1) * cell - 1, top + (r + 1) * cell - 1]
            draw.rectangle(box, fill=colour, outline=(200, 200, 200))
            draw.text((box[0] + 4, box[1] + cell // 2 - 6), f"{values[r, c]:+.2f}", fill=(0, 0, 0))
    for c in range(cols):
        draw.text((left + c * cell + 2, top - 14), col_labels[c][: cell // 6], fill=(0, 0, 0))
    if title:
        draw.text((4, 6), title, fill=(0, 0, 0))
    return np.asarray(image)
