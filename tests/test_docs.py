"""Every example in the README and docs/ runs as written.

Each page's ``python`` and ``bash`` blocks run in the order they appear, in one scratch folder per page:

* ``python`` blocks in one namespace per page, in this process;
* ``bash`` blocks line by line through ``bash -c`` (a trailing ``# ...`` is a comment, ``\\`` continues a
  line), with this Python's scripts (``faceedit``, ``torchrun``, ``python``) first on ``PATH``; every
  ``faceedit ...`` line is also parsed by the real CLI parser, exempt or not;
* ``streamlit run streamlit_app.py`` starts the server in the repository (headless, on a free port), checks
  its health endpoint and the page, and stops it (the app's behaviour has its own tests).

The scratch folder starts with what the examples take as given: ``photo.png`` and ``photo.jpg`` (an example
portrait, for "any photo with a face"), ``group.jpg`` (two portraits side by side, for a photo with several
faces) and ``ffhq.pkl`` (a small NVIDIA StyleGAN2 pickle standing in for the 382 MB FFHQ file). Examples
that would be slow are written small in the docs themselves, with a sentence saying what to use for real work.

Only :data:`EXEMPT` is not run: things that truly cannot run here (the network, the whole test suite, a
maintainer command that rewrites the repository's bundled files). The test asserts that exactly these are
skipped, each for its stated reason.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(?:<!-- test: (compile-only) [^\n]*?-->\n)?```(python|bash)\n(.*?)```", flags=re.S)
NETWORK = "downloads from the network"
FFHQ = "needs the FFHQ weights, the 382 MB download on the line before"

# (page, how the line or the python block starts) -> why it is not run here.
EXEMPT: Dict[Tuple[str, str], str] = {
    ("README.md", "pip install torch==2.13.0 -e '.[app,directions,faces]'"):
        f"{NETWORK}; CI installs a superset of these extras (test_the_quickstart_installs_what_ci_installs)",
    ("README.md", "pip install -e '.[dev,app,directions,faces,clip,onnx]' && python -m pytest -q tests"):
        f"{NETWORK}, then the whole test suite, this test included; .ci/run runs exactly this",
    ("README.md", "faceedit models fetch ffhq-1024"): NETWORK,
    ("README.md", "faceedit generate --model ffhq-1024"): FFHQ,
    ("README.md", "faceedit directions fit --model ffhq-1024"): FFHQ,
    ("classifiers.md", "hf download openai/clip-vit-base-patch32"): NETWORK,
    ("classifiers.md", "from directions.classifiers.clip import CLIPZeroShotClassifier"):
        "needs CLIP weights in the Hugging Face cache (a download); compiled here, and tests/directions/classifiers "
        "runs the same classifier on a small CLIP",
    ("directions.md", "python benchmarks/directions_synthfaces.py"):
        "maintainer command: refits and overwrites the bundled directions, MODELS.md figures and docs/images in "
        "the repository (about 40 minutes)",
}


def _blocks(page: Path) -> List[Tuple[str, str, str]]:
    """``[(marker, language, body)]`` in page order; marker is '' or 'compile-only'."""
    return BLOCK.findall(page.read_text())


def _commands(body: str) -> List[str]:
    """Shell lines without comments; ``\\`` continues a line."""
    lines = []
    for line in body.replace("\\\n", " ").splitlines():
        line = line.split(" #")[0].strip()
        if line and not line.startswith("#"):
            lines.append(" ".join(line.split()))
    return lines


def _exemption(page: Path, text: str) -> Optional[Tuple[str, str]]:
    first = text.strip().splitlines()[0] if text.strip() else ""
    matches = [key for key in EXEMPT if key[0] == page.name and first.startswith(key[1])]
    assert len(matches) <= 1, matches
    return matches[0] if matches else None


PAGES_WITH_EXAMPLES = [p for p in PAGES if _blocks(p)]


@pytest.fixture()
def scratch(tmp_path, monkeypatch):
    import numpy as np

    from faceedit.synthfaces.examples import example_photo
    from faceedit.utils.images import save_image
    from tests.conftest import NVIDIA_FIXTURES

    photo = example_photo("older man with beard")
    save_image(photo, tmp_path / "photo.png")
    save_image(photo, tmp_path / "photo.jpg")
    save_image(np.concatenate([photo, example_photo("young woman")], axis=1), tmp_path / "group.jpg")
    shutil.copy(NVIDIA_FIXTURES / "sg2_f_skip64_w64.pkl", tmp_path / "ffhq.pkl")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _shell_env() -> Dict[str, str]:
    env = dict(os.environ)  # FACEEDIT_OFFLINE=1 and a scratch FACEEDIT_CACHE, from tests/conftest.py
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def _run_shell(page: Path, line: str, cwd: Path) -> None:
    done = subprocess.run(["bash", "-c", line], cwd=cwd, env=_shell_env(), capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, f"{page.name}: {line}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve_and_check(page: Path, line: str) -> None:
    """Start ``streamlit run ...`` as written, in the repository, until its health endpoint and page answer."""
    port = _free_port()
    env = dict(_shell_env(), STREAMLIT_SERVER_HEADLESS="true", STREAMLIT_SERVER_PORT=str(port),
               STREAMLIT_SERVER_ADDRESS="127.0.0.1", STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    server = subprocess.Popen(["bash", "-c", "exec " + line], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as answer:
                    assert answer.read().decode().strip() == "ok"
                break
            except OSError:
                assert server.poll() is None, f"{page.name}: {line} exited:\n{server.stdout.read()}"
                assert time.monotonic() < deadline, f"{page.name}: {line} did not answer in 90 s"
                time.sleep(0.5)
        with urllib.request.urlopen(url + "/", timeout=10) as answer:
            assert answer.status == 200 and "<html" in answer.read().decode().lower()
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.timeout(1500)
@pytest.mark.parametrize("page", PAGES_WITH_EXAMPLES, ids=lambda p: p.name)
def test_every_example_runs_as_written(page, scratch):
    from faceedit.cli.main import build_parser

    parser = build_parser()
    namespace = {"__name__": f"docs_{page.stem}"}
    skipped = []
    for marker, language, body in _blocks(page):
        if language == "python":
            code = compile(body, str(page), "exec")
            exempt = _exemption(page, body)
            assert (marker == "compile-only") == (exempt is not None), \
                f"{page.name}: a compile-only block must be listed in EXEMPT and the other way round:\n{body}"
            if exempt:
                skipped.append(exempt)
                continue
            exec(code, namespace)  # our own documentation, not user input
            continue
        for line in _commands(body):
            words = shlex.split(line)
            if words[0] == "faceedit":
                parser.parse_args(words[1:])  # SystemExit (a failure) on an unknown command or flag
            exempt = _exemption(page, line)
            if exempt:
                skipped.append(exempt)
            elif words[:2] == ["streamlit", "run"]:
                _serve_and_check(page, line)
            else:
                _run_shell(page, line, scratch)
    assert sorted(skipped) == sorted(key for key in EXEMPT if key[0] == page.name)


def test_the_exemptions_are_exactly_these():
    found, examples = [], 0
    for page in PAGES:
        for _, language, body in _blocks(page):
            texts = [body] if language == "python" else _commands(body)
            examples += len(texts)
            found += [key for key in (_exemption(page, text) for text in texts) if key]
    assert sorted(found) == sorted(EXEMPT)  # each listed once, none stale, none unlisted
    assert examples - len(found) >= 55  # python blocks and shell lines that run


def test_every_page_has_examples_and_the_workflow_pages_exist():
    for name in ("edit-a-photo", "make-a-dataset", "train-a-filter", "bring-your-own"):
        page = ROOT / "docs" / f"{name}.md"
        assert page.is_file() and any(lang == "python" for _, lang, _ in _blocks(page))
        assert any(lang == "bash" for _, lang, _ in _blocks(page))


def test_the_quickstart_installs_what_ci_installs():
    """The README's install line pins the torch that CI installs, and asks for extras that exist and that CI
    installs too; CI installs Chromium with apt and makes the browser test mandatory."""
    quickstart = _commands(next(body for _, lang, body in _blocks(ROOT / "README.md") if lang == "bash"))
    assert quickstart == ["pip install torch==2.13.0 -e '.[app,directions,faces]'", "faceedit demo --out demo/",
                          "streamlit run streamlit_app.py"]
    ci = (ROOT / ".ci" / "run").read_text()
    pyproject = (ROOT / "pyproject.toml").read_text()
    section = pyproject[pyproject.index("[project.optional-dependencies]"):]
    extras = re.findall(r"^(\w+) = \[", section[: section.index("\n[", 1)], flags=re.M)
    wanted = set(re.search(r"-e '\.\[([^\]]+)\]'", quickstart[0]).group(1).split(","))
    ci_extras = set(re.search(r"pip install -q -e '\.\[([^\]]+)\]'", ci).group(1).split(","))
    assert wanted <= set(extras) and ci_extras <= set(extras)
    assert wanted <= ci_extras
    assert "torch==2.13.0" in re.search(r"pip install -q (torch==\S+)", ci).group(1)
    assert re.search(r"apt-get install [^\n]*\bchromium\b", ci)
    assert "export FACEEDIT_REQUIRE_BROWSER=1" in ci
    assert re.search(r'if \[ "\$rc" -eq 5 \]', ci)  # pytest's "no tests collected" is not a failure
    assert "python3 -m pytest -q tests" in ci


def test_the_readme_gives_one_demo_time_the_benchmark_measured():
    measured = re.search(r"\| `faceedit demo` \(whole pipeline, one HTML report\) \| ([\d.]+) s \|",
                         (ROOT / "BENCHMARKS.md").read_text())
    seconds = round(float(measured.group(1)))
    readme = (ROOT / "README.md").read_text()
    times = [match for line in readme.splitlines() if "demo" in line
             for match in re.findall(r"(\d+(?:\.\d+)?) ?(s|min)\b", line)]
    assert times and set(times) == {(str(seconds), "s")}


def test_the_performance_section_links_the_benchmarks():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Performance"):]
    section = section[: section.index("\n## ", 1)]
    assert "[BENCHMARKS.md](BENCHMARKS.md)" in section and (ROOT / "BENCHMARKS.md").is_file()


@pytest.mark.parametrize("name", ["README.md", "edit-a-photo.md"])
def test_the_bundled_filters_are_shown_in_the_python_examples(name):
    page = ROOT / name if name == "README.md" else ROOT / "docs" / name
    code = "\n".join(body for _, lang, body in _blocks(page) if lang == "python")
    assert re.search(r'editor\.apply_filter\([^)]*"older"', code)
    assert "once filters are bundled" not in page.read_text()


def test_no_page_says_the_bundled_models_are_still_to_come():
    stale = re.compile(r"wait(s)? for the trained generator|once filters are bundled|distils a filter from it")
    for page in PAGES:
        assert not stale.search(page.read_text()), page.name
