"""The Streamlit app: renders a grid from a local network and reports bad models clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from tests.conftest import NVIDIA_FIXTURES  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


def test_app_renders_faces_from_a_local_pickle(monkeypatch):
    monkeypatch.setenv("FACEEDIT_APP_MODEL", str(NVIDIA_FIXTURES / "sg2_f_skip64_w64.pkl"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception and not at.error
    elements = list(at.main)
    assert [type(e).__name__ for e in elements][-2:] == ["Image", "DownloadButton"]
    first = elements[-2].proto.SerializeToString()
    at.slider(key="count").set_value(3).run()
    assert not at.exception and list(at.main)[-2].proto.SerializeToString() != first


def test_app_reports_a_bad_path(tmp_path, monkeypatch):
    monkeypatch.delenv("FACEEDIT_APP_MODEL", raising=False)
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(b"not a pickle")
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.selectbox(key="model").set_value("Other (path)...").run()
    at.text_input(key="path").set_value(str(bad)).run()
    assert not at.exception
    assert "not a pickle" in at.error[0].value
