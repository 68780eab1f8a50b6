"""The large shapes of a portrait: background, clothes, neck, ears, head, hair, and the lighting.

Each ``draw_*`` function paints onto a :class:`~faceedit.synthfaces._frame.Canvas`; shapes are
signed distances (``_shapes``) turned into anti-aliased coverage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, Optional

import torch

from faceedit.synthfaces import palette
from faceedit.synthfaces._frame import Canvas, Frame, Window
from faceedit.synthfaces._layout import Layout
from faceedit.synthfaces._shapes import bump, col, coverage, ellipse, rounded_box

__all__ = ["draw_background", "draw_body", "HairPass", "prepare_hair", "hair_texture", "draw_hair_back", "draw_neck",
           "draw_ears", "face_distance", "draw_face", "draw_hair_front", "apply_lighting"]


def draw_background(frame: Frame, params: Dict[str, torch.Tensor]) -> torch.Tensor:
    """Background picture ``[N, 3, H, W]`` in [0, 1]: class colour, gradient, a soft blob, light falloff.

    Gradient and blob are separable in ``x`` and ``y``, so only two operations touch every pixel.
    """
    base = palette.background_rgb(params["background"], params["_bg_shade"], params["_bg_tint"])  # [N, 3]
    angle = math.pi * params["_bg_angle"]  # [N]
    x = frame.xs[None, None, :]  # [1, 1, W]
    y = frame.ys[None, :, None]  # [1, H, 1]
    gradient = 0.16 * params["_bg_gradient"]  # [N]
    ramp_x = x * col(gradient * torch.cos(angle) + 0.07 * params["light"])  # [N, 1, W]
    ramp_y = y * col(gradient * torch.sin(angle))  # [N, H, 1]
    # A soft square-ish blob: product of two 1-D bumps, strength and sign per image.
    blob_x = (x - col(0.8 * params["_bg_blob_x"])).mul_(1.0 / 0.9).square_().neg_().add_(1.0).clamp_(min=0.0)
    blob_y = (y - col(0.8 * params["_bg_blob_y"])).mul_(1.0 / 0.9).square_().neg_().add_(1.0).clamp_(min=0.0)
    blob_x = blob_x.square_().mul_(col(0.22 * params["_bg_blob"]))  # [N, 1, W]
    blob_y = blob_y.square_()  # [N, H, 1]
    intensity = torch.addcmul(ramp_x.add_(1.0) + ramp_y, blob_x, blob_y)  # [N, H, W]
    return base[:, :, None, None] * intensity[:, None]  # [N, 3, H, W]


def draw_body(frame: Frame, canvas: Canvas, lay: Layout) -> None:
    """Shoulders in clothes, drawn straight (body coordinates), with a shaded collar fold."""
    half_w = 1.35 + 0.18 * lay.gender  # [N]
    window = frame.window(-half_w, half_w, torch.full_like(half_w, 1.15), torch.full_like(half_w, 2.9), body=True)
    if window is None:
        return
    u, v = frame.body_uv(window)  # [N, h, w]
    alpha = coverage(ellipse(u, v - 2.05, col(half_w), 0.85), frame.inv_pixel)  # [N, h, w]
    shade = bump(u, v - 1.3, 0.75, 0.12).mul_(-0.25).add_(1.0)  # [N, h, w] darker fold along the collar
    canvas.paint(alpha, lay.clothes[:, :, None, None] * shade[:, None], window, silhouette=True)


@dataclass
class HairPass:
    """What the hair layers share: their window, head coordinates and colour there, and the crown.

    ``crown`` is the signed distance to the hair volume around the skull, ``[N, h, w]``; the hair
    behind the head reads it, the hair in front (drawn last) consumes it.
    """

    window: Window
    u: torch.Tensor
    v: torch.Tensor
    color: torch.Tensor
    crown: torch.Tensor


def _hair_bottom(lay: Layout) -> torch.Tensor:
    return 1.8 * lay.hair_length  # [N] short hair stops above the ears, long hair reaches the shoulders


def prepare_hair(frame: Frame, lay: Layout) -> Optional[HairPass]:
    """Window, coordinates, textured colour and crown distance of all hair in the batch (None if off-picture)."""
    bottom = _hair_bottom(lay)
    flare = 0.12 * lay.hair_length * (bottom - 0.3).clamp(min=0.0)
    half_w = lay.half_w * 1.02 + lay.hair_volume + 0.04 * lay.hair_length + flare + 0.02  # [N]
    crown_h = lay.half_h + lay.hair_volume  # [N]
    top = torch.minimum(0.02 - crown_h, torch.full_like(crown_h, -0.45))
    window = frame.window(lay.hair_u - half_w, lay.hair_u + half_w, top, torch.maximum(bottom, 0.02 + crown_h))
    if window is None:
        return None
    u, v = frame.head_uv(window)  # [N, h, w]
    volume = col(lay.hair_volume)
    crown = ellipse(u - col(lay.hair_u), v - 0.02, col(lay.half_w) * 1.02 + volume, col(lay.half_h) + volume)
    return HairPass(window, u, v, hair_texture(frame, lay, u, v), crown)


def hair_texture(frame: Frame, lay: Layout, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Per-pixel hair colour ``[N, 3, h, w]``: strands fanning out from the crown, a sheen on top."""
    du = u - col(lay.hair_u)
    fan = du.div_((v + 1.7).clamp_(min=0.3))  # [N, h, w] angle-like coordinate around a point above the head
    phase = col(6.283 * lay.hair_texture)
    shade = torch.sin(fan * 22.0 + phase).mul_(0.09).add_(1.0)  # [N, h, w]
    if frame.resolution >= 128:  # fine strands only where pixels resolve them
        shade.add_(torch.sin(fan.mul_(57.0).add_(2.0 * phase)).mul_(0.06))
    shade.add_(bump(u - col(lay.hair_u), v + 0.75, 0.5, 0.22).mul_(0.22))  # sheen on the crown
    return lay.hair[:, :, None, None] * shade[:, None]


