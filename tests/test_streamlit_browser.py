"""The app in a real browser: Playwright drives Debian's headless Chromium against ``streamlit run``.

Uploads a non-image (clear message), then a photo; waits for the exact-mode edit; moves the age slider
with the keyboard and checks the edited photo changed. The screenshot lands in ``test-artifacts/``.

Skipped when Playwright or Chromium is missing, unless ``FACEEDIT_REQUIRE_BROWSER=1`` (CI sets it), where
a missing browser fails the run instead of hiding it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # optional: pip install playwright
    sync_playwright = None

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("FACEEDIT_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "test-artifacts"


def _require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("FACEEDIT_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " (FACEEDIT_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    port = _free_port()
    env = dict(os.environ, FACEEDIT_OFFLINE="1", FACEEDIT_CACHE=str(tmp_path_factory.mktemp("cache")))
    env.pop("FACEEDIT_APP_MODEL", None)
    log = open(tmp_path_factory.mktemp("log") / "streamlit.log", "w+")
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"),
                               "--server.headless", "true", "--server.port", str(port),
                               "--server.address", "127.0.0.1"], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail("streamlit did not start:\n" + log.read())
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def _wait_idle(page) -> None:
    """Until the script run ends (Streamlit shows a running-man status widget meanwhile)."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")


def _edited_photo_src(page) -> str:
    image = page.locator('[data-testid="stImage"]', has_text="edited photo").first.locator("img")
    return image.get_attribute("src")


def test_upload_slide_age_and_see_the_photo_change(app_url, tmp_path):
    _require(sync_playwright is not None, "Playwright is not installed (pip install playwright)")
    _require(CHROMIUM.exists(), f"no Chromium at {CHROMIUM} (apt install chromium)")
    from faceedit.synthfaces.examples import example_photo
    from faceedit.utils.images import save_png

    photo = save_png(example_photo("older man with beard"), tmp_path / "portrait.png")
    not_an_image = tmp_path / "notes.txt"
    not_an_image.write_text("hello")
    ARTIFACTS.mkdir(exist_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=["--no-sandbox", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.set_default_timeout(90_000)
        page.goto(app_url)
        uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]')
        uploader.wait_for(state="attached")

        uploader.set_input_files(str(not_an_image))
        page.get_by_text("is not an image faceedit can read", exact=False).first.wait_for()

        uploader.set_input_files(str(photo))
        page.get_by_text("inversion in", exact=False).first.wait_for()
        _wait_idle(page)
        before = _edited_photo_src(page)
        page.screenshot(path=str(ARTIFACTS / "streamlit-before.png"), full_page=True)

        thumb = page.locator('[data-testid="stSlider"] input[type="range"][aria-label="age"]')
        assert float(thumb.input_value()) == 0.0
        thumb.focus()
        for _ in range(20):
            page.keyboard.press("ArrowRight")
        page.wait_for_function(
            """(before) => {
                const figs = [...document.querySelectorAll('[data-testid="stImage"]')]
                    .filter(f => f.innerText.includes('edited photo'));
                const img = figs.length ? figs[0].querySelector('img') : null;
                return img && img.getAttribute('src') !== before;
            }""", arg=before)
        after = _edited_photo_src(page)
        assert float(thumb.input_value()) == pytest.approx(2.0)
        _wait_idle(page)
        page.screenshot(path=str(ARTIFACTS / "streamlit-after-age.png"), full_page=True)
        browser.close()
    assert after != before
