"""Colours of the synthfaces world: skin, hair, eyes, clothes and backgrounds.

All colours are RGB in [0, 1] (sRGB-like, no gamma handling: the renderer mixes in this space).
Functions map per-image parameters ``[N]`` to colours ``[N, 3]``.
"""

from __future__ import annotations

import torch

__all__ = ["SKIN_KEYS", "HAIR_RGB", "GREY_RGB", "BACKGROUND_RGB", "skin_rgb", "hair_rgb", "iris_rgb",
           "clothes_rgb", "background_rgb", "palette_lookup"]

# Skin from lightest to darkest; skin_tone in [0, 1] interpolates linearly along these keys.
SKIN_KEYS = (
    (0.97, 0.82, 0.72),
    (0.88, 0.68, 0.54),
    (0.72, 0.50, 0.36),
    (0.52, 0.34, 0.23),
    (0.32, 0.21, 0.15),
)
# Indexed by hair_color: black, brown, blonde, red.
HAIR_RGB = (
    (0.10, 0.08, 0.08),
    (0.36, 0.23, 0.13),
    (0.86, 0.71, 0.44),
    (0.66, 0.27, 0.11),
)
GREY_RGB = (0.80, 0.80, 0.80)
# Indexed by background: grey, blue, green, cream, terracotta, dark.
BACKGROUND_RGB = (
    (0.60, 0.60, 0.62),
    (0.40, 0.56, 0.78),
    (0.45, 0.64, 0.45),
    (0.90, 0.84, 0.70),
    (0.76, 0.44, 0.34),
    (0.16, 0.16, 0.19),
)
# Iris colours: dark brown, brown, hazel, green, blue, grey-blue.
IRIS_KEYS = (
    (0.16, 0.09, 0.05),
    (0.33, 0.19, 0.09),
    (0.46, 0.36, 0.16),
    (0.30, 0.45, 0.28),
    (0.30, 0.47, 0.68),
    (0.48, 0.56, 0.64),
)


def palette_lookup(keys, position: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear colour along ``keys`` (K colours) at ``position`` in [0, 1].

    Shape: ``position`` ``[N]`` -> ``[N, 3]``.
    """
    table = torch.tensor(keys, dtype=torch.float32, device=position.device)  # [K, 3]
    scaled = position.clamp(0.0, 1.0) * (len(keys) - 1)  # [N]
    index = scaled.floor().clamp(max=len(keys) - 2).long()  # [N]
    frac = (scaled - index)[:, None]  # [N, 1]
    return torch.lerp(table[index], table[index + 1], frac)  # [N, 3]


def _indexed(keys, index: torch.Tensor) -> torch.Tensor:
    table = torch.tensor(keys, dtype=torch.float32, device=index.device)  # [K, 3]
    return table[index.round().clamp(0, len(keys) - 1).long()]  # [N, 3]


def skin_rgb(tone: torch.Tensor, shade: torch.Tensor, warmth: torch.Tensor, age: torch.Tensor) -> torch.Tensor:
    """Skin colour ``[N, 3]`` from skin tone, brightness and warmth jitter (both in [-1, 1]) and age.

    Age makes skin a little duller and sallower.
    """
    rgb = palette_lookup(SKIN_KEYS, tone) * (1.0 + 0.05 * shade)[:, None]  # [N, 3]
    warm = torch.stack([0.025 * warmth, 0.0 * warmth, -0.03 * warmth], dim=1)  # [N, 3]
    rgb = rgb + warm
    dull = rgb.mean(dim=1, keepdim=True) * torch.tensor([1.0, 0.97, 0.9], device=rgb.device)  # [N, 3]
    return torch.lerp(rgb, dull, 0.45 * age[:, None]).clamp(0.0, 1.0)


def hair_rgb(color: torch.Tensor, shade: torch.Tensor, grey: torch.Tensor) -> torch.Tensor:
    """Hair colour ``[N, 3]`` from the class index, brightness jitter in [-1, 1] and greying in [0, 1]."""
    rgb = _indexed(HAIR_RGB, color) * (1.0 + 0.18 * shade)[:, None]  # [N, 3]
    grey_rgb = torch.tensor(GREY_RGB, device=rgb.device)[None, :] * (1.0 + 0.1 * shade)[:, None]  # [N, 3]
    # Greying goes through salt-and-pepper (dimmer) before white.
    return torch.lerp(rgb, grey_rgb, grey[:, None] ** 0.8).clamp(0.0, 1.0)


def iris_rgb(iris: torch.Tensor, skin_tone: torch.Tensor) -> torch.Tensor:
    """Iris colour ``[N, 3]``: ``iris`` in [0, 1] picks along dark-brown..grey-blue; darker skin keeps it brown."""
    position = iris * (1.0 - 0.85 * skin_tone)  # [N]
    return palette_lookup(IRIS_KEYS, position)


def clothes_rgb(hue: torch.Tensor, shade: torch.Tensor) -> torch.Tensor:
    """Clothes colour ``[N, 3]``: any hue, muted, brightness from ``shade`` in [-1, 1]."""
    h6 = hue[:, None] * 6.0 + torch.tensor([0.0, 4.0, 2.0], device=hue.device)  # [N, 3]
    pure = ((h6 % 6.0 - 3.0).abs() - 1.0).clamp(0.0, 1.0)  # [N, 3] fully saturated hue
    value = 0.45 + 0.3 * shade[:, None]  # [N, 1]
    saturation = 0.25 + 0.2 * (shade[:, None] * 7.0).sin().abs()  # [N, 1]
    return (value * (1.0 - saturation + saturation * pure)).clamp(0.0, 1.0)


def background_rgb(index: torch.Tensor, shade: torch.Tensor, tint: torch.Tensor) -> torch.Tensor:
    """Background base colour ``[N, 3]`` from the class index, brightness and tint jitter in [-1, 1]."""
    rgb = _indexed(BACKGROUND_RGB, index) * (1.0 + 0.12 * shade)[:, None]  # [N, 3]
    tint_rgb = torch.stack([0.03 * tint, -0.01 * tint, -0.03 * tint], dim=1)  # [N, 3]
    return (rgb + tint_rgb).clamp(0.0, 1.0)