def draw_hair_back(frame: Frame, canvas: Canvas, lay: Layout, hair: HairPass) -> None:
    """Hair seen around and behind the head: the crown and, for long hair, the hair falling to the shoulders."""
    u, v = hair.u, hair.v
    length = col(lay.hair_length)
    top = -0.45 + 0.3 * col(lay.baldness)  # [N, 1, 1] hair over the ears remains on bald heads
    bottom = col(_hair_bottom(lay))
    flare = (v - 0.3).clamp_(min=0.0).mul_(0.12 * length)  # [N, h, w] long hair spreads a little downwards
    half_w = flare.add_(col(lay.half_w) * 1.02 + col(lay.hair_volume) + 0.04 * length)
    falls = rounded_box(u - col(lay.hair_u), v - 0.5 * (top + bottom), half_w, 0.5 * (bottom - top), 0.25)
    alpha = coverage(torch.minimum(hair.crown, falls), frame.inv_pixel)  # [N, h, w]
    canvas.paint(alpha, hair.color, hair.window, silhouette=True)


def draw_neck(frame: Frame, canvas: Canvas, lay: Layout) -> None:
    """Neck down to the neckline, darker under the jaw (the head's shadow)."""
    centre_u = 0.6 * lay.face_u  # [N]
    window = frame.window(centre_u - lay.neck_w, centre_u + lay.neck_w, torch.full_like(centre_u, 0.3),
                          lay.neckline_v, body=True)
    if window is None:
        return
    u, v = frame.body_uv(window)  # [N, h, w]
    bottom = col(lay.neckline_v)
    neck = rounded_box(u - col(centre_u), v - 0.5 * (0.3 + bottom), col(lay.neck_w), 0.5 * (bottom - 0.3),
                       col(lay.neck_w) * 0.9)  # [N, h, w]
    alpha = coverage(neck, frame.inv_pixel)
    shadow = (v - 0.95).abs_().mul_(-2.5).add_(1.0).clamp_(min=0.0).mul_(-0.3).add_(1.0)  # [N, h, w]
    canvas.paint(alpha, (lay.skin * 0.85)[:, :, None, None] * shadow[:, None], window, silhouette=True)


def draw_ears(frame: Frame, canvas: Canvas, lay: Layout) -> None:
    """Both ears, behind the head outline; inner ear shaded."""
    for ear_u in lay.ear_u:
        window = frame.window(ear_u - lay.ear_w, ear_u + lay.ear_w, lay.ear_v - lay.ear_h, lay.ear_v + lay.ear_h)
        if window is None:
            continue
        u, v = frame.head_uv(window)
        du, dv = u - col(ear_u), v - col(lay.ear_v)  # [N, h, w]
        outer = coverage(ellipse(du, dv, col(lay.ear_w), col(lay.ear_h)), frame.inv_pixel)
        canvas.paint(outer, lay.skin * 0.92, window, silhouette=True)
        inner = coverage(ellipse(du, dv - 0.02, col(lay.ear_w) * 0.5, col(lay.ear_h) * 0.6), frame.inv_pixel)
        canvas.paint(inner.mul_(0.35), lay.skin * 0.6, window)


def face_distance(u: torch.Tensor, v: torch.Tensor, lay: Layout) -> torch.Tensor:
    """Approximate signed distance to the head outline (skull and jaw), ``[N, h, w]``.

    An ellipse whose lower half narrows towards the chin (``chin_taper``) and blends towards a
    squarer superellipse (``jaw_square``, larger when masculine).
    """
    y = v * col(1.0 / lay.half_h)  # [N, h, w]
    lower = y.clamp(min=0.0)  # [N, h, w]
    narrowing = (lower * lower).mul_(col(-lay.chin_taper)).add_(1.0).clamp_(min=0.2)  # [N, h, w]
    x = (u - col(lay.face_u)).mul_(col(1.0 / lay.half_w)).div_(narrowing)  # [N, h, w]
    x2, y2 = x.square_(), y.square_()
    round_ = x2 + y2  # [N, h, w]
    square = x2.square_().add_(y2.square_()).sqrt_()  # [N, h, w] superellipse of degree 4
    blend = lower.mul_(6.0).clamp_(max=1.0).mul_(col(lay.jaw_square))  # [N, h, w]
    level = round_.lerp_(square, blend)  # [N, h, w]
    return level.sqrt_().sub_(1.0).mul_(col(torch.minimum(lay.half_w, lay.half_h) * 0.9))


