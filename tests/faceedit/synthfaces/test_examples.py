import pytest

from faceedit.synthfaces.examples import EXAMPLES, example_photo


def test_example_labels_say_what_the_renders_are():
    from faceedit.synthfaces.factors import sample_factors

    checks = {"young": lambda f: f["age"] < 0.3, "older": lambda f: f["age"] > 0.7,
              "woman": lambda f: f["gender"] < 0.3, "man": lambda f: f["gender"] > 0.7,
              "glasses": lambda f: f["glasses"] == 1, "beard": lambda f: f["beard"] > 0.5,
              "red hair": lambda f: f["hair_color"] == 3}
    for label, seed in EXAMPLES:
        factors = {k: float(v[0]) for k, v in sample_factors(1, seed).items()}
        words = [w for w in checks if w in label.replace("woman", "")] + (["woman"] if "woman" in label else [])
        assert words, label
        for word in words:
            assert checks[word](factors), (label, word, factors)


def test_example_photos_are_portraits_with_one_face():
    pytest.importorskip("dlib")
    from faceedit.alignment import FaceAligner

    aligner = FaceAligner.for_model("synthfaces-64")
    for label, _ in EXAMPLES:
        photo = example_photo(label)
        assert photo.shape == (256, 256, 3)
        assert len(aligner.detect(photo)) == 1, label


def test_an_unknown_example_lists_the_real_ones():
    with pytest.raises(KeyError, match="young woman"):
        example_photo("grumpy cat")
