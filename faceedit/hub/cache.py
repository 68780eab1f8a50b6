"""Where downloaded models live: ``$FACEEDIT_CACHE`` or the user's cache folder."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir", "is_offline", "CACHE_ENV", "OFFLINE_ENV"]

CACHE_ENV = "FACEEDIT_CACHE"
OFFLINE_ENV = "FACEEDIT_OFFLINE"


def cache_dir() -> Path:
    """The model cache folder (not created here)."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("faceedit")) / "models"


def is_offline() -> bool:
    """True when ``FACEEDIT_OFFLINE`` is set to a true value: never touch the network."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}
