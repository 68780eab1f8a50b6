import numpy as np
import pytest

from directions.io import Direction
from faceedit.editor.attributes import choose_directions, filter_edit, order_attributes


def _direction(attribute, conditioned_on=()):
    return Direction(vector=np.ones(4) / 2, attribute=attribute, generator_name="g", generator_fingerprint="f",
                     conditioned_on=tuple(conditioned_on))


def test_attributes_are_listed_age_and_gender_first():
    assert order_attributes(["smile", "gender", "beard", "age"]) == ["age", "gender", "beard", "smile"]


def test_the_conditional_direction_with_fewest_conditions_wins():
    directions = {"age": _direction("age"), "age-orth-gender-glasses": _direction("age", ["gender", "glasses"]),
                  "age-orth-gender": _direction("age", ["gender"]), "smile": _direction("smile")}
    assert choose_directions(directions) == {"age": "age-orth-gender", "smile": "smile"}


def test_a_filter_knows_its_attribute_and_signed_strength():
    directions = {"age-orth-gender": _direction("age", ["gender"])}
    younger = {"dataset": {"direction": "runs/dirs/age-orth-gender.json", "alpha_min": -3.0, "alpha_max": -1.0}}
    assert filter_edit(younger, directions) == ("age", -2.0)
    unknown = {"dataset": {"direction": "gender-orth-age", "alpha_min": 1.0, "alpha_max": 2.0}}
    assert filter_edit(unknown, {}) == ("gender", 1.5)
    with pytest.raises(ValueError, match="which direction"):
        filter_edit({}, directions)
