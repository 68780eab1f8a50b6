"""The faceedit command line: generate, convert, models; errors without tracebacks."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from faceedit.cli.main import main
from tests.conftest import NVIDIA_FIXTURES

SKIP64 = NVIDIA_FIXTURES / "sg2_f_skip64_w64.pkl"
COND = NVIDIA_FIXTURES / "sg2_e_tiny16_cond.pkl"


def test_generate_writes_pngs_and_grid_matching_nvidia(tmp_path):
    assert main(["generate", "--model", str(SKIP64), "--seeds", "0-3", "--outdir", str(tmp_path), "--no-progress",
                 "--device", "cpu"]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["grid.png", "seed0000.png", "seed0001.png", "seed0002.png", "seed0003.png"]
    ref = np.load(NVIDIA_FIXTURES / "sg2_f_skip64_w64_ref.npz")["img_psi1_uint8"]
    for i in range(4):
        ours = np.asarray(Image.open(tmp_path / f"seed{i:04d}.png")).astype(int)
        assert np.abs(ours - ref[i].astype(int)).max() <= 1
    assert Image.open(tmp_path / "grid.png").size == (2 * 64 + 3 * 2, 2 * 64 + 3 * 2)


def test_generate_is_deterministic(tmp_path):
    for out in ("a", "b"):
        main(["generate", "--model", str(SKIP64), "--seeds", "5,9", "--trunc", "0.7", "--outdir", str(tmp_path / out),
              "--no-progress"])
    for name in ("seed0005.png", "seed0009.png", "grid.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_conditional_network_needs_a_class(tmp_path, capsys):
    assert main(["generate", "--model", str(COND), "--seeds", "0", "--outdir", str(tmp_path), "--no-progress"]) == 2
    assert "--class" in capsys.readouterr().err
    assert main(["generate", "--model", str(COND), "--seeds", "0-1", "--class", "2", "--outdir", str(tmp_path),
                 "--no-progress"]) == 0


def test_convert_then_generate_from_folder(tmp_path):
    assert main(["convert", str(SKIP64), str(tmp_path / "conv")]) == 0
    assert (tmp_path / "conv" / "config.json").is_file()
    main(["generate", "--model", str(SKIP64), "--seeds", "1", "--outdir", str(tmp_path / "a"), "--no-progress"])
    main(["generate", "--model", str(tmp_path / "conv"), "--seeds", "1", "--outdir", str(tmp_path / "b"),
          "--no-progress"])
    assert (tmp_path / "a" / "seed0001.png").read_bytes() == (tmp_path / "b" / "seed0001.png").read_bytes()


@pytest.mark.parametrize("argv,message", [
    (["generate", "--model", "nowhere.pkl", "--outdir", "x"], "does not exist"),
    (["generate", "--model", str(SKIP64), "--seeds", "9-2", "--outdir", "x"], "seeds"),
    (["generate", "--model", "ffhq-1024", "--outdir", "x"], "FACEEDIT_OFFLINE"),
    (["generate", "--model", str(SKIP64), "--device", "cuda:7", "--outdir", "x"], None),
    (["models", "fetch", "ffhq-1024"], "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/ffhq.pkl"),
    (["convert", "nowhere.pkl", "out"], "does not exist"),
])
def test_errors_are_messages_not_tracebacks(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if "cuda:7" in argv:
        import torch

        if torch.cuda.is_available():
            pytest.skip("CUDA present")
        message = "CUDA is not available"
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("faceedit: error:") and message in err and "Traceback" not in err


def test_models_list(capsys):
    assert main(["models", "list", "-v"]) == 0
    out = capsys.readouterr().out
    assert "ffhq-1024" in out and "licence" in out and "cache:" in out


def test_console_script_entry_point():
    result = subprocess.run([sys.executable, "-m", "faceedit", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("faceedit ")


def test_quickstart_generates_bundled_faces_offline(tmp_path, capsys):
    assert main(["models", "list"]) == 0
    listing = capsys.readouterr().out
    assert any(line.startswith("synthfaces-64") and "bundled" in line for line in listing.splitlines())
    assert main(["generate", "--model", "synthfaces-64", "--seeds", "0-3", "--trunc", "0.7", "--outdir",
                 str(tmp_path), "--no-progress"]) == 0
    assert len(list(tmp_path.glob("seed*.png"))) == 4 and (tmp_path / "grid.png").is_file()


def test_demo_refuses_nonsense_sizes(capsys):
    from faceedit.cli.main import main

    assert main(["demo", "--out", "unused", "--eval-faces", "0"]) == 2
    assert "--eval-faces must be at least 1" in capsys.readouterr().err
