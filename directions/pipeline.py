"""From labelled samples to a saved direction: the steps `faceedit directions fit` runs."""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np

from directions.io import Direction
from directions.sampling import LabelledSamples

__all__ = ["fit_direction", "CLASSIFICATION_DEFAULT_METHOD"]

CLASSIFICATION_DEFAULT_METHOD = "svm"


def fit_direction(
    samples: LabelledSamples,  # W and scores from sample_and_label
    attribute: str,  # score to fit, e.g. 'age' or 'hair_color=blonde'
    generator_name: str,  # recorded in the direction file
    generator_fingerprint: str,  # Generator.fingerprint() of the sampled generator
    classifier_name: str,  # recorded in the direction file
    method: str = CLASSIFICATION_DEFAULT_METHOD,  # DirectionEstimator method
    conditioned_on: Optional[Mapping[str, Direction]] = None,  # directions to project out, None = none
    layers: Optional[Sequence[int]] = None,  # W+ rows the direction is meant for, None = all
    **estimator_options,  # further DirectionEstimator hyperparameters (C, confident_fraction, ...)
) -> Direction:
    """Fit one attribute direction from labelled samples; conditional when ``conditioned_on`` is given."""
    from directions.estimators import DirectionEstimator

    if attribute not in samples.scores:
        raise ValueError(f"the samples have no score {attribute!r}; they have {sorted(samples.scores)}")
    conditioned_on = dict(conditioned_on or {})
    for name, other in conditioned_on.items():
        if other.generator_fingerprint != generator_fingerprint:
            raise ValueError(f"the {name} direction was fitted on {other.generator_name}, not on this generator")
    others = np.stack([d.vector for d in conditioned_on.values()]) if conditioned_on else None
    W = samples.w.double().numpy()
    y = samples.scores[attribute].double().numpy()
    keep = np.isfinite(y)  # a classifier may return NaN where it found no face
    estimator = DirectionEstimator(method=method, orthogonal_to=others, **estimator_options).fit(W[keep], y[keep])
    return Direction(
        vector=estimator.direction_, attribute=attribute, generator_name=generator_name,
        generator_fingerprint=generator_fingerprint, layers=tuple(layers) if layers is not None else None,
        method=method, classifier=classifier_name, n_samples=int(keep.sum()), score=estimator.score_,
        projection_std=estimator.projection_std_, conditioned_on=tuple(conditioned_on),
        extra={"estimator": {k: v for k, v in estimator.get_params().items() if k != "orthogonal_to"},
               "offset": estimator.offset_})
