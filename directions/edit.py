"""Applying a direction: ``w' = w + alpha * d`` on a range of W+ rows."""

from __future__ import annotations

from typing import Optional, Tuple, Union

import numpy as np
import torch

__all__ = ["LAYER_PRESETS", "layer_range", "apply_direction", "ApplyDirection"]

# Which W+ rows an edit touches, as fractions of num_ws: coarse rows set pose, face shape and
# hair style; middle rows features; fine rows colour and texture.
LAYER_PRESETS = {"all": (0.0, 1.0), "coarse": (0.0, 0.3), "middle": (0.3, 0.6), "fine": (0.6, 1.0),
                 "coarse+middle": (0.0, 0.6)}
Layers = Union[str, Tuple[int, int], None]


def layer_range(layers: Layers, num_ws: int) -> Tuple[int, int]:
    """Resolve ``layers`` (a preset name, ``(start, stop)`` rows, or None = all) to ``(start, stop)``."""
    if layers is None:
        return 0, num_ws
    if isinstance(layers, str):
        if layers not in LAYER_PRESETS:
            raise ValueError(f"unknown layer range {layers!r}; use one of {sorted(LAYER_PRESETS)} or (start, stop)")
        lo, hi = LAYER_PRESETS[layers]
        start, stop = int(round(lo * num_ws)), int(round(hi * num_ws))
        return start, max(stop, start + 1)
    start, stop = (int(v) for v in layers)
    if not 0 <= start < stop <= num_ws:
        raise ValueError(f"layer range ({start}, {stop}) must satisfy 0 <= start < stop <= num_ws ({num_ws})")
    return start, stop


def apply_direction(
    ws: torch.Tensor,  # [N, num_ws, w_dim] or [N, w_dim]
    direction: Union[torch.Tensor, np.ndarray],  # [w_dim], unit length
    alpha: Union[float, torch.Tensor],  # edit strength (per sample: [N]), in the units of `scale`
    layers: Layers = None,  # rows to edit; None = all rows
    scale: float = 1.0,  # length of one unit of alpha in W (e.g. the direction's projection std)
) -> torch.Tensor:
    """Move latents along a direction; returns a new tensor of the same shape.

    Shape:
        ``ws [N, num_ws, w_dim]`` (W+) or ``[N, w_dim]`` (W, where ``layers`` must be None).
    """
    d = torch.as_tensor(direction, dtype=ws.dtype, device=ws.device).reshape(-1)
    if d.shape[0] != ws.shape[-1]:
        raise ValueError(f"direction has length {d.shape[0]} but the latents have w_dim {ws.shape[-1]}")
    step = torch.as_tensor(alpha, dtype=ws.dtype, device=ws.device) * scale
    step = step.reshape(-1, *([1] * (ws.ndim - 1))) if step.ndim else step  # [N, 1, 1] or scalar
    if ws.ndim == 2:
        if layers is not None:
            raise ValueError("a layer range needs W+ latents [N, num_ws, w_dim]")
        return ws + step * d
    start, stop = layer_range(layers, ws.shape[1])
    mask = torch.zeros(ws.shape[1], 1, dtype=ws.dtype, device=ws.device)
    mask[start:stop] = 1
    return ws + step * mask * d  # [N, num_ws, w_dim]


class ApplyDirection(torch.nn.Module):
    """Module form of :func:`apply_direction` with a fixed direction, layer range and scale."""

    def __init__(
        self,
        direction: Union[torch.Tensor, np.ndarray],  # [w_dim]
        layers: Layers = None,  # rows to edit, None = all
        scale: float = 1.0,  # W length of one unit of alpha
    ):
        super().__init__()
        self.register_buffer("direction", torch.as_tensor(np.asarray(direction), dtype=torch.float32))
        self.layers: Optional[Layers] = layers
        self.scale = scale

    def forward(self, ws: torch.Tensor, alpha: Union[float, torch.Tensor]) -> torch.Tensor:
        return apply_direction(ws, self.direction, alpha, self.layers, self.scale)
