"""Registry, cache and downloads, against a local HTTP server (never the internet)."""

from __future__ import annotations

import hashlib
import http.server
import threading

import pytest

import faceedit
from faceedit.errors import ModelDownloadError, ModelNotFoundError
from faceedit.hub import (
    ModelSpec,
    cached_model_path,
    fetch_model,
    get_model_spec,
    is_cached,
    list_models,
    register_model,
    unregister_model,
)
from tests.conftest import NVIDIA_FIXTURES

FIXTURE = NVIDIA_FIXTURES / "sg2_e_tiny16_cond.pkl"


class _Handler(http.server.BaseHTTPRequestHandler):
    payload = b""
    cut_after = None  # bytes sent before the connection drops (simulates an interruption)
    ranges_seen: list = []

    def do_GET(self):
        start = 0
        header = self.headers.get("Range")
        if header:
            start = int(header.split("=")[1].split("-")[0])
            type(self).ranges_seen.append(start)
        body = self.payload[start:]
        self.send_response(206 if header else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.cut_after is not None and not header:
            self.wfile.write(body[: self.cut_after])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    handler = type("Handler", (_Handler,), {"payload": FIXTURE.read_bytes(), "cut_after": None, "ranges_seen": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{httpd.server_address[1]}/net.pkl"
    httpd.shutdown()


@pytest.fixture
def spec_factory():
    names = []

    def make(url, sha256=None, size=None, name="test-net"):
        names.append(name)
        return register_model(ModelSpec(name=name, url=url, filename=name + ".pkl", resolution=16, dataset="test",
                                        license="test", sha256=sha256, size=size), overwrite=True)

    yield make
    for name in names:
        unregister_model(name)


def test_registry_lists_official_networks():
    ffhq = get_model_spec("ffhq-1024")
    assert ffhq.url.endswith("/stylegan2-ada-pytorch/pretrained/ffhq.pkl") and ffhq.resolution == 1024
    assert ffhq.sha256 and len(ffhq.sha256) == 64 and "NVIDIA" in ffhq.license
    assert len(list_models()) >= 10
    with pytest.raises(ModelNotFoundError, match="ffhq-1024"):
        get_model_spec("ffhq1024")


def test_offline_gives_instructions(spec_factory):
    spec = spec_factory("http://127.0.0.1:9/never.pkl", sha256="0" * 64)
    with pytest.raises(ModelDownloadError) as info:
        fetch_model(spec)
    message = str(info.value)
    assert "http://127.0.0.1:9/never.pkl" in message and str(cached_model_path(spec)) in message
    assert "--from-file" in message and "0" * 64 in message
    with pytest.raises(ModelDownloadError, match="FACEEDIT_OFFLINE"):
        faceedit.load_generator("test-net")


def test_unreachable_host_gives_instructions(spec_factory, monkeypatch):
    monkeypatch.setenv("FACEEDIT_OFFLINE", "0")
    spec = spec_factory("http://127.0.0.1:9/never.pkl")
    with pytest.raises(ModelDownloadError, match="offline"):
        fetch_model(spec, progress=False, timeout=2)


def test_download_verify_and_load(server, spec_factory, monkeypatch):
    monkeypatch.setenv("FACEEDIT_OFFLINE", "0")
    handler, url = server
    digest = hashlib.sha256(handler.payload).hexdigest()
    spec = spec_factory(url, sha256=digest, size=len(handler.payload))
    path = fetch_model(spec, progress=False)
    assert path.read_bytes() == handler.payload and is_cached(spec)
    G = faceedit.load_generator("test-net", device="cpu")
    assert G.img_resolution == 16


def test_interrupted_download_resumes(server, spec_factory, monkeypatch):
    monkeypatch.setenv("FACEEDIT_OFFLINE", "0")
    handler, url = server
    handler.cut_after = 50_000
    spec = spec_factory(url, sha256=hashlib.sha256(handler.payload).hexdigest())
    with pytest.raises(ModelDownloadError):
        fetch_model(spec, progress=False)
    part = cached_model_path(spec).with_name("test-net.pkl.part")
    assert part.stat().st_size == 50_000 and not is_cached(spec)
    handler.cut_after = None
    fetch_model(spec, progress=False)
    assert handler.ranges_seen == [50_000]
    assert cached_model_path(spec).read_bytes() == handler.payload


def test_hash_mismatch_deletes_the_file(server, spec_factory, monkeypatch):
    monkeypatch.setenv("FACEEDIT_OFFLINE", "0")
    _, url = server
    spec = spec_factory(url, sha256="f" * 64)
    with pytest.raises(ModelDownloadError, match="does not match"):
        fetch_model(spec, progress=False)
    assert not cached_model_path(spec).exists()
    assert not cached_model_path(spec).with_name("test-net.pkl.part").exists()


def test_unpinned_download_must_be_a_safe_network(server, spec_factory, monkeypatch):
    monkeypatch.setenv("FACEEDIT_OFFLINE", "0")
    handler, url = server
    handler.payload = b"\x80\x04junk that is not a network"
    spec = spec_factory(url)
    with pytest.raises(ModelDownloadError, match="not a usable network pickle"):
        fetch_model(spec, progress=False)


def test_from_file_and_hand_placed_files(spec_factory, tmp_path):
    spec = spec_factory("http://127.0.0.1:9/x.pkl", sha256=hashlib.sha256(FIXTURE.read_bytes()).hexdigest())
    fetch_model(spec, from_file=FIXTURE)
    assert is_cached(spec)
    # A file copied into the cache by hand is verified on first use.
    cached_model_path(spec).with_name("test-net.pkl.sha256").unlink()
    assert not is_cached(spec)
    assert faceedit.load_generator("test-net", device="cpu").c_dim == 3
    assert is_cached(spec)


def test_nothing_is_downloaded_without_asking(spec_factory):
    spec_factory("http://127.0.0.1:9/x.pkl")
    with pytest.raises(ModelNotFoundError, match="faceedit models fetch test-net"):
        faceedit.load_generator("test-net", download=False)
