import numpy as np
import pytest

from faceedit.alignment.ffhq import (
    align_face,
    crop_to_photo_matrix,
    ffhq_quad,
    mouth_from_five_points,
    paste_back,
)


def _frontal_landmarks(eye_y=100.0, mouth_y=160.0, centre_x=128.0, eye_dist=60.0):
    points = np.zeros((68, 2))
    points[36:42] = (centre_x - eye_dist / 2, eye_y)
    points[42:48] = (centre_x + eye_dist / 2, eye_y)
    points[48] = (centre_x - 25, mouth_y)
    points[54] = (centre_x + 25, mouth_y)
    return points


def test_quad_of_an_upright_face_is_an_axis_aligned_square_as_in_ffhq():
    quad = ffhq_quad(_frontal_landmarks())
    # x = eye_to_eye - rot(eye_to_mouth) points right; |x| = max(2 * 60, 1.8 * 60) = 120; centre
    # c = eye_avg + 0.1 eye_to_mouth = (128, 106)
    np.testing.assert_allclose(quad, [[8, -14], [8, 226], [248, 226], [248, -14]], atol=1e-9)


def test_model_framing_scales_and_shifts_the_square():
    ffhq = ffhq_quad(_frontal_landmarks())  # side 240, centre (128, 106)
    wider = ffhq_quad(_frontal_landmarks(), scale=1.5, shift=(0.1, -0.05))
    np.testing.assert_allclose(wider.mean(axis=0), [128 + 24, 106 - 12], atol=1e-9)
    np.testing.assert_allclose(np.hypot(*(wider[3] - wider[0])), 1.5 * np.hypot(*(ffhq[3] - ffhq[0])))


def test_synthfaces_framing_matches_the_renders_better_than_ffhq(detector68):
    from PIL import Image

    from faceedit.hub.registry import get_model_spec
    from faceedit.synthfaces.render import render_batch
    from faceedit.utils.images import images_from_tensor

    spec = get_model_spec("synthfaces-64")
    errors = {"model": [], "ffhq": []}
    for image in images_from_tensor(render_batch(6, seed=11, resolution=256)[0]):
        faces = detector68(image)
        if not faces:
            continue
        target = np.asarray(Image.fromarray(image).resize((64, 64), Image.LANCZOS), np.float32)
        for key, scale, shift in (("model", spec.crop_scale, spec.crop_shift), ("ffhq", 1.0, (0.0, 0.0))):
            crop = align_face(image, faces[0].points, 64, scale=scale, shift=shift).image
            errors[key].append(np.abs(crop - target).mean())
    assert len(errors["model"]) >= 4
    assert np.mean(errors["model"]) < 0.6 * np.mean(errors["ffhq"])


def test_quad_rotates_with_the_face():
    points = _frontal_landmarks()
    angle = np.deg2rad(20)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    quad = ffhq_quad((points - 128) @ rot.T + 128)
    edge = quad[3] - quad[0]
    assert np.rad2deg(np.arctan2(edge[1], edge[0])) == pytest.approx(20, abs=1e-6)
    assert np.linalg.norm(edge) == pytest.approx(240)


def test_five_point_quad_is_close_to_the_68_point_quad():
    lm68 = _frontal_landmarks(mouth_y=100 + 1.36 * 40)  # mouth where the 5-point estimate puts it
    lm5 = np.array([[168, 100], [148, 100], [88, 100], [108, 100], [128, 140]], float)  # eye corners, nose
    np.testing.assert_allclose(ffhq_quad(lm5), ffhq_quad(lm68), atol=1e-6)
    mouth = mouth_from_five_points(lm5)
    assert mouth[0, 0] < mouth[1, 0] and mouth[:, 1] == pytest.approx([154.4, 154.4])
    with pytest.raises(ValueError, match=r"\[68, 2\] or \[5, 2\]"):
        ffhq_quad(np.zeros((10, 2)))


def test_aligned_crop_puts_the_eyes_where_ffhq_does():
    photo = np.full((300, 300, 3), 90, np.uint8)
    lm = _frontal_landmarks()
    for x, y in (lm[36], lm[42]):  # two bright 5x5 "eyes"
        photo[int(y) - 2:int(y) + 3, int(x) - 2:int(x) + 3] = 255
    face = align_face(photo, lm, output_size=64)
    assert face.image.shape == (64, 64, 3) and face.photo_size == (300, 300)
    # The quad spans x 8..248 and y -14..226, so the eyes land at x 24 and 40, y (100 + 14) / 240 of the crop.
    ys, xs = np.nonzero(face.image[:, :, 0] > 150)
    assert xs.min() >= 22 and xs.max() <= 42 and abs(ys.mean() + 0.5 - 114 / 240 * 64) < 1.0


def test_padding_blurs_where_the_square_leaves_the_photo():
    photo = np.random.RandomState(0).randint(0, 255, (200, 200, 3)).astype(np.uint8)
    lm = _frontal_landmarks(eye_y=40, mouth_y=100, centre_x=100)  # quad reaches above the photo
    face = align_face(photo, lm, output_size=64)
    top, middle = face.image[:6].astype(float), face.image[28:36].astype(float)
    assert top.std() < middle.std() / 2  # reflected border is blurred and tinted towards the median


