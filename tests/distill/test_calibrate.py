import numpy as np
import pytest
import torch

from directions.io import Direction, save_direction
from distill.calibrate import calibrate_filter, calibrate_strength, filter_change, pictures_from_folder, teacher_change
from distill.dataset import PairSpec, unfiltered_pairs
from distill.filter import Filter
from faceedit.errors import ModelMismatchError
from faceedit.utils.images import images_from_tensor, save_png
from tests.conftest import tiny_filter, tiny_generator


class Brightness:
    """A stand-in attribute classifier: the mean pixel value."""

    name = "brightness"

    def __call__(self, images):
        return {"brightness": images.mean(dim=(1, 2, 3))}


def _pictures(n=8, size=16):
    return (torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(3)) - 0.5) / 2  # mid-grey: no clipping


def _teacher_and_filter(tmp_path):
    """A tiny generator, a direction of it (saved as a file) and a filter that moves the pictures' brightness the
    way the direction moves the generator's faces, with metadata that says it was distilled from them."""
    G = tiny_generator(seed=0)
    vector = np.random.RandomState(1).randn(G.w_dim)
    spec = PairSpec(direction=str(tmp_path / "dark"), num_seeds=8, alpha_min=1.0, alpha_max=2.0)
    save_direction(Direction(vector=vector / np.linalg.norm(vector), attribute="brightness", generator_name="tiny",
                             generator_fingerprint=G.fingerprint(), projection_std=2.0), tmp_path / "dark")
    a, b = unfiltered_pairs(G, {"spec": vars(spec)}, "tiny", 16, 0)
    meta = dict(dataset={**vars(spec), "layers": None, "target": "brightness"}, teacher="tiny",
                teacher_fingerprint=G.fingerprint())
    flt = tiny_filter(resolution=16, metadata=meta)
    with torch.no_grad():  # tiny_filter darkens; turn it the teacher's way
        flt.network.last[1].bias.mul_(float(torch.sign((b - a).mean())))
    return G, flt


def test_strength_is_found_where_the_change_is_the_asked_fraction_of_the_reference():
    flt, pictures, classifier = tiny_filter(resolution=16), _pictures(), Brightness()
    at_one = filter_change(flt, pictures, classifier, "brightness", 1.0)
    assert at_one < 0  # the tiny filter darkens
    strength = calibrate_strength(flt, pictures, classifier, "brightness", reference=at_one / 0.5)  # twice its change
    assert strength == pytest.approx(2.0, abs=0.02)
    half = calibrate_strength(flt, pictures, classifier, "brightness", at_one, target=0.5)
    assert half == pytest.approx(0.5, abs=0.02)


def test_calibration_refuses_a_filter_that_moves_the_wrong_way_or_cannot_get_there():
    flt, pictures, classifier = tiny_filter(resolution=16), _pictures(), Brightness()
    at_one = filter_change(flt, pictures, classifier, "brightness", 1.0)
    with pytest.raises(ValueError, match="the other way"):
        calibrate_strength(flt, pictures, classifier, "brightness", reference=-at_one)
    with pytest.raises(ValueError, match=r"even at strength 3 the filter makes \d+ % .*\(10 % at strength 1\)"):
        calibrate_strength(flt, pictures, classifier, "brightness", reference=at_one * 10)
    with pytest.raises(ValueError, match="nothing to calibrate against"):
        calibrate_strength(flt, pictures, classifier, "brightness", reference=0.0)


def test_teacher_change_is_measured_on_unselected_pairs_of_the_filters_request(tmp_path):
    G, flt = _teacher_and_filter(tmp_path)
    a, b = unfiltered_pairs(G, {"spec": flt.metadata["dataset"]}, "tiny", 32, 600_000)
    expected = float((b - a).mean(dim=(1, 2, 3)).mean())
    assert teacher_change(G, flt, Brightness(), "brightness", pairs=32) == pytest.approx(expected, abs=1e-6)
    with pytest.raises(ModelMismatchError, match="distilled from generator"):
        teacher_change(tiny_generator(seed=1), flt, Brightness(), "brightness", pairs=4)
    with pytest.raises(ValueError, match="does not say which request"):
        teacher_change(G, tiny_filter(resolution=16), Brightness(), "brightness", pairs=4)


