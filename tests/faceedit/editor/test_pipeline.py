import numpy as np
import pytest
import torch

from faceedit import FaceEditor
from faceedit.editor.results import LocatedFace
from faceedit.errors import FaceEditError, FaceIndexError, ModelMismatchError, ModelNotFoundError
from tests.conftest import tiny_filter, tiny_generator


@pytest.fixture(scope="module")
def editor():
    return FaceEditor.from_pretrained("synthfaces-64", device="cpu", use_lpips=False)


@pytest.fixture(scope="module")
def astronaut():
    skimage_data = pytest.importorskip("skimage.data")
    pytest.importorskip("dlib")
    return skimage_data.astronaut()


def test_bundled_model_lists_what_it_can_edit(editor):
    assert editor.attributes[:2] == ["age", "gender"]
    assert {"smile", "glasses", "beard"} <= set(editor.attributes)
    assert editor.direction_for("age").conditioned_on  # the conditional direction serves the slider
    with pytest.raises(KeyError, match="no direction for 'wings'"):
        editor.direction_for("wings")


def test_sampled_faces_are_deterministic_and_zero_edit_is_the_face(editor):
    a, b = editor.sample(seed=7), editor.sample(seed=7)
    np.testing.assert_array_equal(a.aligned, b.aligned)
    unchanged = editor.edit(a, age=0.0)
    assert unchanged.edits == {} and (unchanged.aligned == a.reconstruction).all()


def test_age_edit_makes_the_judge_see_older_faces(editor):
    from faceedit.attributes.store import load_classifier
    from faceedit.utils.images import tensor_from_images

    judge = load_classifier("synthfaces-judge")
    before, after = [], []
    for seed in range(8):
        result = editor.edit(editor.sample(seed=seed), age=+2.5)
        assert result.edits == {"age-orth-gender": 2.5}
        before.append(result.before)
        after.append(result.aligned)
    with torch.no_grad():
        age_before = judge.predict(tensor_from_images(np.stack(before)))["age"]
        age_after = judge.predict(tensor_from_images(np.stack(after)))["age"]
    assert float((age_after - age_before).mean()) > 0.1


def test_edits_by_direction_name_and_attribute_add_up(editor):
    face = editor.sample(seed=1)
    by_attribute = editor.edit(face, age=1.0)
    by_name = editor.edit(face, {"age-orth-gender": 1.0})
    np.testing.assert_array_equal(by_attribute.aligned, by_name.aligned)
    both = editor.edit(face, {"age-orth-gender": 0.5}, age=0.5)
    assert both.edits == {"age-orth-gender": 1.0}


def test_encode_an_aligned_crop_reports_progress(editor):
    target = editor.sample(seed=2).aligned
    seen = []
    face = editor.encode(target, aligned=True, method="w+", steps=6, progress=lambda f, m: seen.append((f, m)))
    assert face.face is None and face.latent.shape == (1, editor.generator.num_ws, editor.generator.w_dim)
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and any("projection 6/6" in m for _, m in seen)


def test_photo_edit_is_pasted_back_and_leaves_the_rest(editor, astronaut):
    face = editor.encode(astronaut, method="w+", steps=4)
    assert face.faces_found >= 1 and face.aligned.shape == (64, 64, 3)
    result = editor.edit(face, age=3)
    assert result.photo.shape == astronaut.shape
    assert (result.photo[400:, :100] == astronaut[400:, :100]).all()  # far from the face: untouched
    assert np.abs(result.photo.astype(int) - astronaut).sum() > 0
    with pytest.raises(FaceIndexError, match=r"numbered 0 \(largest\)") as caught:
        editor.locate(astronaut, face=9)
    assert isinstance(caught.value, FaceEditError) and isinstance(caught.value, IndexError)


def test_filters_apply_with_a_strength():
    G = tiny_generator(resolution=16)
    editor = FaceEditor(G, filters={"darker": tiny_filter(resolution=16)})
    crop = np.full((16, 16, 3), 180, np.uint8)
    full = editor.apply_filter(crop, "darker", aligned=True)
    half = editor.apply_filter(crop, "darker", strength=0.5, aligned=True)
    none = editor.apply_filter(crop, "darker", strength=0.0, aligned=True)
    more = editor.apply_filter(crop, "darker", strength=1.5, aligned=True)
    assert more.aligned.mean() < full.aligned.mean() < half.aligned.mean() < none.aligned.mean() == 180
    assert full.edits == {"darker": 1.0} and full.latent is None
    with pytest.raises(KeyError, match="no filter 'older'.*darker"):
        editor.apply_filter(crop, "older", aligned=True)
    with pytest.raises(ValueError, match="outside 0-3"):
        editor.apply_filter(crop, "darker", strength=3.5, aligned=True)
    editor.filters["darker"].default_strength = 0.5  # calibrated: a call without a strength applies it
    default = editor.apply_filter(crop, "darker", aligned=True)
    np.testing.assert_array_equal(default.aligned, half.aligned)
    assert default.edits == {"darker": 0.5}


def test_a_direction_for_another_generator_is_refused(editor):
    other = FaceEditor(tiny_generator(resolution=16))
    assert other.attributes == [] and other.filters == {}
    with pytest.raises(ModelMismatchError):
        other.add_direction(editor.direction_for("smile"))


