"""Attribute classifiers behind one interface (see :class:`AttributeClassifier`)."""

from directions.classifiers.age_gender import AgeGenderClassifier
from directions.classifiers.base import AttributeClassifier, CallableClassifier, SynthfacesClassifier
from directions.classifiers.clip import CLIPZeroShotClassifier
from directions.classifiers.registry import make_classifier

__all__ = ["AttributeClassifier", "CallableClassifier", "SynthfacesClassifier", "AgeGenderClassifier",
           "CLIPZeroShotClassifier", "make_classifier"]
