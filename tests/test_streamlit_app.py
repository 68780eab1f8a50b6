"""The Streamlit app's logic, driven by ``streamlit.testing`` (no browser; see test_streamlit_browser.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from tests.conftest import NVIDIA_FIXTURES  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
USER_STATE = ("decoded", "faces", "inversions")  # where the app keeps a session's photo and its results


def _images(at, prefix: str = "") -> Dict[str, str]:
    """``{caption: media url}`` of every shown image whose caption starts with ``prefix``; the url is a hash of
    the image's bytes, so it changes exactly when the picture does."""
    return {caption: url for element in at.get("image") for caption, url in zip(element.captions, element.value)
            if caption.startswith(prefix)}


def _texts(at, kind: str) -> List[str]:
    return [element.value for element in getattr(at, kind)]


def _png(photo: np.ndarray) -> bytes:
    from faceedit.utils.images import encode_image

    return encode_image(photo, "PNG")


def _portrait(label: str = "older man with beard") -> bytes:
    from faceedit.synthfaces.examples import example_photo

    return _png(example_photo(label))


def _ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, _texts(at, "error")


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    import streamlit as st

    st.cache_resource.clear()  # each test sees the models (and bundled filters) it sets up
    yield
    st.cache_resource.clear()


def _app(monkeypatch, model=None, allow_paths: bool = False):
    if model is None:
        monkeypatch.delenv("FACEEDIT_APP_MODEL", raising=False)
    else:
        monkeypatch.setenv("FACEEDIT_APP_MODEL", model)
    if allow_paths:
        monkeypatch.setenv("FACEEDIT_APP_ALLOW_PATHS", "1")
    else:
        monkeypatch.delenv("FACEEDIT_APP_ALLOW_PATHS", raising=False)
    return AppTest.from_file(APP, default_timeout=120)


def _upload(at, data: bytes, name: str = "photo.png", mime: str = "image/png"):
    at.file_uploader(key="upload").upload(name, data, mime).run()
    return at


def _generated(at):
    at.radio(key="source").set_value("Generated face").run()
    return at


# ------------------------------------------------------------------------------------------- editing


def test_generated_face_edits_when_the_age_slider_moves(tmp_path, monkeypatch):
    import distill.filter

    monkeypatch.setattr(distill.filter, "BUNDLED_FILTERS_DIR", tmp_path)  # a model without filters: exact mode only
    at = _generated(_app(monkeypatch).run())
    _ok(at)
    assert [s.label for s in at.slider][:2] == ["age", "gender"]
    before = _images(at, "exact")
    at.slider(key="attr_age").set_value(2.5).run()
    _ok(at)
    after = _images(at, "exact")
    assert set(after) == set(before) == {"exact: before", "exact: after", "exact: edited photo"}
    assert after["exact: after"] != before["exact: after"]
    assert [b.label for b in at.get("download_button")] == ["Download (exact)"]
    assert "No distilled filters are bundled" in " ".join(_texts(at, "info"))


def test_bundled_filters_drive_the_instant_image_for_age_and_gender(monkeypatch):
    at = _generated(_app(monkeypatch).run())
    _ok(at)
    assert "Move the age or gender slider" in " ".join(_texts(at, "info"))
    assert not _images(at, "instant")
    help_texts = {s.label: s.help for s in at.slider}
    assert "|v| / 2.25 of it" in help_texts["age"] and "no filter for smile" in help_texts["smile"]

    shown = {}
    for attribute, value in (("age", 1.0), ("age", 2.0), ("age", 2.25), ("age", 3.0), ("gender", -2.0)):
        at.slider(key=f"attr_{attribute}").set_value(value).run()
        _ok(at)
        shown[attribute, value] = _images(at, "instant: after")["instant: after"]
        if (attribute, value) == ("age", 1.0):  # in proportion, as the caption says: 1 / 2.25 of older's edit
            assert "`older` at 44%" in " ".join(_texts(at, "caption"))
            assert "|v| / 2.25 of it" in " ".join(_texts(at, "caption"))
    assert shown["age", 1.0] != shown["age", 2.0] != shown["age", 2.25] != shown["age", 3.0]  # on past 2.25
    assert "`older` at 133%" in " ".join(_texts(at, "caption"))
    assert shown["gender", -2.0] != shown["age", 3.0]  # feminine ran on top of older
    assert "`feminine` at 89%" in " ".join(_texts(at, "caption"))
    assert [b.label for b in at.get("download_button")] == ["Download (instant)", "Download (exact)"]

    for attribute in ("beard", "glasses", "smile"):
        at.slider(key=f"attr_{attribute}").set_value(1.0)
    at.run()
    _ok(at)
    assert "Instant mode has no filter for beard, glasses, smile: only the exact result shows those edits" in \
        " ".join(_texts(at, "warning"))
    assert _images(at, "instant: after")["instant: after"] == shown["gender", -2.0]  # unchanged by them


