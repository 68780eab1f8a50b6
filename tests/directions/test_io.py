import json

import numpy as np
import pytest

from directions.io import Direction, load_direction, save_direction
from faceedit.errors import CheckpointFormatError, ModelMismatchError
from tests.conftest import tiny_generator


def _direction(G, **changes):
    vector = np.random.RandomState(0).randn(G.w_dim)
    fields = dict(vector=vector / np.linalg.norm(vector), attribute="age", generator_name="tiny",
                  generator_fingerprint=G.fingerprint(), layers=(0, 4), method="svm", classifier="synthfaces-labeler",
                  n_samples=1000, score=0.93, projection_std=1.7, conditioned_on=("gender",))
    fields.update(changes)
    return Direction(**fields)


def test_round_trip_keeps_vector_and_provenance(tmp_path):
    G = tiny_generator(seed=0)
    direction = _direction(G)
    meta_path = save_direction(direction, tmp_path / "age")
    assert meta_path.name == "age.json" and (tmp_path / "age.safetensors").is_file()
    loaded = load_direction(tmp_path / "age.json", generator=G)
    np.testing.assert_allclose(loaded.vector, direction.vector, atol=1e-7)
    assert loaded.layers == (0, 4) and loaded.conditioned_on == ("gender",) and loaded.score == 0.93
    assert json.loads(meta_path.read_text())["w_dim"] == G.w_dim
    gained = load_direction(save_direction(_direction(G, layer_gain=1.5), tmp_path / "gained"))
    assert gained.layer_gain == 1.5 and gained.unit == pytest.approx(1.7 * 1.5)
    assert gained.unit_for((0, 4)) == gained.unit and gained.unit_for(None) == gained.unit_for((1, 4)) == 1.7
    meta = json.loads(meta_path.read_text())
    del meta["layer_gain"]  # a file written before layer gains existed
    meta_path.write_text(json.dumps(meta))
    assert load_direction(meta_path).unit == pytest.approx(1.7)


def test_loading_for_another_generator_fails_clearly(tmp_path):
    save_direction(_direction(tiny_generator(seed=0)), tmp_path / "age")
    with pytest.raises(ModelMismatchError, match="fitted on tiny"):
        load_direction(tmp_path / "age", generator=tiny_generator(seed=1))


def test_fingerprint_is_device_and_copy_independent():
    import copy

    G = tiny_generator(seed=0)
    assert G.fingerprint() == copy.deepcopy(G).fingerprint() != tiny_generator(seed=1).fingerprint()


def test_damaged_or_missing_files_are_named(tmp_path):
    with pytest.raises(CheckpointFormatError, match="NAME.safetensors"):
        load_direction(tmp_path / "nothing")
    save_direction(_direction(tiny_generator()), tmp_path / "age")
    (tmp_path / "age.json").write_text("{not json")
    with pytest.raises(CheckpointFormatError, match="cannot read"):
        load_direction(tmp_path / "age")
