"""Signed distances and anti-aliased coverage for the synthfaces renderer.

Distances are in head units (1 = half the head height) and negative inside a shape. Coverage
turns a distance into the fraction of a pixel covered, a linear ramp one pixel wide (a box
filter of the edge), so edges are soft at every resolution and *exactly* 0 more than half a
pixel outside a shape: that is what lets the renderer draw small features in windows.

Per-image parameters are ``[N, 1, 1]`` and broadcast against ``[N, h, w]`` coordinate grids.
"""

from __future__ import annotations

from typing import Union

import torch

Scalar = Union[float, torch.Tensor]

__all__ = ["coverage", "ellipse", "rounded_box", "segment", "smoothstep", "bump", "col"]


def col(value: torch.Tensor) -> torch.Tensor:
    """A per-image vector ``[N]`` as ``[N, 1, 1]``, to broadcast against ``[N, h, w]`` grids."""
    return value[:, None, None]


def coverage(distance: torch.Tensor, inv_pixel: torch.Tensor) -> torch.Tensor:
    """Anti-aliased coverage of a shape from its signed distance.

    Args:
        distance: signed distance ``[N, h, w]`` in head units, negative inside (consumed: the
            result is written into it).
        inv_pixel: pixels per head unit, ``[N, 1, 1]``.

    Returns:
        ``[N, h, w]`` in [0, 1]: 1 more than half a pixel inside, 0 more than half a pixel outside.
    """
    return distance.mul_(-inv_pixel).add_(0.5).clamp_(0.0, 1.0)


def ellipse(du: torch.Tensor, dv: torch.Tensor, rx: Scalar, ry: Scalar) -> torch.Tensor:
    """Approximate signed distance to an axis-aligned ellipse centred at ``du = dv = 0``.

    Uses the implicit function divided by its gradient length, exact on the boundary to first
    order, which is all coverage needs.

    Shape: ``du``, ``dv`` broadcast to ``[N, h, w]``; ``rx``, ``ry`` floats or ``[N, 1, 1]``.
    """
    inv_rx, inv_ry = 1.0 / rx, 1.0 / ry
    x = du * inv_rx  # [N, h, w]
    y = dv * inv_ry  # [N, h, w]
    implicit = (x.square() + y.square()).sub_(1.0)  # [N, h, w]
    grad = (x.mul_(inv_rx).square_() + y.mul_(inv_ry).square_()).sqrt_().mul_(2.0).clamp_(min=1e-4)
    return implicit.div_(grad)


def rounded_box(du: torch.Tensor, dv: torch.Tensor, half_w: Scalar, half_h: Scalar, radius: Scalar) -> torch.Tensor:
    """Exact signed distance to a rectangle with rounded corners, centred at ``du = dv = 0``.

    Shape: ``du``, ``dv`` broadcast to ``[N, h, w]``; sizes floats or ``[N, 1, 1]``.
    """
    qx = du.abs() - (half_w - radius)  # [N, h, w]
    qy = dv.abs() - (half_h - radius)  # [N, h, w]
    outside = (qx.clamp(min=0.0).square_() + qy.clamp(min=0.0).square_()).sqrt_()  # [N, h, w]
    inside = torch.maximum(qx, qy).clamp_(max=0.0)  # [N, h, w]
    return outside.add_(inside).sub_(radius)


def segment(du: torch.Tensor, dv: torch.Tensor, ax: Scalar, ay: Scalar, bx: Scalar, by: Scalar,
            radius: Scalar) -> torch.Tensor:
    """Signed distance to a capsule: the segment from ``(ax, ay)`` to ``(bx, by)`` thickened by ``radius``.

    Shape: ``du``, ``dv`` ``[N, h, w]``; end points and radius floats or ``[N, 1, 1]``.
    """
    px, py = du - ax, dv - ay  # [N, h, w]
    sx, sy = bx - ax, by - ay  # [N, 1, 1]
    inv_len2 = 1.0 / (sx * sx + sy * sy + 1e-9)  # [N, 1, 1]
    t = (px * (sx * inv_len2) + py * (sy * inv_len2)).clamp_(0.0, 1.0)  # [N, h, w]
    return ((px - t * sx).square_() + (py - t * sy).square_()).sqrt_().sub_(radius)


def smoothstep(edge0: Scalar, edge1: Scalar, x: torch.Tensor) -> torch.Tensor:
    """Hermite step from 0 at ``edge0`` to 1 at ``edge1`` (elementwise)."""
    t = ((x - edge0) / (edge1 - edge0)).clamp(0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def bump(du: torch.Tensor, dv: torch.Tensor, rx: Scalar, ry: Scalar) -> torch.Tensor:
    """Soft blob with compact support: ``(1 - r^2)^2`` inside the ellipse ``(rx, ry)``, exactly 0 outside.

    Shape: ``[N, h, w]`` from ``du``, ``dv`` ``[N, h, w]``.
    """
    r2 = (du * (1.0 / rx)).square_() + (dv * (1.0 / ry)).square_()  # [N, h, w]
    return r2.neg_().add_(1.0).clamp_(min=0.0).square_()
