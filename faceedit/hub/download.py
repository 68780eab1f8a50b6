"""Download registered models into the cache: resumable, with a progress bar and integrity checks.

A file becomes usable only after it is verified: against the pinned SHA-256 when the registry
knows one, otherwise by reading it with the safe network-pickle reader. Verification writes a
``<file>.sha256`` record beside it; a partial download is kept as ``<file>.part`` and resumed
with an HTTP range request. Nothing is downloaded unless asked for.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional, Union

from faceedit.errors import FaceEditError, ModelDownloadError
from faceedit.hub.cache import OFFLINE_ENV, cache_dir, is_offline
from faceedit.hub.registry import ModelSpec, get_model_spec
from faceedit.utils.files import atomic_write_text, sha256_file

__all__ = ["cached_model_path", "is_cached", "fetch_model", "manual_download_instructions"]

CHUNK = 1 << 20
USER_AGENT = "faceedit (+https://pypi.org/project/faceedit)"


def _spec(model: Union[str, ModelSpec]) -> ModelSpec:
    return model if isinstance(model, ModelSpec) else get_model_spec(model)


def cached_model_path(model: Union[str, ModelSpec]) -> Path:
    """Where the model's file lives (or will live) in the cache; the package folder for bundled models."""
    spec = _spec(model)
    if spec.bundled_path is not None:
        return spec.bundled_path
    return cache_dir() / spec.filename


def _bundled_folder(spec: ModelSpec) -> Path:
    folder = spec.bundled_path
    if folder is None or not folder.is_dir():
        raise ModelDownloadError(f"{spec.name} should ship inside the faceedit package at {folder}, but that folder "
                                 f"is missing; reinstall faceedit (`pip install --force-reinstall faceedit`)")
    return folder


def _record_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def is_cached(model: Union[str, ModelSpec]) -> bool:
    """True when the model's file is in the cache, verified, and still has the verified size.

    Bundled models are always available (they ship inside the package).
    """
    if _spec(model).bundled:
        return True
    path = cached_model_path(model)
    record = _record_path(path)
    if not path.is_file() or not record.is_file():
        return False
    try:
        _, size = record.read_text().split()
        return int(size) == path.stat().st_size
    except (ValueError, OSError):
        return False


def manual_download_instructions(spec: ModelSpec) -> str:
    target = cached_model_path(spec)
    lines = [
        "To install it by hand:",
        f"  1. on a machine with internet access, download {spec.url}",
        f"  2. copy the file to {target}",
        f"     (or anywhere, then run: faceedit models fetch {spec.name} --from-file PATH)",
    ]
    if spec.sha256:
        lines.append(f"  expected SHA-256: {spec.sha256}")
    return "\n".join(lines)


def fetch_model(
    model: Union[str, ModelSpec],
    force: bool = False,  # download again even if a verified copy is cached
    from_file: Optional[Union[str, Path]] = None,  # install from a file downloaded by hand
    progress: bool = True,  # show a progress bar
    timeout: float = 30.0,  # network timeout in seconds
) -> Path:
    """Make sure a registered model is in the cache and verified; return its path.

    Raises:
        ModelDownloadError: offline, network failure, or the file fails its integrity check
            (the message says which URL to fetch and where to put the file).
    """
    spec = _spec(model)
    if spec.bundled:
        return _bundled_folder(spec)
    target = cached_model_path(spec)
    if is_cached(spec) and not force and from_file is None:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")

    if from_file is not None:
        source = Path(from_file).expanduser()
        if not source.is_file():
            raise ModelDownloadError(f"{source} does not exist or is not a file")
        shutil.copyfile(source, part)
    elif target.is_file() and not force and not _record_path(target).exists():
        # Placed in the cache by hand: verify it in place.
        os.replace(target, part)
    else:
        if is_offline():
            raise ModelDownloadError(f"{spec.name} is not in the cache ({target}) and {OFFLINE_ENV} is set, so "
                                     f"nothing is downloaded.\n{manual_download_instructions(spec)}")
        if force:
            part.unlink(missing_ok=True)
        _download(spec, part, progress=progress, timeout=timeout)

    _verify_and_install(spec, part, target)
    return target


