"""Pixel grids, head coordinates, drawing windows and the canvas of the synthfaces renderer.

Image coordinates: ``x`` right, ``y`` down, both in [-1, 1] across the picture (pixel centres).
Head coordinates ``(u, v)``: origin at the head centre, ``u`` along the eyes, ``v`` down the face,
1 unit = half the head height; they follow the head's position, scale and roll. Body
coordinates share the head's scale but only half its roll (the neck absorbs the tilt).

Large layers are drawn in *windows*: the smallest pixel rectangle that holds a layer in every
image of the batch. Small features are drawn in *patches*: one rectangle of the same size per
image, placed at each image's own feature, gathered from the picture, painted, and scattered
back, so a feature costs its own area rather than the area it sweeps across the batch.
Coverage is exactly zero outside a shape (see ``_shapes.coverage``), so windows, patches and
full-frame drawing give the same bytes, and a face renders identically whatever else is in its
batch.
"""

from __future__ import annotations

import math
from typing import Dict, Optional, Tuple, Union

import torch

from faceedit.synthfaces._shapes import col

__all__ = ["Frame", "Canvas", "Window", "Patch", "HEAD_SCALE", "ROLL_RADIANS", "YAW_RADIANS"]

HEAD_SCALE = 0.56  # half the head height, in image half-widths
ROLL_RADIANS = 0.3  # roll = +-1 tilts the head about 17 degrees
YAW_RADIANS = 0.52  # yaw = +-1 turns the head about 30 degrees
_MARGIN_PX = 1.5  # window margin beyond a bounding box; coverage reaches zero half a pixel out

Window = Tuple[slice, slice]


class Patch:
    """One ``h x w`` pixel rectangle per image, at per-image offsets, inside the picture.

    Args:
        rows: ``[N, h]`` row index of every patch row.
        cols: ``[N, w]`` column index of every patch column.
        width: picture width ``W`` (to flatten pixel indices).
    """

    def __init__(self, rows: torch.Tensor, cols: torch.Tensor, width: int):
        self.rows, self.cols = rows, cols
        self.flat = (rows[:, :, None] * width + cols[:, None, :]).flatten(1)  # [N, h*w] index into H*W

    @property
    def shape(self) -> Tuple[int, int]:
        return self.rows.shape[1], self.cols.shape[1]

    def gather(self, pictures: torch.Tensor) -> torch.Tensor:
        """The patch pixels of ``[N, H, W]`` or ``[N, C, H, W]`` pictures: ``[N, h, w]`` or ``[N, C, h, w]``."""
        h, w = self.shape
        if pictures.ndim == 3:
            return pictures.flatten(1).gather(1, self.flat).view(-1, h, w)
        channels = pictures.shape[1]
        index = self.flat[:, None, :].expand(-1, channels, -1)  # [N, C, h*w]
        return pictures.flatten(2).gather(2, index).view(-1, channels, h, w)

    def scatter(self, pictures: torch.Tensor, values: torch.Tensor) -> None:
        """Write ``values`` ``[N, C, h, w]`` into the patch pixels of ``pictures`` ``[N, C, H, W]`` in place."""
        channels = pictures.shape[1]
        index = self.flat[:, None, :].expand(-1, channels, -1)  # [N, C, h*w]
        pictures.view(pictures.shape[0], channels, -1).scatter_(2, index, values.flatten(2))


