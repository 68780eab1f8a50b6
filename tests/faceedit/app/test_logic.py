import numpy as np
import pytest

from faceedit.app.logic import (
    decode_upload,
    instant_blend,
    instant_note,
    is_face_model,
    model_choices,
    outline_face,
    paths_allowed,
    photo_key,
    plan_instant_edit,
    slider_help,
    user_message,
)
from faceedit.errors import InvalidImageError, NoFaceFoundError


def test_bundled_models_come_first_and_missing_ones_say_how_to_fetch():
    choices = model_choices()
    assert choices[0].name == "synthfaces-64" and choices[0].installed
    installed = [c.installed for c in choices]
    assert installed == sorted(installed, reverse=True)  # installed before fetchable
    ffhq = next(c for c in choices if c.name == "ffhq-1024")
    assert not ffhq.installed and "faceedit models fetch ffhq-1024" in ffhq.fetch_hint and "382 MB" in ffhq.label
    assert all(c.name != "vgg16-lpips" for c in choices)  # not a generator
    assert {c.name for c in choices} >= {"ffhq-1024", "celebahq-256", "metfaces-1024", "ngc-ffhqu-256"}
    assert not [c.name for c in choices if c.name.startswith(("afhq", "ngc-afhq", "brecahad", "cifar10"))]
    assert model_choices("my.pkl")[0].name == "my.pkl"


def test_instant_plan_picks_the_filter_by_attribute_and_sign_and_blends():
    filters = {"older": ("age", 2.0), "younger": ("age", -2.0), "feminine": ("gender", -2.0)}
    plan, missing = plan_instant_edit(filters, {"age": -1.0, "gender": 3.0, "smile": 1.0, "beard": 0.0})
    assert plan == [("younger", 0.5)] and missing == ["gender", "smile"]
    assert plan_instant_edit(filters, {"age": 3.0})[0] == [("older", 1.5)]  # past the filter's own edit


def test_photo_key_tells_photos_apart():
    a = np.zeros((4, 4, 3), np.uint8)
    assert photo_key(a) == photo_key(a.copy()) != photo_key(a + 1)


def test_messages_never_show_a_traceback(caplog):
    assert user_message(NoFaceFoundError("no face found in the 10 x 10 image")) == "no face found in the 10 x 10 image"
    message = user_message(RuntimeError("CUDA error: device-side assert"))
    assert "Something went wrong (RuntimeError)" in message and "CUDA" not in message
    assert "unexpected error" in caplog.text  # the details go to the server log


def test_outline_marks_the_face_square():
    photo = np.zeros((50, 50, 3), np.uint8)
    out = outline_face(photo, np.array([[10, 10], [10, 40], [40, 40], [40, 10]]), width=1)
    assert (out[10, 10:41] == (255, 214, 0)).all() and out[25, 25].sum() == 0 and photo.sum() == 0


def test_face_models_are_told_from_the_others_by_their_training_set():
    from faceedit.hub.registry import ModelSpec, get_model_spec

    assert is_face_model(get_model_spec("ffhq-1024")) and is_face_model(get_model_spec("synthfaces-64"))
    assert not is_face_model(get_model_spec("afhqcat-512")) and not is_face_model(get_model_spec("cifar10-32"))
    mine = ModelSpec(name="mine", url="", filename="m.pkl", resolution=256, dataset="my faces", license="CC0")
    assert is_face_model(mine)  # a model registered as in docs/bring-your-own.md is offered too


def test_paths_are_allowed_only_when_the_operator_says_so():
    assert not paths_allowed({}) and not paths_allowed({"FACEEDIT_APP_ALLOW_PATHS": "yes"})
    assert paths_allowed({"FACEEDIT_APP_ALLOW_PATHS": "1"})


def test_instant_strength_follows_the_slider_and_extrapolates_past_the_filters_edit():
    assert instant_blend(1.0, 2.25) == pytest.approx(1 / 2.25)
    assert instant_blend(-1.125, -2.25) == pytest.approx(0.5)
    assert instant_blend(2.25, 2.25) == 1.0 and instant_blend(3.0, 2.25) == pytest.approx(4 / 3)
    assert instant_blend(30.0, 2.25) == 3.0  # never past what a filter accepts
    filters = {"older": ("age", 2.25), "younger": ("age", -2.25)}
    plan, _ = plan_instant_edit(filters, {"age": -0.45})
    assert plan == [("younger", pytest.approx(0.2))]
    assert instant_note(filters, plan) == ("Instant mode applies a filter's edit in proportion to the slider: "
                                           "`younger` at 20% (a slider at v applies |v| / 2.25 of it; past ±2.25 "
                                           "it extrapolates).")
    assert "|v| / 2.25 of it, extrapolated past ±2.25" in slider_help("age", filters)
    assert "no filter for smile: only exact mode edits it" in slider_help("smile", filters)


def test_uploads_are_checked_before_decoding():
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    huge = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
    huge += chunk(b"IEND", b"")  # a header and nothing else: refused from the header alone
    with pytest.raises(InvalidImageError, match="100000 x 100000 = 10000 MP, more than the 40 MP"):
        decode_upload(huge)
    with pytest.raises(InvalidImageError, match="not an image"):
        decode_upload(b"%PDF-1.4")
