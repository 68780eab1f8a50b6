import numpy as np

from faceedit.app.logic import (
    model_choices,
    outline_face,
    photo_key,
    plan_instant_edit,
    user_message,
)
from faceedit.errors import NoFaceFoundError


def test_bundled_models_come_first_and_missing_ones_say_how_to_fetch():
    choices = model_choices()
    assert choices[0].name == "synthfaces-64" and choices[0].installed
    installed = [c.installed for c in choices]
    assert installed == sorted(installed, reverse=True)  # installed before fetchable
    ffhq = next(c for c in choices if c.name == "ffhq-1024")
    assert not ffhq.installed and "faceedit models fetch ffhq-1024" in ffhq.fetch_hint and "382 MB" in ffhq.label
    assert all(c.name != "vgg16-lpips" for c in choices)  # not a generator
    assert model_choices("my.pkl")[0].name == "my.pkl"


def test_instant_plan_picks_the_filter_by_attribute_and_sign_and_blends():
    filters = {"older": ("age", 2.0), "younger": ("age", -2.0), "feminine": ("gender", -2.0)}
    plan, missing = plan_instant_edit(filters, {"age": -1.0, "gender": 3.0, "smile": 1.0, "beard": 0.0})
    assert plan == [("younger", 0.5)] and missing == ["gender", "smile"]
    assert plan_instant_edit(filters, {"age": 5.0})[0] == [("older", 1.0)]


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
