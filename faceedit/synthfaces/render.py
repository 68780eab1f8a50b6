"""Rendering synthfaces portraits: the public entry points.

    images, labels = render_batch(64, seed=0)            # [64, 3, 64, 64] in [-1, 1], {factor: [64]}
    params = sample_factors(8, seed=1)
    params["age"] = torch.linspace(0, 1, 8)                # ...
    strip = render_faces(params)                          # one factor edited, everything else kept

Rendering is a fixed sequence of batched tensor operations, back to front; no step loops over
images, so the cost per image falls with the batch size, and the same parameters give the same
bytes on a given device.
"""

from __future__ import annotations

from typing import Dict, Tuple, Union

import torch

from faceedit.synthfaces import _features, _head
from faceedit.synthfaces._frame import Canvas, Frame
from faceedit.synthfaces._layout import Layout
from faceedit.synthfaces.factors import FACTOR_NAMES, as_integer, check_params, sample_factors

__all__ = ["render_faces", "render_masks", "render_batch", "SynthFaces", "MIN_RESOLUTION"]

MIN_RESOLUTION = 16
MAX_RESOLUTION = 4096
DeviceLike = Union[str, torch.device, None]


def _check_resolution(resolution: int) -> int:
    resolution = as_integer(resolution, "resolution", "pixels per side")
    if resolution < MIN_RESOLUTION or resolution > MAX_RESOLUTION:
        raise ValueError(f"resolution {resolution} is out of range: use {MIN_RESOLUTION} to {MAX_RESOLUTION} pixels "
                         "(faces are unreadable below 16)")
    return resolution


def _draw_some(draw, wanted: torch.Tensor, frame: Frame, canvas: Canvas, lay: Layout, *extra: torch.Tensor) -> None:
    """Run ``draw`` only on the images where ``wanted`` ([N] bool) holds; same bytes as drawing all.

    Features most faces lack (beards, glasses, age lines) cost nothing for the faces without them.
    ``extra`` are per-image tensors ``[N, ...]`` the draw function takes after the layout.
    """
    index = wanted.nonzero().squeeze(1)  # [K]
    if index.numel() == 0:
        return
    if index.numel() == wanted.numel():
        draw(frame, canvas, lay, *extra)
        return
    part = Canvas(canvas.rgb.index_select(0, index))  # [K, 3, H, W] copy
    draw(frame.subset(index), part, lay.subset(index), *(tensor.index_select(0, index) for tensor in extra))
    canvas.rgb.index_copy_(0, index, part.rgb)


def _draw(params: Dict[str, torch.Tensor], resolution: int) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    """Paint the portraits; return the picture ``[N, 3, H, W]`` in [-1, 1] and coverage masks."""
    frame = Frame(params, resolution)
    lay = Layout(params)
    canvas = Canvas(_head.draw_background(frame, params))
    hair = _head.prepare_hair(frame, lay)

    _head.draw_body(frame, canvas, lay)
    if hair is not None:
        _head.draw_hair_back(frame, canvas, lay, hair)
    _head.draw_neck(frame, canvas, lay)
    _head.draw_ears(frame, canvas, lay)  # over the hair behind: long hair covers them from the front
    face = _head.draw_face(frame, canvas, lay)  # [N, H, W]
    _draw_some(_features.draw_age_lines, lay.wrinkles > 0, frame, canvas, lay, face)
    _features.draw_skin_details(frame, canvas, lay, face)
    _features.draw_nose(frame, canvas, lay, face)
    _draw_some(_features.draw_beard, lay.beard > 0, frame, canvas, lay)
    _features.draw_mouth(frame, canvas, lay)
    _features.draw_eyes(frame, canvas, lay, face)  # and brows
    if hair is not None:
        _head.draw_hair_front(frame, canvas, lay, hair)
    _draw_some(_features.draw_glasses, lay.glasses > 0, frame, canvas, lay)
    foreground = canvas.foreground
    picture = _head.apply_lighting(frame, canvas, lay)
    return picture, {"foreground": foreground, "face": face}


def _checked_draw(params: Dict[str, torch.Tensor], resolution: int):
    """Validate the inputs, then draw the pictures and their masks."""
    _check_resolution(resolution)
    check_params(params)
    params = {name: value.to(torch.float32) for name, value in params.items()}
    with torch.no_grad():
        return _draw(params, resolution)


def render_faces(params: Dict[str, torch.Tensor], resolution: int = 64) -> torch.Tensor:
    """Render portraits from render parameters.

    Changing one factor in ``params`` and rendering again changes only that attribute of each
    face (with what the world ties to it: greying and baldness belong to age, hair length to
    gender), because every other parameter, nuisances included, stays the same.

    Args:
        params: ``{name: float32 [N]}`` with every factor and nuisance key, as returned by
            :func:`~faceedit.synthfaces.factors.sample_factors` (edit values in place or in a copy).
        resolution: height and width in pixels, 16 to 4096.

    Returns:
        float32 ``[N, 3, resolution, resolution]`` in [-1, 1], on the parameters' device.

    Raises:
        ValueError: missing keys, inconsistent shapes or devices, or a resolution out of range.
    """
    picture, _ = _checked_draw(params, resolution)
    return picture


def render_masks(params: Dict[str, torch.Tensor], resolution: int = 64) -> Dict[str, torch.Tensor]:
    """Ground-truth coverage masks of the portraits :func:`render_faces` draws from ``params``.

    Returns:
        ``foreground`` (head, hair, neck, ears, clothes: everything but the background) and
        ``face`` (the skin of the head outline), each float32 ``[N, H, W]`` in [0, 1].
    """
    _, masks = _checked_draw(params, resolution)
    return masks


def render_batch(n: int, seed: int = 0, resolution: int = 64, *,
                 device: DeviceLike = None) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    """Sample ``n`` faces from ``seed`` and render them.

    Args:
        n: number of faces, at least 1.
        seed: sampling seed; the same seed gives the same bytes on the CPU.
        resolution: height and width in pixels, 16 to 4096.
        device: where to render (default: the CPU); e.g. ``'cuda'``.

    Returns:
        images float32 ``[n, 3, resolution, resolution]`` in [-1, 1], and labels
        ``{factor name: float32 [n]}`` for :data:`~faceedit.synthfaces.factors.FACTOR_NAMES`.
    """
    _check_resolution(resolution)
    params = sample_factors(n, seed, device=device)
    images = render_faces(params, resolution)
    return images, {name: params[name] for name in FACTOR_NAMES}


class SynthFaces:
    """A face source with a fixed resolution and device, for data loaders and trainers.

    Args:
        resolution: height and width in pixels (default 64).
        device: where to render (default: the CPU).

    Example::

        faces = SynthFaces(64)
        images, labels = faces.sample(256, seed=step)   # a fresh batch per step
    """

    def __init__(self, resolution: int = 64, device: DeviceLike = None):
        self.resolution = _check_resolution(resolution)
        self.device = torch.device(device) if device is not None else torch.device("cpu")

    def sample(self, n: int, seed: int) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """``n`` faces from ``seed``: images ``[n, 3, H, W]`` in [-1, 1] and factor labels ``{name: [n]}``."""
        return render_batch(n, seed, self.resolution, device=self.device)

    def render(self, params: Dict[str, torch.Tensor]) -> torch.Tensor:
        """Render given parameters at this source's resolution, on their device."""
        return render_faces(params, self.resolution)

    def __repr__(self) -> str:
        return f"SynthFaces(resolution={self.resolution}, device={str(self.device)!r})"