def test_calibrate_filter_matches_the_teachers_change_and_leaves_the_filter_alone(tmp_path):
    G, flt = _teacher_and_filter(tmp_path)
    pictures = _pictures()
    calibration = calibrate_filter(flt, pictures, Brightness(), G, target=1.0, teacher_pairs=32)
    assert calibration.attribute == "brightness" and calibration.classifier == "brightness"
    assert calibration.teacher_change != 0 and calibration.pictures == 8
    assert calibration.ratio == pytest.approx(1.0, abs=0.03)  # rounded to two decimals of strength
    assert calibration.change_at_one == pytest.approx(filter_change(flt, pictures, Brightness(), "brightness", 1.0))
    assert flt.default_strength == 1.0  # the caller decides whether to keep it
    with pytest.raises(ValueError, match="target"):
        calibrate_filter(flt, pictures, Brightness(), G, target=0.0)


def test_default_strength_is_what_a_call_without_one_applies_and_is_saved(tmp_path):
    flt = tiny_filter(resolution=16)
    crop = np.random.RandomState(0).randint(60, 200, (16, 16, 3), dtype=np.uint8)
    at_half = flt(crop, strength=0.5)
    flt.default_strength = 0.5
    np.testing.assert_array_equal(flt(crop), at_half)
    np.testing.assert_array_equal(flt(crop, strength=1.0), tiny_filter(resolution=16)(crop))  # explicit wins
    flt.save_pretrained(tmp_path / "f", dtype=torch.float16)
    loaded = Filter.load(tmp_path / "f")
    assert loaded.default_strength == 0.5 and loaded.stored_dtype == torch.float16
    loaded.save_pretrained(tmp_path / "again")  # keeps the dtype it was stored in
    size = lambda d: (tmp_path / d / "model.safetensors").stat().st_size  # noqa: E731
    assert size("again") == size("f")
    with pytest.raises(ValueError, match="outside 0-3"):
        Filter(flt.network, 16, flt.architecture, default_strength=4.0)


def test_folders_written_before_calibration_load_at_strength_one(tmp_path):
    import json

    tiny_filter(resolution=16).save_pretrained(tmp_path / "old")
    config = json.loads((tmp_path / "old" / "config.json").read_text())
    del config["default_strength"]
    (tmp_path / "old" / "config.json").write_text(json.dumps(config))
    assert Filter.load(tmp_path / "old").default_strength == 1.0


def test_pictures_from_a_folder_take_crops_as_they_are_and_skip_what_is_not_a_picture(tmp_path):
    flt = tiny_filter(resolution=16)
    crops = images_from_tensor(_pictures(2))
    for i, crop in enumerate(crops):
        save_png(crop, tmp_path / f"{i}.png")
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    (tmp_path / "notes.txt").write_text("ignored: not a picture's name")
    pictures, skipped = pictures_from_folder(tmp_path, flt)
    np.testing.assert_array_equal(images_from_tensor(pictures), crops)
    assert len(skipped) == 1 and skipped[0].startswith("broken.jpg")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no usable picture"):
        pictures_from_folder(tmp_path / "empty", flt)


def test_photos_in_the_folder_are_aligned_to_the_filters_resolution(tmp_path):
    skimage_data = pytest.importorskip("skimage.data")
    pytest.importorskip("dlib")
    save_png(skimage_data.astronaut(), tmp_path / "astronaut.png")
    pictures, skipped = pictures_from_folder(tmp_path, tiny_filter(resolution=32))
    assert pictures.shape == (1, 3, 32, 32) and skipped == []
