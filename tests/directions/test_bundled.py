import numpy as np
import pytest

import faceedit
from directions.bundled import bundled_directions, load_bundled_direction, resolve_direction
from directions.io import save_direction
from tests.conftest import tiny_generator

REQUIRED = {"age", "gender", "smile", "glasses", "age-orth-gender", "gender-orth-age-skin_tone-background"}


def test_synthfaces_64_ships_directions_fitted_on_its_bundled_weights():
    names = set(bundled_directions("synthfaces-64"))
    assert REQUIRED <= names
    G = faceedit.load_generator("synthfaces-64")
    for name in names:  # fails when the generator was re-exported without refitting the directions
        d = load_bundled_direction("synthfaces-64", name, generator=G)
        assert d.classifier == "synthfaces-labeler" and d.n_samples >= 10_000
        assert np.linalg.norm(d.vector) == pytest.approx(1.0, abs=1e-5)
    cond = load_bundled_direction("synthfaces-64", "age-orth-gender")
    gender = load_bundled_direction("synthfaces-64", "gender")
    assert abs(cond.vector @ gender.vector) < 1e-5 and cond.conditioned_on == ("gender",)


def test_unknown_names_list_what_there_is():
    with pytest.raises(KeyError, match="bundled: .*age"):
        load_bundled_direction("synthfaces-64", "hair_length")
    assert bundled_directions("no-such-model") == []


def test_resolve_prefers_a_file_and_falls_back_to_bundled_names(tmp_path):
    G = tiny_generator()
    from directions.io import Direction

    d = Direction(vector=np.eye(G.w_dim)[0], attribute="age", generator_name="tiny",
                  generator_fingerprint=G.fingerprint())
    save_direction(d, tmp_path / "age")
    assert resolve_direction(tmp_path / "age.json", model="synthfaces-64").generator_name == "tiny"
    assert resolve_direction("age", model="synthfaces-64").generator_name == "synthfaces-64"
    with pytest.raises(FileNotFoundError, match="neither a direction file"):
        resolve_direction(tmp_path / "missing", model="synthfaces-64")