def test_instant_mode_runs_the_filter_for_the_slider(tmp_path, monkeypatch):
    import distill.filter
    from tests.conftest import tiny_filter

    spec = {"direction": "age-orth-gender", "alpha_min": 1.5, "alpha_max": 2.5}
    tiny_filter(resolution=64, metadata={"dataset": spec}).save_pretrained(tmp_path / "synthfaces-64" / "older")
    monkeypatch.setattr(distill.filter, "BUNDLED_FILTERS_DIR", tmp_path)
    at = _generated(_app(monkeypatch).run())
    at.slider(key="attr_age").set_value(1.0).run()
    at.slider(key="attr_smile").set_value(1.0).run()
    _ok(at)
    assert "`older` at 50%" in " ".join(_texts(at, "caption"))  # 1 / 2 (the middle of 1.5-2.5)
    assert "Instant mode has no filter for smile" in " ".join(_texts(at, "warning"))


def test_instant_result_shows_even_when_the_exact_inversion_fails(monkeypatch):
    from faceedit.app.shared import SharedEditor

    def broken(self, located, method, steps, progress=None):
        raise RuntimeError("inversion exploded")

    monkeypatch.setattr(SharedEditor, "invert", broken)
    at = _upload(_app(monkeypatch).run(), _portrait())
    assert "Something went wrong (RuntimeError)" in at.error[0].value
    at.slider(key="attr_age").set_value(2.0).run()
    assert not at.exception
    assert "Something went wrong (RuntimeError)" in at.error[0].value  # a sentence, not the traceback
    assert "instant: edited photo" in _images(at)  # computed before the inversion started
    assert not _images(at, "exact")


def test_example_photo_is_aligned_and_inverted_with_progress(monkeypatch):
    at = _app(monkeypatch).run()
    at.selectbox(key="quality").set_value("Fast (100 steps)")
    at.radio(key="source").set_value("Example photo").run()
    _ok(at)
    assert any("w+ inversion" in c for c in _texts(at, "caption"))
    at.slider(key="attr_gender").set_value(-2.0).run()
    _ok(at)
    assert len(at.session_state["inversions"]) == 1  # the slider reused the inversion


# ------------------------------------------------------------------------------------------- uploads


def test_an_uploaded_photo_is_found_edited_and_downloadable(monkeypatch):
    at = _app(monkeypatch).run()
    at.selectbox(key="quality").set_value("Instant (encoder)")
    _upload(at, _portrait())
    _ok(at)
    assert "your photo (the square is the face being edited)" in _images(at)
    before = _images(at, "exact: edited photo")
    at.slider(key="attr_age").set_value(2.0).run()
    _ok(at)
    assert _images(at, "exact: edited photo") != before
    assert {"instant: edited photo", "exact: edited photo"} <= set(_images(at))
    assert [b.label for b in at.get("download_button")] == ["Download (instant)", "Download (exact)"]


@pytest.mark.parametrize("case", ["not an image", "huge", "no face"])
def test_a_bad_upload_gets_a_clear_message(case, monkeypatch):
    if case == "not an image":
        data, expected = b"hello, this is text", "is not an image faceedit can read"
    elif case == "huge":  # a PNG header claiming 100000 x 100000 pixels: refused before anything is decoded
        data, expected = _png_header(100_000, 100_000), "10000 MP, more than the 40 MP faceedit accepts"
    else:
        data, expected = _png(np.full((240, 320, 3), 128, np.uint8)), "no face found in the 320 x 240 image"
    at = _upload(_app(monkeypatch).run(), data)
    assert not at.exception
    assert len(at.error) == 1 and expected in at.error[0].value
    assert "Traceback" not in at.error[0].value and not _images(at)


def test_a_photo_with_two_faces_says_so_and_lets_you_pick(monkeypatch):
    from faceedit.synthfaces.examples import example_photo

    face = example_photo("older man with beard")
    pair = np.concatenate([face, face[:, ::-1]], axis=1)  # the same face twice, the second mirrored
    at = _app(monkeypatch).run()
    at.selectbox(key="quality").set_value("Instant (encoder)")
    _upload(at, _png(pair))
    _ok(at)
    assert "2 faces found; editing face 0 (0 is the largest)" in " ".join(_texts(at, "info"))
    first = _images(at, "your photo")
    at.number_input(key="face").set_value(1).run()
    _ok(at)
    assert "editing face 1" in " ".join(_texts(at, "info")) and _images(at, "your photo") != first


