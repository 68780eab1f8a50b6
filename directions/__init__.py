"""Attribute directions in a generator's latent space.

Sample latents, label their images with a classifier, fit a linear boundary in W with
scikit-learn: its unit normal is the direction that changes the attribute. Names are imported
lazily, so ``import directions`` stays light and scikit-learn loads only when an estimator does.

    from directions import DirectionEstimator, sample_and_label, apply_direction
"""

from __future__ import annotations

from faceedit.utils.lazy import lazy_attributes

_LAZY = {
    "DirectionEstimator": "directions.estimators",
    "project_out": "directions.estimators",
    "apply_direction": "directions.edit",
    "ApplyDirection": "directions.edit",
    "layer_range": "directions.edit",
    "choose_layers": "directions.layers",
    "LayerChoice": "directions.layers",
    "with_chosen_layers": "directions.layers",
    "Direction": "directions.io",
    "save_direction": "directions.io",
    "load_direction": "directions.io",
    "bundled_directions": "directions.bundled",
    "load_bundled_direction": "directions.bundled",
    "resolve_direction": "directions.bundled",
    "fit_direction": "directions.pipeline",
    "fit_directions": "directions.pipeline",
    "write_direction_report": "directions.report",
    "sample_and_label": "directions.sampling",
    "load_samples": "directions.sampling",
    "LabelledSamples": "directions.sampling",
    "ganspace": "directions.discovery",
    "sefa": "directions.discovery",
    "direction_grid": "directions.discovery",
    "edit_sweep": "directions.evaluation",
    "monotonic_fraction": "directions.evaluation",
    "effect_per_unit": "directions.evaluation",
    "entanglement_matrix": "directions.evaluation",
    "AttributeClassifier": "directions.classifiers",
    "CallableClassifier": "directions.classifiers",
    "SynthfacesClassifier": "directions.classifiers",
    "AgeGenderClassifier": "directions.classifiers",
    "CLIPZeroShotClassifier": "directions.classifiers",
    "make_classifier": "directions.classifiers",
}

__all__ = list(_LAZY)


__getattr__, __dir__ = lazy_attributes("directions", _LAZY, globals())
