"""The app in a real browser: Playwright drives Debian's headless Chromium against ``streamlit run``.

Uploads files the app must refuse with a clear message (not an image, a PNG header claiming 100000 x 100000
pixels, a picture without a face) and a picture with two faces, then a portrait; waits for the exact-mode
edit; moves the age slider with the keyboard and checks that both the instant and the exact edited photos
changed; refuses one more file and takes the portrait again, which must come back with the slider where it
was. Screenshots land in ``test-artifacts/``. The server runs with an empty TMPDIR, which must still be
empty at the end: uploads stay in memory.

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
def server_tmp(tmp_path_factory) -> Path:
    """The server's TMPDIR: empty when it starts, and it must stay so."""
    return tmp_path_factory.mktemp("server-tmp")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, server_tmp):
    port = _free_port()
    env = dict(os.environ, FACEEDIT_OFFLINE="1", FACEEDIT_CACHE=str(tmp_path_factory.mktemp("cache")),
               TMPDIR=str(server_tmp))
    env.pop("FACEEDIT_APP_MODEL", None)
    env.pop("FACEEDIT_APP_ALLOW_PATHS", None)
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


def _edited_photo_src(page, mode: str) -> str:
    """The ``src`` of the edited photo shown by ``mode`` ('instant' or 'exact'); it names the image's bytes."""
    figure = page.locator('[data-testid="stImage"]', has_text=f"{mode}: edited photo").first
    return figure.locator("img").get_attribute("src")


def _changed(page, mode: str, before: str) -> None:
    """Wait until ``mode``'s edited photo is another picture than ``before``."""
    page.wait_for_function(
        """([caption, before]) => {
            const figs = [...document.querySelectorAll('[data-testid="stImage"]')]
                .filter(f => f.innerText.includes(caption));
            const img = figs.length ? figs[0].querySelector('img') : null;
            return img && img.getAttribute('src') !== before;
        }""", arg=[f"{mode}: edited photo", before])


AGE_SLIDER = '[data-testid="stSlider"] input[type="range"][aria-label="age"]'


def _age(page) -> float:
    return float(page.locator(AGE_SLIDER).input_value())


def _slide_age_to(page, value: float) -> None:
    """Move the age slider with the keyboard (0.1 a press) until the page shows ``value``."""
    thumb = page.locator(AGE_SLIDER)
    for _ in range(80):  # one press at a time: a rerun may re-render the slider and take the focus away
        current = _age(page)
        if abs(current - value) < 1e-6:
            break
        thumb.focus()
        page.keyboard.press("ArrowRight" if value > current else "ArrowLeft")
    page.wait_for_function("([selector, value]) => { const t = document.querySelector(selector);"
                           " return t && Math.abs(parseFloat(t.value) - value) < 1e-6; }", arg=[AGE_SLIDER, value])


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width x height`` pixels and holds none."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IEND", b""))


def _upload_and_expect(page, uploader, path: Path, message: str, screenshot: str) -> None:
    uploader.set_input_files(str(path))
    page.get_by_text(message, exact=False).first.wait_for()
    _wait_idle(page)
    page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)


def test_upload_slide_age_and_see_the_photo_change(app_url, server_tmp, tmp_path):
    _require(sync_playwright is not None, "Playwright is not installed (pip install playwright)")
    _require(CHROMIUM.exists(), f"no Chromium at {CHROMIUM} (apt install chromium)")
    import numpy as np

    from faceedit.synthfaces.examples import example_photo
    from faceedit.utils.images import save_png

    face = example_photo("older man with beard")
    skimage_data = pytest.importorskip("skimage.data")
    photo = save_png(skimage_data.astronaut()[:300, 60:360], tmp_path / "portrait.png")  # a real photo, one face
    two_faces = save_png(np.concatenate([face, face[:, ::-1]], axis=1), tmp_path / "two-faces.png")
    no_face = save_png(np.full((240, 320, 3), 128, np.uint8), tmp_path / "grey.png")
    huge = tmp_path / "huge.png"
    huge.write_bytes(_png_header(100_000, 100_000))
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

        _upload_and_expect(page, uploader, not_an_image, "is not an image faceedit can read",
                           "streamlit-not-an-image.png")
        _upload_and_expect(page, uploader, huge, "more than the 40 MP faceedit accepts", "streamlit-huge.png")
        _upload_and_expect(page, uploader, no_face, "no face found in the 320 x 240 image", "streamlit-no-face.png")
        _upload_and_expect(page, uploader, two_faces, "2 faces found; editing face 0", "streamlit-two-faces.png")
        assert page.locator('[data-testid="stException"]').count() == 0  # never a traceback

        exact_two_faces = _edited_photo_src(page, "exact")
        uploader.set_input_files(str(photo))
        # The two faces' page (with its own "inversion in" caption) stays up until the portrait's run ends.
        page.wait_for_function("() => !document.body.innerText.includes('2 faces found')")
        _changed(page, "exact", exact_two_faces)
        _wait_idle(page)
        assert page.get_by_text("Move the age or gender slider", exact=False).count() == 1
        exact_before = _edited_photo_src(page, "exact")
        page.screenshot(path=str(ARTIFACTS / "streamlit-before.png"), full_page=True)

        _slide_age_to(page, 1.0)
        _changed(page, "exact", exact_before)
        page.get_by_text("instant: edited photo", exact=False).first.wait_for()
        _wait_idle(page)
        assert _age(page) == pytest.approx(1.0)
        instant_at_1, exact_at_1 = _edited_photo_src(page, "instant"), _edited_photo_src(page, "exact")

        _slide_age_to(page, 2.0)
        _changed(page, "instant", instant_at_1)
        _changed(page, "exact", exact_at_1)
        _wait_idle(page)
        assert _age(page) == pytest.approx(2.0)
        instant_at_2, exact_at_2 = _edited_photo_src(page, "instant"), _edited_photo_src(page, "exact")
        page.screenshot(path=str(ARTIFACTS / "streamlit-after-age.png"), full_page=True)

        # A refused upload draws no slider; the photo uploaded again comes back with the age still at 2.
        _upload_and_expect(page, uploader, not_an_image, "is not an image faceedit can read",
                           "streamlit-refused-after-edit.png")
        uploader.set_input_files(str(photo))
        page.get_by_text("exact: edited photo", exact=False).first.wait_for()
        _wait_idle(page)
        assert _age(page) == pytest.approx(2.0)
        assert _edited_photo_src(page, "exact") == exact_at_2  # same photo, same slider, same picture
        assert page.locator('[data-testid="stException"]').count() == 0
        browser.close()
    assert instant_at_2 != instant_at_1 and exact_at_2 != exact_at_1 != exact_before
    # Uploads never reached the disk: no file under the server's TMPDIR (torch makes an empty cache folder there).
    assert [str(p) for p in server_tmp.rglob("*") if not p.is_dir()] == []
