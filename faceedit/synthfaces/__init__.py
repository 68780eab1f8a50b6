"""synthfaces: a procedural world of face portraits with ground-truth factors.

Faces are drawn by batched tensor operations from labelled factors (age, gender presentation,
smile, glasses, beard, skin tone, hair colour, yaw, roll, light, background) and per-face
nuisances, with FFHQ-like correlations built in. See ``docs/synthfaces.md``.

    from faceedit.synthfaces import render_batch, sample_factors, render_faces
    images, labels = render_batch(256, seed=0)     # [256, 3, 64, 64] in [-1, 1], {factor: [256]}
"""

from __future__ import annotations

from faceedit.synthfaces.factors import (
    BACKGROUNDS,
    FACTOR_NAMES,
    FACTORS,
    HAIR_COLORS,
    NUISANCE_NAMES,
    FactorSpec,
    appearance,
    sample_factors,
)
from faceedit.synthfaces.render import SynthFaces, render_batch, render_faces, render_masks

__all__ = ["FACTORS", "FACTOR_NAMES", "NUISANCE_NAMES", "HAIR_COLORS", "BACKGROUNDS", "FactorSpec",
           "sample_factors", "appearance", "render_faces", "render_masks", "render_batch", "SynthFaces"]
