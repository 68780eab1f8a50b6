import numpy as np
import pytest
import torch

from directions.pipeline import fit_direction
from directions.sampling import LabelledSamples


def _samples(n=4000, seed=0):
    rng = np.random.RandomState(seed)
    w = rng.randn(n, 16)
    age = w[:, 0] + 0.5 * w[:, 1] + 0.05 * rng.randn(n)  # age entangled with gender (w1)
    gender = w[:, 1] + 0.05 * rng.randn(n)
    age[3] = np.nan  # a face the classifier could not score
    return LabelledSamples(z=torch.zeros(n, 4), w=torch.from_numpy(w).float(),
                           scores={"age": torch.from_numpy(age).float(), "gender": torch.from_numpy(gender).float()})


def test_fit_records_provenance_and_skips_unscored_samples():
    d = fit_direction(_samples(), "age", "toy", "f" * 64, "toy-classifier", method="logistic")
    assert d.attribute == "age" and d.n_samples == 3999 and d.score > 0.9
    assert d.vector @ np.array([1, 0.5] + [0] * 14) / np.linalg.norm([1, 0.5]) > 0.98
    assert d.extra["estimator"]["method"] == "logistic"


def test_conditional_direction_drops_the_gender_component():
    samples = _samples()
    gender = fit_direction(samples, "gender", "toy", "f" * 64, "c", method="logistic")
    age = fit_direction(samples, "age", "toy", "f" * 64, "c", method="logistic", conditioned_on={"gender": gender})
    assert abs(age.vector @ gender.vector) < 1e-9 and age.conditioned_on == ("gender",)
    assert age.vector[0] > 0.95


def test_bad_requests_are_named():
    samples = _samples(n=200)
    with pytest.raises(ValueError, match="no score 'smile'"):
        fit_direction(samples, "smile", "toy", "f" * 64, "c")
    other = fit_direction(samples, "gender", "toy", "e" * 64, "c", method="logistic")
    with pytest.raises(ValueError, match="not on this generator"):
        fit_direction(samples, "age", "toy", "f" * 64, "c", conditioned_on={"gender": other})


def test_fit_directions_names_naive_and_conditional_directions():
    from directions.pipeline import fit_directions

    fitted = fit_directions(_samples(), ["age"], "toy", "f" * 64, "c", method="logistic",
                            conditional=[("age", ["gender"]), ("gender", ["age"])])
    assert list(fitted) == ["age", "gender", "age-orth-gender", "gender-orth-age"]
    assert abs(fitted["age-orth-gender"].vector @ fitted["gender"].vector) < 1e-9
    assert abs(fitted["gender-orth-age"].vector @ fitted["age"].vector) < 1e-9
    assert fitted["gender-orth-age"].conditioned_on == ("age",)


def _samples_with_background(n=3000, seed=1):
    rng = np.random.RandomState(seed)
    w = rng.randn(n, 16)
    background = np.stack([w[:, 2], w[:, 3], -w[:, 2] - w[:, 3]], 1).argmax(1)  # three classes set by w2, w3
    gender = w[:, 1] + 0.8 * w[:, 2]  # the gender labels lean on background class 'blue'
    scores = {"gender": gender} | {f"background={c}": (background == i).astype(float)
                                   for i, c in enumerate(["blue", "cream", "dark"])}
    return LabelledSamples(z=torch.zeros(n, 4), w=torch.from_numpy(w).float(),
                           scores={k: torch.from_numpy(np.asarray(v)).float() for k, v in scores.items()})


def test_a_categorical_condition_projects_out_every_class_and_returns_none_of_them():
    from directions.pipeline import fit_directions

    fitted = fit_directions(_samples_with_background(), ["gender"], "toy", "f" * 64, "c", method="logistic",
                            conditional=[("gender", ["background"])])
    assert list(fitted) == ["gender", "gender-orth-background"]
    direction = fitted["gender-orth-background"]
    assert direction.conditioned_on == ("background=blue", "background=cream", "background=dark")
    assert abs(direction.vector[2]) < 0.05 and abs(direction.vector[3]) < 0.05  # the background's plane is gone
    assert direction.vector[1] > 0.95 and abs(fitted["gender"].vector[2]) > 0.3


def test_score_names_expand_a_categorical_attribute_and_name_an_unknown_one():
    from directions.pipeline import score_names

    samples = _samples_with_background(n=50)
    assert score_names(samples, "gender") == ["gender"]
    assert score_names(samples, "background") == ["background=blue", "background=cream", "background=dark"]
    with pytest.raises(ValueError, match="no score 'hair' and no classes of it"):
        score_names(samples, "hair")
