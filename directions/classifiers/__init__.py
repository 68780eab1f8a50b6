"""Attribute classifiers behind one interface (see :class:`AttributeClassifier`)."""

from directions.classifiers.base import AttributeClassifier, CallableClassifier, SynthfacesClassifier

__all__ = ["AttributeClassifier", "CallableClassifier", "SynthfacesClassifier"]