def test_crop_to_photo_matrix_maps_corners():
    quad = np.array([[10, 20], [0, 120], [100, 130], [110, 30]], float)
    m = crop_to_photo_matrix(quad, 64)
    np.testing.assert_allclose(m @ [0, 0, 1], quad[0])
    np.testing.assert_allclose(m @ [0, 64, 1], quad[1])
    np.testing.assert_allclose(m @ [64, 0, 1], quad[3])


def test_paste_back_round_trip_and_edit_stays_inside_the_quad():
    rng = np.random.RandomState(1)
    photo = (np.kron(rng.randint(0, 255, (25, 25, 3)), np.ones((8, 8, 1)))).astype(np.uint8)  # 200x200 blocks
    lm = _frontal_landmarks(eye_y=80, mouth_y=125, centre_x=100, eye_dist=40)
    face = align_face(photo, lm, output_size=256)  # upsampled: the round trip loses almost nothing
    same = paste_back(photo, face, face.image, feather=0.05)
    inner = (slice(40, 150), slice(40, 160))
    assert np.abs(same[inner].astype(int) - photo[inner].astype(int)).mean() < 6
    white = paste_back(photo, face, np.full_like(face.image, 255))
    x0, y0 = face.quad.min(axis=0)
    x1, y1 = face.quad.max(axis=0)
    assert (white[int(y0) + 20:int(y1) - 20, int(x0) + 20:int(x1) - 20] == 255).all()  # inside: the edit
    outside = np.ones(photo.shape[:2], bool)
    outside[max(int(y0) - 2, 0):int(y1) + 3, max(int(x0) - 2, 0):int(x1) + 3] = False
    assert (white[outside] == photo[outside]).all()  # outside: untouched
    with pytest.raises(ValueError, match="square"):
        paste_back(photo, face, np.zeros((10, 12, 3), np.uint8))


def test_pasting_only_the_change_keeps_the_photo():
    rng = np.random.RandomState(0)
    photo = rng.randint(40, 200, (120, 100, 3)).astype(np.uint8)
    face = align_face(photo, _frontal_landmarks(eye_y=50, mouth_y=75, centre_x=50, eye_dist=24), 32)
    reference = rng.randint(40, 200, (32, 32, 3)).astype(np.uint8)
    assert (paste_back(photo, face, reference, reference=reference) == photo).all()  # no edit: not one pixel moves
    brighter = paste_back(photo, face, reference + 20, reference=reference).astype(int) - photo
    cx, cy = np.rint(face.quad.mean(axis=0)).astype(int)
    assert (brighter[cy - 3:cy + 3, cx - 3:cx + 3] == 20).all()  # the change, on the photo's own pixels
    assert (brighter[-5:, :5] == 0).all() and brighter.min() >= 0
    with pytest.raises(ValueError, match="same shape"):
        paste_back(photo, face, reference, reference=reference[:16])


def test_astronaut_alignment_round_trips_into_the_photo(astronaut, detector68):
    face = align_face(astronaut, detector68(astronaut)[0].points, output_size=256)
    same = paste_back(astronaut, face, face.image, feather=0.001)
    region = (slice(40, 180), slice(160, 290))  # inside the face square
    assert np.abs(same[region].astype(int) - astronaut[region].astype(int)).mean() < 2.5
    again = detector68(face.image)  # the crop is a centred, upright face: eyes where FFHQ puts them
    eyes = again[0].points[36:48].reshape(2, 6, 2).mean(axis=1) / 256
    assert abs(eyes[:, 1].mean() - 0.46) < 0.04 and abs(eyes[:, 0].mean() - 0.5) < 0.03


def test_astronaut_landmarks_crop_repeat_and_outside_stays_exact(astronaut, detector68):
    from PIL import Image, ImageDraw

    found = detector68(astronaut)
    points = found[0].points  # [68, 2] (x, y)
    assert points.shape == (68, 2)
    eyes = points[36:48].mean(axis=0)
    nose_tip, mouth = points[30], points[48:68].mean(axis=0)
    assert eyes[1] < nose_tip[1] < mouth[1]  # upright: eyes above the nose above the mouth
    assert 150 < eyes[0] < 300 and 50 < eyes[1] < 200  # her face, in the photo's upper middle
    assert points[36:42, 0].mean() < points[42:48, 0].mean()  # left eye left of the right eye
    face = align_face(astronaut, points, output_size=64)
    again = align_face(astronaut, detector68(astronaut)[0].points, output_size=64)
    assert face.image.tobytes() == again.image.tobytes()  # the same photo gives the same bytes
    edited = paste_back(astronaut, face, 255 - face.image)  # a drastic edit of the whole crop
    height, width = astronaut.shape[:2]
    centre = face.quad.mean(axis=0)
    grown = centre + (face.quad - centre) * 1.02 + np.sign(face.quad - centre) * 2  # the quad and 2 px more
    canvas = Image.new("1", (width, height), 0)
    ImageDraw.Draw(canvas).polygon([tuple(p) for p in grown], fill=1)
    inside = np.asarray(canvas, dtype=bool)
    changed = (edited != astronaut).any(axis=2)
    assert changed[inside].mean() > 0.5 and not changed[~inside].any()  # outside the face: byte for byte
