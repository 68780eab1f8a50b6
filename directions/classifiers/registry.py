"""Classifiers by name, for the command line and configs."""

from __future__ import annotations

from pathlib import Path
from typing import Union

import torch

from directions.classifiers.base import AttributeClassifier

__all__ = ["make_classifier"]


def make_classifier(spec: str, device: Union[str, torch.device, None] = None) -> AttributeClassifier:
    """Build a classifier from a name: ``'synthfaces-labeler'``, ``'synthfaces-judge'`` or a saved
    AttributeNet folder."""
    from faceedit.attributes import BUNDLED_CLASSIFIERS

    if spec in BUNDLED_CLASSIFIERS or Path(spec).is_dir():
        from directions.classifiers.base import SynthfacesClassifier

        return SynthfacesClassifier(spec, device=device)
    raise ValueError(f"unknown classifier {spec!r}; use one of {', '.join(BUNDLED_CLASSIFIERS)} or a folder written "
                     f"by AttributeNet.save_pretrained")
