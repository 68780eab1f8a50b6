"""Facial features of a portrait: eyes, brows, nose, mouth, beard, folds and wrinkles, glasses.

Every feature is drawn in a per-image patch around it (see ``_frame.Frame.patch``), which keeps
rendering fast; skin-coloured details are clipped to the face coverage.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Optional, Tuple

import torch

from faceedit.synthfaces import palette
from faceedit.synthfaces._frame import Canvas, Frame
from faceedit.synthfaces._head import face_distance
from faceedit.synthfaces._layout import Layout
from faceedit.synthfaces._shapes import bump, col, coverage, ellipse, rounded_box, segment, smoothstep

__all__ = ["draw_age_lines", "draw_skin_details", "draw_nose", "draw_beard", "draw_mouth", "draw_eyes",
           "draw_glasses"]

_SIDES = (-1.0, 1.0)
_SCLERA = (0.93, 0.91, 0.88)
_LASH = (0.1, 0.07, 0.06)
_FRAME_KEYS = ((0.05, 0.05, 0.06), (0.32, 0.18, 0.09), (0.12, 0.12, 0.16), (0.62, 0.5, 0.3), (0.72, 0.72, 0.75))


def _rgb(values, like: torch.Tensor) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32, device=like.device)[None, :].expand(like.shape[0], 3)  # [N, 3]


@contextmanager
def _patch(frame: Frame, canvas: Canvas, face: Optional[torch.Tensor], u0, u1, v0, v1
           ) -> Iterator[Tuple[Canvas, torch.Tensor, torch.Tensor, Optional[torch.Tensor]]]:
    """Draw in per-image patches holding the head box ``[u0, u1] x [v0, v1]``.

    Yields a local canvas (paint it with ``window=None``), head coordinates ``u, v`` and the face
    coverage ``clip`` on the patches (each ``[N, h, w]``); the patches go back into ``canvas`` after.
    """
    patch = frame.patch(u0, u1, v0, v1)
    local = Canvas.local(canvas, patch)
    u, v = frame.head_uv(patch)
    yield local, u, v, (patch.gather(face) if face is not None else None)
    canvas.commit(patch, local)


def draw_age_lines(frame: Frame, canvas: Canvas, lay: Layout, face: torch.Tensor) -> None:
    """Forehead lines and jowl lines, in proportion to the wrinkle amount (see ``factors.appearance``)."""
    with _patch(frame, canvas, face, lay.face_u - 0.5, lay.face_u + 0.5, lay.brow_v - 0.4, lay.brow_v - 0.04) \
            as (local, u, v, clip):
        depth = v - col(lay.brow_v)  # [N, h, w]
        lines = torch.cos(depth * 62.8).clamp_(min=0.0).square_()  # [N, h, w] a line every 0.1 head units
        envelope = bump(u - col(lay.face_u), depth + 0.2, 0.45, 0.15)  # [N, h, w]
        local.paint(lines.mul_(envelope).mul_(col(0.5 * lay.wrinkles)).mul_(clip), lay.skin * 0.7)
    with _patch(frame, canvas, face, lay.mouth_u - lay.mouth_w - 0.1, lay.mouth_u + lay.mouth_w + 0.1,
                lay.mouth_v, lay.mouth_v + 0.26) as (local, u, v, clip):
        for side in _SIDES:
            corner_u = lay.mouth_u + side * lay.mouth_w
            jowl = segment(u, v, col(corner_u), col(lay.mouth_v + 0.04), col(corner_u + side * 0.04),
                           col(lay.mouth_v + 0.22), 0.01)
            local.paint(coverage(jowl, frame.inv_pixel).mul_(col(0.45 * lay.wrinkles)).mul_(clip), lay.skin * 0.7)


def draw_skin_details(frame: Frame, canvas: Canvas, lay: Layout, face: torch.Tensor) -> None:
    """Smile folds (smile and age) and raised, flushed cheeks (smile, feminine presentation)."""
    left, right = lay.eye_u
    with _patch(frame, canvas, face, torch.minimum(left - 0.16, lay.mouth_u - lay.mouth_w - 0.08),
                torch.maximum(right + 0.16, lay.mouth_u + lay.mouth_w + 0.08),
                lay.eye_v + 0.2, lay.mouth_v + 0.14) as (local, u, v, clip):
        fold_strength = col(0.12 + 0.3 * lay.smile + 0.45 * lay.wrinkles)
        blush = torch.lerp(lay.skin, _rgb((0.85, 0.45, 0.45), lay.skin), 0.35)  # [N, 3]
        for side, eye_u in zip(_SIDES, lay.eye_u):
            cheek = bump(u - col(eye_u), v - col(lay.eye_v + 0.32), 0.16, 0.1)  # [N, h, w]
            local.paint(cheek.mul_(col(0.2 * lay.smile + 0.1 * lay.feminine)).mul_(clip), blush)
            start_u = lay.nose_u + side * (lay.nose_w + 0.04)
            end_u = lay.mouth_u + side * (lay.mouth_w + 0.06)
            fold = segment(u, v, col(start_u), col(lay.nose_v - 0.03), col(end_u), col(lay.mouth_v + 0.1), 0.012)
            local.paint(coverage(fold, frame.inv_pixel).mul_(fold_strength).mul_(clip), lay.skin * 0.72)


def draw_nose(frame: Frame, canvas: Canvas, lay: Layout, face: torch.Tensor) -> None:
    """Nose as shading: a shadowed side, the dark underside and nostrils, a lit tip."""
    top = lay.eye_v + 0.04
    left = torch.minimum(lay.nose_u - lay.nose_w, lay.bridge_u - 0.5 * lay.nose_w) - 0.06
    right = torch.maximum(lay.nose_u + lay.nose_w, lay.bridge_u + 0.5 * lay.nose_w) + 0.06
    with _patch(frame, canvas, face, left, right, top, lay.nose_v + 0.06) as (local, u, v, clip):
        _nose(frame, local, lay, u, v, clip, top)


def _nose(frame: Frame, local: Canvas, lay: Layout, u: torch.Tensor, v: torch.Tensor, clip: torch.Tensor,
          top: torch.Tensor) -> None:
    dark = lay.skin * 0.62
    for side in _SIDES:
        # The side facing away from the light is darker; frontal light shades both a little.
        strength = col(0.14 + 0.2 * (1.0 - side * lay.light).clamp(0.0, 1.5))
        wall_u = 0.5 * (lay.bridge_u + lay.nose_u) + side * (0.5 * lay.nose_w + 0.012)
        wall = ellipse(u - col(wall_u), v - col(0.5 * (top + lay.nose_v)), 0.035, col(0.5 * (lay.nose_v - top)))
        local.paint(coverage(wall, frame.inv_pixel).mul_(strength).mul_(clip), dark)
    underside = ellipse(u - col(lay.nose_u), v - col(lay.nose_v + 0.015), col(lay.nose_w), 0.04)
    local.paint(coverage(underside, frame.inv_pixel).mul_(0.45).mul_(clip), dark)
    for side in _SIDES:
        nostril = ellipse(u - col(lay.nose_u + side * 0.45 * lay.nose_w), v - col(lay.nose_v + 0.005), 0.032, 0.02)
        local.paint(coverage(nostril, frame.inv_pixel).mul_(0.7).mul_(clip), lay.skin * 0.3)
    tip = bump(u - col(lay.nose_u + 0.03 * lay.light), v - col(lay.nose_v - 0.07), 0.06, 0.07)
    local.paint(tip.mul_(0.35).mul_(clip), (lay.skin * 1.2).clamp(max=1.0))
    ridge = bump(u - col(0.5 * (lay.bridge_u + lay.nose_u) + 0.02 * lay.light), v - col(0.5 * (top + lay.nose_v)),
                 0.025, col(0.5 * (lay.nose_v - top)))
    local.paint(ridge.mul_(0.25).mul_(clip), (lay.skin * 1.15).clamp(max=1.0))


def draw_beard(frame: Frame, canvas: Canvas, lay: Layout) -> None:
    """Stubble shadow to full beard and moustache over the lower face, bulging past the jaw when full."""
    with _patch(frame, canvas, None, lay.face_u - lay.half_w - 0.1, lay.face_u + lay.half_w + 0.1,
                torch.full_like(lay.half_h, -0.2), lay.half_h + 0.15) as (local, u, v, _):
        _beard(frame, local, lay, u, v)


def _beard(frame: Frame, local: Canvas, lay: Layout, u: torch.Tensor, v: torch.Tensor) -> None:
    full = smoothstep(0.25, 0.75, lay.beard)  # [N]
    below_mouth = (v - 0.45).mul_(4.0).clamp_(0.0, 1.0)  # [N, h, w]
    outline = face_distance(u, v, lay).sub_(below_mouth.mul_(col(0.1 * full)))  # [N, h, w]
    du = (u - col(lay.mouth_u)) / col(lay.half_w)  # [N, h, w]
    top = (0.47 - 0.62 * du * du).sub_(v)  # [N, h, w] positive above the beard line
    # Narrow styles (goatee, chin beard) keep to an oval around mouth and chin; wide ones reach the ears.
    width = col(lay.beard_width)
    extent = ellipse(du, v - col(lay.mouth_v + 0.3), width, 0.55 + 0.45 * width)  # [N, h, w]
    region = coverage(torch.maximum(torch.maximum(outline, top), extent), frame.inv_pixel)  # [N, h, w]
    density = (lay.beard * 4.0).clamp(max=1.0) * (0.35 + 0.65 * full)  # [N]
    local.paint(region.mul_(col(density)), lay.beard_rgb)


def draw_mouth(frame: Frame, canvas: Canvas, lay: Layout) -> None:
    """Lips along a curve that rises at the corners with the smile; teeth when the mouth opens."""
    with _patch(frame, canvas, None, lay.mouth_u - lay.mouth_w, lay.mouth_u + lay.mouth_w,
                lay.mouth_v - lay.mouth_curve.clamp(min=0.0) - lay.lip_upper - 0.03,
                lay.mouth_v + lay.mouth_curve.clamp(max=0.0).abs() + lay.mouth_open + lay.lip_lower + 0.03) \
            as (local, u, v, _):
        _mouth(frame, local, lay, u, v)


def _mouth(frame: Frame, local: Canvas, lay: Layout, u: torch.Tensor, v: torch.Tensor) -> None:
    across = (u - col(lay.mouth_u)) / col(lay.mouth_w)  # [N, h, w] -1..1 corner to corner
    across_c = across.clamp(-1.0, 1.0)
    taper = (1.0 - across_c * across_c).sqrt_()  # [N, h, w] lips thin out towards the corners
    inside_corners = coverage((across.abs() - 1.0).mul_(col(lay.mouth_w)), frame.inv_pixel)  # [N, h, w]
    down = v - col(lay.mouth_v) + across_c * across_c * col(lay.mouth_curve)  # [N, h, w] below the mouth line
    opening = col(lay.mouth_open) * taper  # [N, h, w]
    lip_alpha = col(1.0 - 0.4 * smoothstep(0.3, 0.9, lay.beard))

    def band(top: torch.Tensor, height: torch.Tensor) -> torch.Tensor:  # coverage of top < down < top + height
        half = 0.5 * height
        return coverage((down - top - half).abs_().sub_(half), frame.inv_pixel).mul_(inside_corners)

    upper = band(-col(lay.lip_upper) * taper, col(lay.lip_upper) * taper)
    local.paint(upper.mul_(lip_alpha), lay.lips)
    lower = band(opening, col(lay.lip_lower) * taper)
    local.paint(lower.mul_(lip_alpha), lay.lips * 1.08)
    inner = band(torch.zeros_like(opening), opening)
    local.paint(inner, _rgb((0.28, 0.08, 0.08), lay.lips))
    teeth = band(torch.zeros_like(opening), opening * 0.55)
    local.paint(teeth.mul_(0.9), _rgb((0.92, 0.9, 0.84), lay.lips))
    seam = coverage((down - opening).abs_().sub_(0.02), frame.inv_pixel).mul_(inside_corners)
    local.paint(seam.mul_(0.8), lay.lips * 0.4)


def draw_eyes(frame: Frame, canvas: Canvas, lay: Layout, face: torch.Tensor) -> None:
    """Both eyes (sockets, bags, whites, iris, pupil, glint, lid, lashes), then both brows."""
    left, right = lay.eye_u
    left_w, right_w = (lay.eye_w * squash for squash in lay.eye_squash)
    reach_left = torch.maximum(1.6 * left_w, left_w + 0.07)  # socket, or lashes past the outer corner
    reach_right = torch.maximum(1.6 * right_w, right_w + 0.07)
    u0 = torch.minimum(left - reach_left, left - 0.02 - lay.brow_len) - 0.03
    u1 = torch.maximum(right + reach_right, right + 0.02 + lay.brow_len) + 0.03
    v0 = lay.brow_v - lay.brow_arch - lay.brow_thick - 0.02
    with _patch(frame, canvas, face, u0, u1, v0, lay.eye_v + 0.17) as (local, u, v, clip):
        for side, eye_u, squash in zip(_SIDES, lay.eye_u, lay.eye_squash):
            _eye(frame, local, lay, u - col(eye_u), v - col(lay.eye_v), clip, side, squash)
        for side, eye_u, squash in zip(_SIDES, lay.eye_u, lay.eye_squash):
            _brow(frame, local, lay, u, v, clip, side, eye_u, squash)


def _eye(frame: Frame, local: Canvas, lay: Layout, du: torch.Tensor, dv: torch.Tensor, clip: torch.Tensor,
         side: float, squash: torch.Tensor) -> None:
    """One eye; ``du, dv`` ``[N, h, w]`` are head coordinates relative to its centre."""
    sclera_rgb = _rgb(_SCLERA, lay.skin)
    lash_rgb = _rgb(_LASH, lay.skin)
    half_w = lay.eye_w * squash  # [N]
    rx, ry = col(half_w), col(lay.eye_h)
    socket = bump(du, dv + 0.02, rx * 1.6, 0.15)
    local.paint(socket.mul_(0.22).mul_(clip), lay.skin * 0.7)
    bags = bump(du, dv - 0.1, rx * 1.1, 0.06)
    local.paint(bags.mul_(col(0.6 * lay.wrinkles)).mul_(clip), lay.skin * 0.68)
    eye = ellipse(du, dv, rx, ry)  # [N, h, w]
    white = coverage(eye.clone(), frame.inv_pixel)  # [N, h, w]
    local.paint(white, sclera_rgb)
    iris_du = du - col(lay.gaze) * rx
    iris = coverage(ellipse(iris_du, dv, col(lay.iris_r * squash), col(lay.iris_r)), frame.inv_pixel)
    local.paint(iris.mul_(white), lay.iris)
    pupil = coverage(ellipse(iris_du, dv, col(0.45 * lay.iris_r * squash), col(0.45 * lay.iris_r)), frame.inv_pixel)
    local.paint(pupil.mul_(white), lash_rgb)
    glint = bump(iris_du - col(0.35 * lay.iris_r * lay.light), dv + col(0.35 * lay.iris_r), 0.03, 0.03)
    local.paint(glint.mul_(white).mul_(0.8), torch.ones_like(lay.skin))
    upper_half = dv.div(ry).mul_(-3.0).add_(0.6).clamp_(0.0, 1.0)  # [N, h, w] fades out below the middle
    lid = coverage(eye.abs_().sub_(col(0.012 + 0.014 * lay.lashes)), frame.inv_pixel)
    local.paint(lid.mul_(upper_half).mul_(0.9), lash_rgb)
    crease = coverage(ellipse(du, dv + 0.015, rx * 1.08, ry * 1.5).abs_().sub_(0.008), frame.inv_pixel)
    local.paint(crease.mul_(upper_half).mul_(0.25).mul_(clip), lay.skin * 0.6)
    outer_u = col(side * half_w)
    flick = segment(du, dv, outer_u * 0.8, -0.2 * ry, outer_u + side * 0.05, -0.9 * ry - 0.02,
                    col(0.015 * lay.lashes))
    local.paint(coverage(flick, frame.inv_pixel).mul_(col(lay.lashes)), lash_rgb)


def _brow(frame: Frame, local: Canvas, lay: Layout, u: torch.Tensor, v: torch.Tensor, clip: torch.Tensor,
          side: float, eye_u: torch.Tensor, squash: torch.Tensor) -> None:
    """One brow in the (greying) hair colour: thick, low and flat when masculine, thin and arched when feminine."""
    brow_rgb = torch.lerp(lay.hair * 0.75, lay.skin * 0.5, 0.25)  # [N, 3]
    length = lay.brow_len * squash  # [N]
    centre_u = eye_u + side * 0.02 * squash
    du, dv = u - col(centre_u), v - col(lay.brow_v)  # [N, h, w]
    along = (du / col(length)).clamp_(-1.0, 1.0)  # [N, h, w]
    outward = (along * side).clamp(min=0.0)  # [N, h, w] 0 at the inner half, 1 at the tail
    curve_v = (1.0 - along * along).mul_(col(-lay.brow_arch))  # [N, h, w] arch above the brow line
    thickness = col(lay.brow_thick) * (1.0 - 0.5 * outward)
    distance = ((du - along * col(length)).square_() + (dv - curve_v).square_()).sqrt_().sub_(thickness)
    local.paint(coverage(distance, frame.inv_pixel).mul_(0.9).mul_(clip), brow_rgb)


def draw_glasses(frame: Frame, canvas: Canvas, lay: Layout) -> None:
    """Frames (round to square, dark plastic to thin metal), bridge, temple arms and tinted lenses."""
    left, right = lay.ear_u
    with _patch(frame, canvas, None, torch.minimum(left, lay.eye_u[0] - 0.22 * lay.glasses_size) - 0.04,
                torch.maximum(right, lay.eye_u[1] + 0.22 * lay.glasses_size) + 0.04,
                lay.eye_v + 0.01 - 0.14 * lay.glasses_size - 0.04, lay.eye_v + 0.01 + 0.14 * lay.glasses_size + 0.04) \
            as (local, u, v, _):
        _glasses(frame, local, lay, u, v)


def _glasses(frame: Frame, local: Canvas, lay: Layout, u: torch.Tensor, v: torch.Tensor) -> None:
    style = lay.glasses_frame  # [N]
    frame_rgb = palette.palette_lookup(_FRAME_KEYS, style)  # [N, 3]
    half_thick = col(0.032 - 0.014 * style)
    size = lay.glasses_size  # [N]
    half_h = 0.13 * size
    corner = half_h * (0.3 + 0.7 * lay.glasses_shape)
    centre_v = col(lay.eye_v + 0.01)
    opacity = col(lay.glasses)
    lens_cov, rims, inner_edges, glints = [], [], [], []
    for side, eye_u, squash in zip(_SIDES, lay.eye_u, lay.eye_squash):
        half_w = 0.2 * size * squash
        lens = rounded_box(u - col(eye_u), v - centre_v, col(half_w), col(half_h), col(corner * squash.clamp(0.3)))
        rims.append(lens.abs().sub_(half_thick))
        lens_cov.append(coverage(lens, frame.inv_pixel))
        # A diagonal reflection streak, on the side of the lens towards the light.
        diagonal = (u - col(eye_u + 0.08 * lay.light * half_w)).add_(v - centre_v, alpha=0.8).div_(0.05)
        glints.append(diagonal.square_().neg_().add_(1.0).clamp_(min=0.0))
        inner_edges.append(eye_u - side * half_w)
        arm = segment(u, v, col(eye_u + side * half_w), centre_v - 0.06, col(lay.ear_u[int(side > 0)]),
                      centre_v - 0.03, half_thick * 0.8)
        rims[-1] = torch.minimum(rims[-1], arm)
    bridge = segment(u, v, col(inner_edges[0]), centre_v - 0.04, col(inner_edges[1]), centre_v - 0.04,
                     half_thick * 0.9)
    for lens, glint in zip(lens_cov, glints):
        local.paint(lens.mul(0.18).mul_(opacity), _rgb((0.7, 0.78, 0.86), lay.skin))
        local.paint(glint.mul_(lens).mul_(0.25).mul_(opacity), torch.ones_like(lay.skin))
    rim = torch.minimum(torch.minimum(rims[0], rims[1]), bridge)
    local.paint(coverage(rim, frame.inv_pixel).mul_(opacity), frame_rgb)