def _png_header(width: int, height: int) -> bytes:
    """A PNG signature, an IHDR chunk for an RGB image of that size, and IEND: no pixel data at all."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IEND", b""))


# ------------------------------------------------------------------------------------------- privacy


def test_a_second_session_never_sees_the_first_sessions_photo(monkeypatch):
    first = _app(monkeypatch).run()
    first.selectbox(key="quality").set_value("Instant (encoder)")
    _upload(first, _portrait())
    _ok(first)
    first_images = _images(first)
    assert "your photo (the square is the face being edited)" in first_images
    assert all(key in first.session_state for key in USER_STATE)

    second = _app(monkeypatch).run()  # another browser tab, same server process and model cache
    _ok(second)
    assert not _images(second)  # nothing to show until this session uploads its own photo
    assert "Upload a photo with a face" in second.info[0].value
    assert not any(key in second.session_state for key in USER_STATE)

    second.selectbox(key="quality").set_value("Instant (encoder)")
    _upload(second, _portrait("young woman"))
    _ok(second)
    assert not set(_images(second).values()) & set(first_images.values())  # not one picture in common
    assert first.session_state["decoded"][2] != second.session_state["decoded"][2]


def test_an_upload_and_edit_write_no_file(tmp_path):
    """A whole round (upload, find, invert, edit, filter, download button) in a fresh process whose working
    folder, TMPDIR, HOME and model cache are empty folders: they are still empty afterwards."""
    folders = {name: tmp_path / name for name in ("cwd", "tmp", "home", "cache")}
    for folder in folders.values():
        folder.mkdir()
    script = textwrap.dedent(f"""
        import json
        from streamlit.testing.v1 import AppTest
        from faceedit.synthfaces.examples import example_photo
        from faceedit.utils.images import encode_image

        at = AppTest.from_file({APP!r}, default_timeout=120).run()
        at.selectbox(key="quality").set_value("Fast (100 steps)")
        at.file_uploader(key="upload").upload("me.png", encode_image(example_photo("young woman"), "PNG"),
                                              "image/png").run()
        at.slider(key="attr_age").set_value(2.0).run()
        at.slider(key="attr_gender").set_value(1.0).run()
        print(json.dumps({{"errors": [e.value for e in at.error] + [e.value for e in at.exception],
                          "downloads": [b.label for b in at.get("download_button")]}}))
    """)
    env = dict(os.environ, TMPDIR=str(folders["tmp"]), HOME=str(folders["home"]),
               FACEEDIT_CACHE=str(folders["cache"]), FACEEDIT_OFFLINE="1", PYTHONPATH=str(ROOT),
               MPLCONFIGDIR=str(folders["home"]))
    env.pop("FACEEDIT_APP_MODEL", None)
    env.pop("FACEEDIT_APP_ALLOW_PATHS", None)
    done = subprocess.run([sys.executable, "-c", script], cwd=folders["cwd"], env=env, capture_output=True,
                          text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"errors": [], "downloads": ["Download (instant)", "Download (exact)"]}
    written = {name: sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) for name, folder in folders.items()}
    assert written == {name: [] for name in folders}


# ------------------------------------------------------------------------------------------- models


def test_the_picker_lists_face_models_only_and_takes_no_path_by_default(monkeypatch):
    at = _app(monkeypatch).run()
    options = at.selectbox(key="model").options
    assert options[0].startswith("synthfaces-64 (bundled")
    for face_model in ("ffhq-1024", "celebahq-256", "metfaces-1024"):
        assert any(o.startswith(face_model + " ") for o in options)
    for other in ("afhqcat", "afhqdog", "afhqwild", "ngc-afhqv2", "brecahad", "cifar10", "vgg16-lpips"):
        assert not any(o.startswith(other) for o in options)
    assert "Other (path)..." not in options
    assert "FACEEDIT_APP_ALLOW_PATHS=1" in " ".join(_texts(at, "caption"))


def test_a_bad_model_path_is_reported_when_the_operator_allows_paths(tmp_path, monkeypatch):
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(b"not a pickle")
    at = _app(monkeypatch, allow_paths=True).run()
    assert at.selectbox(key="model").options[-1] == "Other (path)..."
    at.selectbox(key="model").set_value("Other (path)...").run()
    at.text_input(key="path").set_value(str(bad)).run()
    assert not at.exception
    assert "not a pickle" in at.error[0].value


def test_a_model_without_directions_says_how_to_get_them(monkeypatch):
    at = _generated(_app(monkeypatch, str(NVIDIA_FIXTURES / "sg2_f_skip64_w64.pkl")).run())
    assert not at.exception
    assert "no directions yet" in at.warning[0].value


def test_a_model_that_is_not_downloaded_offers_the_fetch_command(monkeypatch):
    at = _app(monkeypatch).run()
    label = next(o for o in at.selectbox(key="model").options if o.startswith("ffhq-1024 "))
    at.selectbox(key="model").set_value(label).run()
    assert not at.exception
    assert "faceedit models fetch ffhq-1024" in at.warning[0].value
    at.button(key="fetch").click().run()  # offline (FACEEDIT_OFFLINE=1): a clear error, not a traceback
    assert not at.exception and at.error and "ffhq-1024" in at.error[0].value
