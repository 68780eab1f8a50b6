"""Parsing seed lists like ``0-7,10,20-22`` and drawing NVIDIA-compatible latents."""

from __future__ import annotations

from typing import List

import numpy as np
import torch

__all__ = ["parse_seeds", "z_from_seeds"]

MAX_SEEDS = 1_000_000


def parse_seeds(text: str) -> List[int]:
    """``'0-3,7'`` -> ``[0, 1, 2, 3, 7]``; ranges are inclusive."""
    seeds: List[int] = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part[1:]:
                lo, hi = part.split("-", 1) if not part.startswith("-") else (part, "")
                lo_i, hi_i = int(lo), int(hi)
                if hi_i < lo_i:
                    raise ValueError
                seeds.extend(range(lo_i, hi_i + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise ValueError(f"cannot read seeds {text!r}: use numbers and inclusive ranges like '0-7,10'") from None
        if len(seeds) > MAX_SEEDS:
            raise ValueError(f"more than {MAX_SEEDS} seeds requested")
    if not seeds:
        raise ValueError(f"no seeds in {text!r}; use numbers and inclusive ranges like '0-7,10'")
    if any(s < 0 or s >= 2**32 for s in seeds):
        raise ValueError("seeds must lie in [0, 2**32)")
    return seeds


def z_from_seeds(seeds: List[int], z_dim: int) -> torch.Tensor:
    """Latents ``[N, z_dim]`` drawn as NVIDIA's generate.py does (``RandomState(seed).randn``),
    so the same seed gives the same face as NVIDIA's tools."""
    return torch.from_numpy(np.stack([np.random.RandomState(s).randn(z_dim) for s in seeds])).to(torch.float32)
