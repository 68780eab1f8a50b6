"""Attribute classifiers for the synthfaces world: the bundled *labeler* and *judge*.

Example:
    >>> from faceedit.attributes import load_classifier
    >>> judge = load_classifier("synthfaces-judge")  # doctest: +SKIP
    >>> judge.predict(images)["age"]  # [N] in [0, 1]  # doctest: +SKIP
"""

from faceedit.attributes.model import AttributeNet, heads_from_factors
from faceedit.attributes.store import BUNDLED_CLASSIFIERS, load_classifier

__all__ = ["AttributeNet", "heads_from_factors", "load_classifier", "BUNDLED_CLASSIFIERS"]
