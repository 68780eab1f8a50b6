"""Device selection: CUDA when available, else Apple's MPS, else the CPU."""

from __future__ import annotations

from typing import Union

import torch

__all__ = ["resolve_device"]


def resolve_device(device: Union[str, torch.device, None] = None) -> torch.device:
    """Turn ``None`` / ``'auto'`` into the best available device; check explicit requests.

    Raises:
        ValueError: an explicit CUDA/MPS device was asked for but is not available.
    """
    if device is None or (isinstance(device, str) and device.lower() == "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"unknown device {device!r} ({exc}); use 'cpu', 'cuda', 'cuda:N', 'mps' or 'auto'") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was requested but CUDA is not available here; use 'cpu' or 'auto'")
    if resolved.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"device {device!r} was requested but MPS is not available here; use 'cpu' or 'auto'")
    return resolved