def _download(spec: ModelSpec, part: Path, progress: bool, timeout: float) -> None:
    start = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(spec.url, headers={"User-Agent": USER_AGENT})
    if start:
        request.add_header("Range", f"bytes={start}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:  # the partial file is already complete
            return
        raise ModelDownloadError(f"downloading {spec.name} from {spec.url} failed: HTTP {exc.code} {exc.reason}.\n"
                                 f"{manual_download_instructions(spec)}") from None
    except (urllib.error.URLError, socket.timeout, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ModelDownloadError(f"could not reach {spec.url} to download {spec.name} ({reason}); this machine "
                                 f"seems to be offline.\n{manual_download_instructions(spec)}") from None
    with response:
        status = getattr(response, "status", 200)
        if start and status != 206:
            start = 0  # the server ignored the range request: start over
        length = response.headers.get("Content-Length")
        total = start + int(length) if length and length.isdigit() else spec.size
        from tqdm.auto import tqdm

        with open(part, "ab" if start else "wb") as handle, tqdm(
                total=total, initial=start, unit="B", unit_scale=True, unit_divisor=1024,
                desc=f"fetch {spec.name}", disable=not progress) as bar:
            try:
                for chunk in iter(lambda: response.read(CHUNK), b""):
                    handle.write(chunk)
                    bar.update(len(chunk))
                interrupted = total is not None and handle.tell() < total
                reason = f"got {handle.tell()} of {total} bytes"
            except (socket.timeout, OSError, http.client.HTTPException) as exc:
                interrupted, reason = True, f"{type(exc).__name__}: {exc}"
            if interrupted:
                raise ModelDownloadError(f"the download of {spec.name} was interrupted ({reason}); run the same "
                                         f"command again to resume from {handle.tell()} bytes")


def _verify_and_install(spec: ModelSpec, part: Path, target: Path) -> None:
    size = part.stat().st_size
    if spec.size is not None and size != spec.size:
        if size < spec.size:
            raise ModelDownloadError(f"{spec.name}: the file has {size} bytes, expected {spec.size}; the download is "
                                     f"incomplete - run `faceedit models fetch {spec.name}` again to resume")
        part.unlink()
        raise ModelDownloadError(f"{spec.name}: the file has {size} bytes, expected {spec.size}; it was deleted. "
                                 f"Run `faceedit models fetch {spec.name}` again")
    digest = sha256_file(part)
    if spec.sha256 is not None and digest != spec.sha256:
        part.unlink()
        raise ModelDownloadError(f"{spec.name}: SHA-256 {digest} does not match the expected {spec.sha256}; the "
                                 f"corrupt file was deleted. Run `faceedit models fetch {spec.name}` again, or check "
                                 f"that you downloaded {spec.url}")
    if spec.sha256 is None:
        # No pinned hash: the file must at least be complete, safe and loadable as what the registry says it is
        # (its hash is then recorded, and later loads are checked against it).
        try:
            _check_loadable(spec, part)
        except FaceEditError as exc:
            part.unlink()
            what = "LPIPS archive" if spec.kind == "perceptual" else "network pickle"
            raise ModelDownloadError(f"{spec.name}: the downloaded file is not a usable {what} ({exc}); it "
                                     f"was deleted") from None
    os.replace(part, target)
    atomic_write_text(_record_path(target), f"{digest} {size}\n")


def _check_loadable(spec: ModelSpec, path: Path) -> None:
    """Read a downloaded file the way faceedit will use it (data only, never its code); raises FaceEditError."""
    if spec.kind == "perceptual":
        from faceedit.inversion.lpips import LPIPS

        LPIPS.from_nvidia(path)
        return
    from faceedit.loading.nvidia_pickle import generator_record, read_network_pickle

    generator_record(read_network_pickle(path), source=spec.filename)