def test_a_located_crop_pastes_into_its_photo():
    crop = np.zeros((8, 8, 3), np.uint8)
    assert LocatedFace(photo=crop, aligned=crop).paste(crop + 5).mean() == 5


def test_every_face_is_located_in_one_pass(editor, astronaut):
    faces = editor.locate_all(astronaut)
    assert len(faces) == faces[0].faces_found >= 1
    np.testing.assert_array_equal(editor.locate(astronaut, face=len(faces) - 1).aligned, faces[-1].aligned)


def test_the_generator_is_hashed_once_for_all_directions(editor, monkeypatch):
    G = editor.generator
    calls = []
    original = type(G).fingerprint
    monkeypatch.setattr(type(G), "fingerprint", lambda self: calls.append(1) or original(self))
    again = FaceEditor(G, directions=editor.directions)
    again.add_direction(editor.direction_for("smile"), name="smile-again")
    assert len(editor.directions) >= 5 and len(calls) == 1


def test_filters_chain_on_the_crop():
    G = tiny_generator(resolution=16)
    editor = FaceEditor(G, filters={"darker": tiny_filter(resolution=16), "dim": tiny_filter(resolution=16)})
    crop = np.full((16, 16, 3), 180, np.uint8)
    one = editor.apply_filter(crop, "darker", aligned=True)
    two = editor.apply_filters(crop, [("darker", 1.0), ("dim", 0.5)], aligned=True)
    assert two.aligned.mean() < one.aligned.mean() and two.edits == {"darker": 1.0, "dim": 0.5}
    assert (two.before == crop).all()


def test_a_raw_latent_edits_like_the_face_it_came_from(editor):
    face = editor.sample(seed=4)
    from_tensor = editor.edit(face.latent, age=2)
    np.testing.assert_array_equal(from_tensor.aligned, editor.edit(face, age=2).aligned)
    np.testing.assert_array_equal(editor.edit(face.latent[0]).aligned, face.reconstruction)  # [num_ws, w_dim]
    w = editor.generator.mapping.w_avg  # W: one w for every layer
    np.testing.assert_array_equal(editor.from_latent(w).aligned, editor.from_latent(w[None]).aligned)
    assert editor.from_latent(w).latent.shape == (1, editor.generator.num_ws, editor.generator.w_dim)
    with pytest.raises(ValueError, match="does not fit this generator"):
        editor.from_latent(torch.zeros(3, 7))


def test_a_latent_file_edits_like_its_inversion(editor, tmp_path):
    from faceedit.inversion.api import save_inversion

    face = editor.encode(editor.sample(seed=5).aligned, aligned=True, method="w+", steps=3)
    path = save_inversion(face.inversion, tmp_path / "latent", editor.generator)
    loaded = editor.from_latent(path)
    np.testing.assert_array_equal(loaded.reconstruction, face.reconstruction)  # same noise maps too
    np.testing.assert_array_equal(editor.edit(path, age=1).aligned, editor.edit(face, age=1).aligned)


def test_every_face_of_a_photo_is_edited_and_pasted_back(editor):
    pytest.importorskip("dlib")
    skimage_data = pytest.importorskip("skimage.data")
    one = skimage_data.astronaut()[:300, 60:360]  # the face alone
    photo = np.concatenate([one, one[:, ::-1]], axis=1)  # two faces side by side, [300, 600, 3]
    seen = []
    faces = editor.encode_all(photo, method="encoder", progress=lambda f, m: seen.append((f, m)))
    assert len(faces) == 2 and {f.faces_found for f in faces} == {2}
    assert [f for f, _ in seen] == sorted(f for f, _ in seen) and seen[-1][0] == 1.0 and "face 2/2" in seen[-1][1]
    edited = editor.edit_all(faces, age=3)
    assert len(edited.faces) == 2 and edited.photo.shape == photo.shape
    changed = np.abs(edited.photo.astype(int) - photo).sum(axis=(0, 2))  # per column
    assert changed[:300].sum() > 0 and changed[300:].sum() > 0  # both faces edited
    for result in edited.faces:  # each face's own result has only that face
        assert (np.abs(result.photo.astype(int) - photo).sum(axis=(0, 2)) > 0).sum() < (changed > 0).sum()
    with pytest.raises(ValueError, match="no faces"):
        editor.edit_all([])
    with pytest.raises(ValueError, match="one photo"):
        editor.edit_all([faces[0], editor.sample(seed=1)])


def test_your_own_directions_and_filters_join_the_bundled_ones(editor, tmp_path):
    from directions.io import save_direction

    save_direction(editor.direction_for("smile"), tmp_path / "dirs" / "grin")
    tiny_filter(resolution=64).save_pretrained(tmp_path / "filters" / "darker")
    mine = FaceEditor.from_pretrained("synthfaces-64", device="cpu", use_lpips=False,
                                      directions=tmp_path / "dirs", filters=tmp_path / "filters")
    assert "grin" in mine.directions and "age-orth-gender" in mine.directions
    assert set(mine.filters) == set(editor.filters) | {"darker"}
    assert mine.edit(mine.sample(seed=1), grin=1.0).edits == {"grin": 1.0}
    with pytest.raises(ModelNotFoundError, match="no such folder"):
        FaceEditor.from_pretrained("synthfaces-64", device="cpu", use_lpips=False, filters=tmp_path / "nope")
