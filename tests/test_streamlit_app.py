"""The Streamlit app's logic, driven by ``streamlit.testing`` (no browser; see test_streamlit_browser.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from tests.conftest import NVIDIA_FIXTURES  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


def _images(at):
    """Every image element's bytes description, in page order."""
    return [e.proto.SerializeToString() for e in at.get("image")]


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    import streamlit as st

    st.cache_resource.clear()  # each test sees the models (and bundled filters) it sets up
    yield
    st.cache_resource.clear()


def _app(monkeypatch, model=None):
    if model is None:
        monkeypatch.delenv("FACEEDIT_APP_MODEL", raising=False)
    else:
        monkeypatch.setenv("FACEEDIT_APP_MODEL", model)
    return AppTest.from_file(APP, default_timeout=120)


def test_generated_face_edits_when_the_age_slider_moves(tmp_path, monkeypatch):
    import distill.filter

    monkeypatch.setattr(distill.filter, "BUNDLED_FILTERS_DIR", tmp_path)  # a model without filters: exact mode only
    at = _app(monkeypatch).run()
    at.radio(key="source").set_value("Generated face").run()
    assert not at.exception and not at.error
    assert [s.label for s in at.slider][:2] == ["age", "gender"]
    before = _images(at)
    at.slider(key="attr_age").set_value(2.5).run()
    assert not at.exception and not at.error
    after = _images(at)
    assert len(after) == len(before) and after != before
    assert [b.label for b in at.get("download_button")] == ["Download (exact)"]
    assert "No distilled filters are bundled" in " ".join(i.value for i in at.info)


def test_instant_mode_runs_the_filter_for_the_slider(tmp_path, monkeypatch):
    import distill.filter
    from tests.conftest import tiny_filter

    spec = {"direction": "age-orth-gender", "alpha_min": 1.5, "alpha_max": 2.5}
    tiny_filter(resolution=64, metadata={"dataset": spec}).save_pretrained(tmp_path / "synthfaces-64" / "older")
    monkeypatch.setattr(distill.filter, "BUNDLED_FILTERS_DIR", tmp_path)
    at = _app(monkeypatch).run()
    at.radio(key="source").set_value("Generated face").run()
    assert "Move a slider" in at.info[0].value
    at.slider(key="attr_age").set_value(1.0).run()
    at.slider(key="attr_smile").set_value(1.0).run()
    assert not at.exception and not at.error
    assert [b.label for b in at.get("download_button")] == ["Download (exact)", "Download (instant)"]
    assert any("no filter for: smile" in c.value for c in at.caption)


def test_example_photo_is_aligned_and_inverted_with_progress(monkeypatch):
    at = _app(monkeypatch).run()
    at.radio(key="source").set_value("Example photo").run()
    at.selectbox(key="quality").set_value("Fast (100 steps)").run()
    assert not at.exception and not at.error
    assert any("w+ inversion" in c.value for c in at.caption)
    at.slider(key="attr_gender").set_value(-2.0).run()
    assert not at.exception and not at.error
    assert len(at.session_state["inversions"]) == 1  # the slider reused the inversion


def test_two_sessions_keep_their_own_faces(monkeypatch):
    first, second = _app(monkeypatch).run(), _app(monkeypatch).run()
    for at, seed in ((first, 1), (second, 2)):
        at.radio(key="source").set_value("Generated face").run()
        at.number_input(key="seed").set_value(seed).run()
    assert _images(first) != _images(second)
    assert "inversions" not in first.session_state and "inversions" not in second.session_state


def test_a_model_without_directions_says_how_to_get_them(monkeypatch):
    at = _app(monkeypatch, str(NVIDIA_FIXTURES / "sg2_f_skip64_w64.pkl")).run()
    at.radio(key="source").set_value("Generated face").run()
    assert not at.exception
    assert "no directions yet" in at.warning[0].value


def test_a_bad_model_path_is_reported_without_a_traceback(tmp_path, monkeypatch):
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(b"not a pickle")
    at = _app(monkeypatch).run()
    at.selectbox(key="model").set_value("Other (path)...").run()
    at.text_input(key="path").set_value(str(bad)).run()
    assert not at.exception
    assert "not a pickle" in at.error[0].value


def test_a_model_that_is_not_downloaded_offers_the_fetch_command(monkeypatch):
    at = _app(monkeypatch).run()
    label = next(o for o in at.selectbox(key="model").options if o.startswith("ffhq-1024"))
    at.selectbox(key="model").set_value(label).run()
    assert not at.exception
    assert "faceedit models fetch ffhq-1024" in at.warning[0].value
    at.button(key="fetch").click().run()  # offline (FACEEDIT_OFFLINE=1): a clear error, not a traceback
    assert not at.exception and at.error and "ffhq-1024" in at.error[0].value


def test_a_photo_with_several_faces_lets_you_pick_one(monkeypatch):
    pytest.importorskip("skimage")
    at = _app(monkeypatch).run()
    at.radio(key="source").set_value("Example photo").run()
    at.selectbox(key="example").set_value("astronaut (scikit-image)").run()
    at.selectbox(key="quality").set_value("Fast (100 steps)").run()
    assert not at.exception and not at.error
    found = [i.value for i in at.info if "faces found" in i.value]
    assert found and found[0].startswith("2 faces found; editing face 0")
    first = _images(at)
    at.number_input(key="face").set_value(1).run()
    assert not at.exception and not at.error
    assert "editing face 1" in " ".join(i.value for i in at.info) and _images(at) != first