class Frame:
    """Per-image placement of head and body, and coordinate grids on demand.

    Args:
        params: render parameters (``[N]`` tensors).
        resolution: output height and width in pixels.
    """

    def __init__(self, params: Dict[str, torch.Tensor], resolution: int):
        self.resolution = resolution
        device = params["age"].device
        self.device = device
        centres = (torch.arange(resolution, device=device, dtype=torch.float32) + 0.5) * (2.0 / resolution) - 1.0
        self.xs = centres  # [W]
        self.ys = centres  # [H]
        self.scale = HEAD_SCALE * (1.0 + 0.06 * params["_head_scale"])  # [N]
        self.head_x = 0.05 * params["_head_x"]  # [N]
        self.head_y = 0.0 + 0.04 * params["_head_y"]  # [N]
        angle = ROLL_RADIANS * params["roll"]  # [N]
        self.cos, self.sin = torch.cos(angle), torch.sin(angle)  # [N]
        self.body_cos, self.body_sin = torch.cos(0.5 * angle), torch.sin(0.5 * angle)  # [N]
        self.inv_pixel = col(self.scale * (resolution / 2.0))  # [N, 1, 1] pixels per head unit
        self.full: Window = (slice(0, resolution), slice(0, resolution))

    def subset(self, index: torch.Tensor) -> "Frame":
        """The same frame restricted to the images ``index`` (a 1-D long tensor)."""
        sub = object.__new__(Frame)
        sub.__dict__.update(self.__dict__)
        for name in ("scale", "head_x", "head_y", "cos", "sin", "body_cos", "body_sin", "inv_pixel"):
            setattr(sub, name, getattr(self, name).index_select(0, index))
        return sub

    def _local(self, area: Union[Window, Patch], cos: torch.Tensor, sin: torch.Tensor
               ) -> Tuple[torch.Tensor, torch.Tensor]:
        if isinstance(area, Patch):
            xs, ys = self.xs[area.cols][:, None, :], self.ys[area.rows][:, :, None]  # [N, 1, w], [N, h, 1]
        else:
            xs, ys = self.xs[None, None, area[1]], self.ys[None, area[0], None]  # [1, 1, w], [1, h, 1]
        dx = (xs - col(self.head_x)) / col(self.scale)  # [N, 1, w]
        dy = (ys - col(self.head_y)) / col(self.scale)  # [N, h, 1]
        u = dx * col(cos) + dy * col(sin)  # [N, h, w]
        v = dy * col(cos) - dx * col(sin)  # [N, h, w]
        return u, v

    def head_uv(self, area: Union[Window, Patch, None] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Head coordinates ``(u, v)``, each ``[N, h, w]``, on a window or patch (default: the whole picture)."""
        return self._local(self.full if area is None else area, self.cos, self.sin)

    def body_uv(self, area: Union[Window, Patch, None] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Body coordinates ``(u, v)`` (head units, half the roll), each ``[N, h, w]``."""
        return self._local(self.full if area is None else area, self.body_cos, self.body_sin)

    def _pixel_boxes(self, u0, u1, v0, v1, body: bool) -> torch.Tensor:
        """Per-image pixel bounds ``[4, N]`` (x0, x1, y0, y1) of a box in head or body coordinates."""
        cos, sin = (self.body_cos, self.body_sin) if body else (self.cos, self.sin)
        u0, u1, v0, v1 = (torch.as_tensor(edge, dtype=torch.float32, device=self.device) for edge in (u0, u1, v0, v1))
        corners_u = torch.stack(torch.broadcast_tensors(u0, u1, u0, u1, cos), dim=0)[:4]  # [4, N]
        corners_v = torch.stack(torch.broadcast_tensors(v0, v0, v1, v1, cos), dim=0)[:4]  # [4, N]
        x = self.head_x + self.scale * (cos * corners_u - sin * corners_v)  # [4, N]
        y = self.head_y + self.scale * (sin * corners_u + cos * corners_v)  # [4, N]
        half = self.resolution / 2.0
        return torch.stack([x.amin(0), x.amax(0), y.amin(0), y.amax(0)]) * half + half  # [4, N] pixel units

    def patch(self, u0, u1, v0, v1) -> Patch:
        """Per-image pixel patches holding the head-coordinate box ``[u0, u1] x [v0, v1]`` of each image.

        All patches share the size of the largest box (plus margins, at most the picture); each is
        placed on its own image's box and shifted inside the picture where the box overhangs it.
        """
        res = self.resolution
        box = self._pixel_boxes(u0, u1, v0, v1, body=False)  # [4, N]
        start = torch.stack([box[2], box[0]]).sub_(_MARGIN_PX).floor_()  # [2, N] first row, first column
        stop = torch.stack([box[3], box[1]]).add_(_MARGIN_PX).ceil_()  # [2, N]
        size = (stop - start).amax(dim=1).clamp_(1, res).long()  # [2] patch height and width
        h, w = size.tolist()
        start = start.long()
        rows = start[0].clamp(0, res - h)[:, None] + torch.arange(h, device=self.device)  # [N, h]
        cols = start[1].clamp(0, res - w)[:, None] + torch.arange(w, device=self.device)  # [N, w]
        return Patch(rows, cols, res)

    def window(self, u0, u1, v0, v1, body: bool = False) -> Optional[Window]:
        """Pixel window holding the box ``[u0, u1] x [v0, v1]`` (head or body coordinates) of every image.

        Args:
            u0, u1, v0, v1: per-image box edges, ``[N]`` tensors or floats.
            body: the box is in body coordinates (half the roll) rather than head coordinates.

        Returns:
            ``(rows, cols)`` slices, or None when the box lies outside the picture for all images.
        """
        box = self._pixel_boxes(u0, u1, v0, v1, body)  # [4, N]
        x0, x1, y0, y1 = torch.stack([box[0].min(), box[1].max(), box[2].min(), box[3].max()]).tolist()
        c0 = max(0, math.floor(x0 - _MARGIN_PX))
        c1 = min(self.resolution, math.ceil(x1 + _MARGIN_PX))
        r0 = max(0, math.floor(y0 - _MARGIN_PX))
        r1 = min(self.resolution, math.ceil(y1 + _MARGIN_PX))
        if c0 >= c1 or r0 >= r1:
            return None
        return slice(r0, r1), slice(c0, c1)


class Canvas:
    """The picture being painted, back to front, with 'over' compositing.

    Args:
        background: ``[N, 3, H, W]`` starting picture, in [0, 1] (taken over, not copied).
    """

    def __init__(self, background: torch.Tensor):
        self.rgb = background  # [N, 3, H, W]
        n, _, h, w = background.shape
        # Union of the opaque silhouettes (head, hair, body): where lighting applies.
        self.foreground = torch.zeros(n, h, w, device=background.device)  # [N, H, W]

    @classmethod
    def local(cls, canvas: "Canvas", patch: Patch) -> "Canvas":
        """A canvas holding a copy of ``canvas``'s patch pixels; paint it, then :meth:`commit` it."""
        local = object.__new__(cls)
        local.rgb = patch.gather(canvas.rgb)  # [N, 3, h, w]
        local.foreground = None
        return local

    def commit(self, patch: Patch, local: "Canvas") -> None:
        """Write a :meth:`local` canvas's pixels back into this picture."""
        patch.scatter(self.rgb, local.rgb)

    def paint(self, alpha: torch.Tensor, color: torch.Tensor, window: Optional[Window] = None,
              silhouette: bool = False) -> None:
        """Paint ``color`` over the picture with per-pixel opacity ``alpha`` inside ``window``.

        Args:
            alpha: ``[N, h, w]`` opacity in [0, 1] on the window.
            color: ``[N, 3]`` flat colour or ``[N, 3, h, w]`` colour map.
            window: ``(rows, cols)`` the arrays cover; None for the whole canvas (e.g. a local one).
            silhouette: add the shape to the lit foreground.
        """
        rows, cols = window if window is not None else (slice(None), slice(None))
        if color.ndim == 2:
            color = color[:, :, None, None]  # [N, 3, 1, 1]
        self.rgb[:, :, rows, cols].lerp_(color, alpha[:, None])
        if silhouette:
            region = self.foreground[:, rows, cols]  # [N, h, w] view
            region.copy_(torch.maximum(region, alpha))
