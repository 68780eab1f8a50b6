"""The README's Python examples run as written (one shared namespace, in order)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_examples_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)  # examples may save files
    namespace = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # our own documentation, not user input
    assert namespace["older"].shape == namespace["img"].shape and namespace["result"].photo.shape == (256, 256, 3)
    assert (tmp_path / "models" / "mine" / "config.json").is_file()
