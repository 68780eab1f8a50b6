"""From labelled samples to a saved direction: the steps `faceedit directions fit` runs."""

from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from directions.io import Direction
from directions.sampling import LabelledSamples

__all__ = ["fit_direction", "fit_directions", "score_names", "conditional_name", "CLASSIFICATION_DEFAULT_METHOD"]

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


def conditional_name(attribute: str, others: Sequence[str]) -> str:
    """File name of a conditional direction, e.g. ``'age-orth-gender-glasses'``."""
    return f"{attribute}-orth-{'-'.join(others)}" if others else attribute


def score_names(samples: LabelledSamples, name: str) -> List[str]:
    """The scores an attribute name stands for: the score itself, or every class score of a categorical
    attribute (``'background'`` -> ``['background=blue', 'background=cream', ...]``)."""
    if name in samples.scores:
        return [name]
    classes = [key for key in samples.scores if key.startswith(f"{name}=")]
    if not classes:
        raise ValueError(f"the samples have no score {name!r} and no classes of it; they have {sorted(samples.scores)}")
    return classes


def fit_directions(
    samples: LabelledSamples,  # W and scores from sample_and_label
    attributes: Sequence[str],  # scores to fit plain (naive) directions for
    generator_name: str,  # recorded in the direction files
    generator_fingerprint: str,  # Generator.fingerprint() of the sampled generator
    classifier_name: str,  # recorded in the direction files
    conditional: Sequence[Tuple[str, Sequence[str]]] = (),  # (attribute, attributes to project out) pairs
    method: str = CLASSIFICATION_DEFAULT_METHOD,  # DirectionEstimator method
    **estimator_options,  # further DirectionEstimator hyperparameters
) -> Dict[str, Direction]:
    """Fit naive directions, then conditional ones orthogonal to the naive directions named.

    Returns ``{name: Direction}``; naive directions are named after their attribute, conditional
    ones with :func:`conditional_name` (``[('age', ['gender'])]`` gives ``'age-orth-gender'``). Every
    attribute a conditional direction is made orthogonal to gets its own naive direction; a categorical
    attribute (``'background'``) stands for all its classes: each class's direction is projected out, and
    none of them is returned.
    """
    conditional = [(a, list(others)) for a, others in conditional]
    scores = {other: score_names(samples, other) for _, others in conditional for other in others}
    needed = list(attributes) + [name for a, others in conditional for name in [a, *others] if name not in scores
                                 or scores[name] == [name]]
    common = dict(generator_name=generator_name, generator_fingerprint=generator_fingerprint,
                  classifier_name=classifier_name, method=method, **estimator_options)
    fitted: Dict[str, Direction] = {}
    for attribute in dict.fromkeys(needed):
        fitted[attribute] = fit_direction(samples, attribute, **common)
    classes: Dict[str, Direction] = {}  # per-class directions of categorical conditions: used, not returned
    for attribute, others in conditional:
        others = [o for o in dict.fromkeys(others) if o != attribute]
        if not others:
            continue
        conditioned_on = {}
        for score in (score for o in others for score in scores[o]):
            if score not in fitted and score not in classes:
                classes[score] = fit_direction(samples, score, **common)
            conditioned_on[score] = fitted[score] if score in fitted else classes[score]
        fitted[conditional_name(attribute, others)] = fit_direction(
            samples, attribute, conditioned_on=conditioned_on, **common)
    return fitted
