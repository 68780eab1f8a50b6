"""Finding classifiers by name: the bundled labeler and judge, or any saved folder."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Union

import torch

from faceedit.attributes.model import AttributeNet
from faceedit.errors import ModelNotFoundError
from faceedit.hub.registry import ASSETS_DIR

__all__ = ["BUNDLED_CLASSIFIERS", "load_classifier"]

# name -> folder under faceedit/assets. The judge is for evaluation only: never build directions with it.
BUNDLED_CLASSIFIERS: Dict[str, str] = {
    "synthfaces-labeler": "synthfaces-labeler",
    "synthfaces-judge": "synthfaces-judge",
}


def load_classifier(source: Union[str, Path], device: Union[str, torch.device, None] = None) -> AttributeNet:
    """Load a bundled classifier by name (``'synthfaces-labeler'``, ``'synthfaces-judge'``) or a saved folder."""
    if isinstance(source, str) and source in BUNDLED_CLASSIFIERS:
        folder = ASSETS_DIR / BUNDLED_CLASSIFIERS[source]
        if not folder.is_dir():
            raise ModelNotFoundError(f"the bundled classifier {source} is missing from {folder}; reinstall faceedit")
        return AttributeNet.from_pretrained(folder, device=device)
    path = Path(source).expanduser()
    if path.is_dir():
        return AttributeNet.from_pretrained(path, device=device)
    raise ModelNotFoundError(f"{source} is neither a bundled classifier ({', '.join(BUNDLED_CLASSIFIERS)}) nor a "
                             f"folder written by AttributeNet.save_pretrained")