def draw_face(frame: Frame, canvas: Canvas, lay: Layout) -> torch.Tensor:
    """The head's skin; returns the face coverage ``[N, H, W]`` (features are clipped to it)."""
    n, res = lay.age.shape[0], frame.resolution
    face = torch.zeros(n, res, res, device=frame.device)  # [N, H, W]
    window = frame.window(lay.face_u - lay.half_w, lay.face_u + lay.half_w, -lay.half_h, lay.half_h)
    if window is None:
        return face
    u, v = frame.head_uv(window)
    alpha = coverage(face_distance(u, v, lay), frame.inv_pixel)  # [N, h, w]
    face[:, window[0], window[1]] = alpha
    canvas.paint(alpha, lay.skin, window, silhouette=True)
    return face


def draw_hair_front(frame: Frame, canvas: Canvas, lay: Layout, hair: HairPass) -> None:
    """Hair over the forehead and temples: below the hairline curve, inside the crown.

    Drawn only down to the lowest point any hairline reaches (short hair: the temples).
    """
    reach = lay.half_w * 1.02 + lay.hair_volume  # [N] widest hairline point inside the crown
    lowest = lay.hairline_v + reach * reach * (lay.hairline_curve + lay.hair_sides * reach * reach) \
        + reach * lay.hair_part.abs()  # [N]
    first_row = hair.window[0].start
    bounds = frame.window(lay.hair_u - reach, lay.hair_u + reach, -lay.half_h - lay.hair_volume, lowest)
    if bounds is None or bounds[0].start >= hair.window[0].stop:
        return
    end = min(bounds[0].stop, hair.window[0].stop) - first_row  # rows of the hair window to draw
    window = (slice(first_row, first_row + end), hair.window[1])
    u, v = hair.u[:, :end], hair.v[:, :end]  # [N, h', w]
    du = u - col(lay.hair_u)  # [N, h', w]
    du2 = du * du
    hairline = du2.mul(col(lay.hair_sides)).add_(col(lay.hairline_curve)).mul_(du2) \
        .add_(du.mul_(col(lay.hair_part))).add_(col(lay.hairline_v))  # [N, h', w]
    below_line = coverage(hairline.neg_().add_(v), frame.inv_pixel)  # [N, h', w]
    inside = coverage(hair.crown[:, :end], frame.inv_pixel)
    canvas.paint(below_line.mul_(inside), hair.color[:, :, :end], window, silhouette=True)


def apply_lighting(frame: Frame, canvas: Canvas, lay: Layout) -> torch.Tensor:
    """Lambert shading of the foreground as if head and shoulders were one sphere-ish body.

    The sphere is centred on the face in picture coordinates (roll does not change a sphere's
    normals), so normals are separable in ``x`` and ``y``.

    Returns:
        the final picture ``[N, 3, H, W]`` in [-1, 1].
    """
    light_x = col(0.85 * lay.light)  # [N, 1, 1]
    light_y = -0.35
    light_z = torch.sqrt(1.0 - light_x * light_x - light_y * light_y)  # [N, 1, 1]
    centre_x = frame.head_x + frame.scale * frame.cos * lay.face_u  # [N]
    nx = (frame.xs[None, None, :] - col(centre_x)).mul_(col(1.0 / (frame.scale * lay.half_w * 1.15)))
    nx = nx.clamp_(-1.0, 1.0)  # [N, 1, W]
    ny = (frame.ys[None, :, None] - col(frame.head_y)).mul_(col(1.0 / (frame.scale * 1.25)))
    ny = ny.clamp_(-1.0, 0.7)  # [N, H, 1] lower body treated like the sphere's lower side
    nz = (nx * nx).neg_().add_(1.0) - ny * ny  # [N, H, W]
    nz = nz.clamp_(min=0.0).sqrt_().mul_(light_z)  # [N, H, W] already times the light's z
    lambert = (nx.mul_(light_x) + ny.mul_(light_y)).add_(nz).clamp_(min=0.0)  # [N, H, W]
    # shade = 0.48 + 0.62 * lambert on the foreground, 1 on the background; times 2 for [-1, 1] output
    factor = lambert.mul_(1.24).sub_(1.04).mul_(canvas.foreground).add_(2.0)  # [N, H, W]
    return canvas.rgb.mul_(factor[:, None]).sub_(1.0).clamp_(-1.0, 1.0)
