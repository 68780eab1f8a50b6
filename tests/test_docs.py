"""Every example in the README and docs/ runs as written.

* ``python`` blocks run in order, one namespace per page, in a scratch folder that holds
  ``photo.png`` (an example portrait).
* ``bash`` blocks: every ``faceedit ...`` line is parsed by the real CLI parser, so a renamed or
  missing flag fails here; a block right after ``<!-- test: run -->`` is run for real, line by line.
* A ``python`` block right after ``<!-- test: compile-only (reason) -->`` is only compiled; the reason
  must say what it needs and where that code is tested instead.
* Other lines (``pip``, ``streamlit run``, ``torchrun``) are installation or long-running commands;
  their parts are checked elsewhere (CI installs with the same extras, the app has its own tests).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(?:<!-- test: (run|compile-only) [^\n]*?-->\n)?```(python|bash)\n(.*?)```", flags=re.S)


def _blocks(page: Path, language: str):
    """``[(marker, body)]``; marker is '' (default), 'run' or 'compile-only'."""
    return [(marker, body) for marker, lang, body in BLOCK.findall(page.read_text()) if lang == language]


def _commands(body: str):
    """Shell lines without comments (a trailing ``# ...`` is a comment); ``\\`` continues a line."""
    for line in body.replace("\\\n", " ").splitlines():
        line = line.split(" #")[0].strip()
        if line and not line.startswith("#"):
            yield line


@pytest.fixture()
def scratch(tmp_path, monkeypatch):
    from faceedit.synthfaces.examples import example_photo
    from faceedit.utils.images import save_image

    save_image(example_photo("older man with beard"), tmp_path / "photo.png")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_page_has_examples_and_the_workflow_pages_exist():
    for name in ("edit-a-photo", "make-a-dataset", "train-a-filter", "bring-your-own"):
        assert (ROOT / "docs" / f"{name}.md").is_file()
    assert sum(len(_blocks(p, "python")) + len(_blocks(p, "bash")) for p in PAGES) >= 20


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p, "python")], ids=lambda p: p.name)
def test_python_examples_run(page, scratch):
    _run_marked_commands(page)  # what the page's Python builds on (e.g. a filter trained by its commands)
    namespace = {"__name__": f"docs_{page.stem}"}
    for marker, body in _blocks(page, "python"):
        code = compile(body, str(page), "exec")
        if marker != "compile-only":
            exec(code, namespace)  # our own documentation, not user input


def _run_marked_commands(page: Path) -> None:
    for marker, body in _blocks(page, "bash"):
        if marker == "run":
            for line in _commands(body):
                _run(page, line)


def _run(page: Path, line: str) -> None:
    words = shlex.split(line)
    done = subprocess.run([sys.executable, "-m", "faceedit", *words[1:]], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"{page.name}: {line}\n{done.stdout}\n{done.stderr}"


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p, "bash")], ids=lambda p: p.name)
def test_command_examples_parse_and_marked_ones_run(page, scratch):
    from faceedit.cli.main import build_parser

    parser = build_parser()
    for marker, body in _blocks(page, "bash"):
        run = marker == "run"
        for line in _commands(body):
            words = shlex.split(line)
            if words[0] == "faceedit":
                parser.parse_args(words[1:])  # SystemExit (a failure) on an unknown command or flag
                if run:
                    _run(page, line)
            else:
                assert not run, f"{page.name}: only faceedit commands can be run by the docs test: {line}"
