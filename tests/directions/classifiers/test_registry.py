import importlib.util

import pytest

from directions.classifiers import make_classifier


def test_bundled_names_give_synthfaces_classifiers():
    clf = make_classifier("synthfaces-judge", device="cpu")
    assert clf.name == "synthfaces-judge" and "age" in clf.attributes


@pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("dlib") is None,
                    reason="needs the faces extra")
def test_age_gender_by_name():
    clf = make_classifier("age-gender", device="cpu")
    assert set(clf.attributes) >= {"age", "female", "male"}


def test_clip_without_weights_says_what_to_fetch(tmp_path):
    with pytest.raises((FileNotFoundError, ImportError), match="download|install"):
        make_classifier(f"clip:{tmp_path / 'no-such-model'}", device="cpu")


def test_unknown_names_list_the_choices():
    with pytest.raises(ValueError, match="age-gender"):
        make_classifier("oracle")
