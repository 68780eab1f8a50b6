import json

import pytest

from faceedit.cli.main import main
from faceedit.cli.train import parse_overrides


def test_train_then_resume_then_export(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--outdir", str(run), "--preset", "tiny", "--kimg", "0.008", "--no-progress"]) == 0
    assert "new run" in capsys.readouterr().out
    assert main(["train", "--outdir", str(run), "--kimg", "0.016", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "resuming at 0.0 kimg" in out and "done at step 4" in out
    model = tmp_path / "model"
    assert main(["export-generator", str(run), str(model), "--dtype", "float16", "--name", "tiny-test"]) == 0
    config = json.loads((model / "config.json").read_text())
    assert config["weights_dtype"] == "float16"
    assert config["metadata"]["name"] == "tiny-test" and config["metadata"]["training_step"] == 4
    import faceedit

    G = faceedit.load_generator(model, device="cpu")
    assert G.img_resolution == 16


def test_set_overrides_are_typed_and_checked():
    assert parse_overrides(["batch_size=8", "g_lr=0.002", "data=synthfaces"]) == {
        "batch_size": 8, "g_lr": 0.002, "data": "synthfaces"}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_overrides(["batchsize=8"])
    with pytest.raises(ValueError, match="takes a int"):
        parse_overrides(["batch_size=big"])


def test_errors_are_one_line(tmp_path, capsys):
    assert main(["export-generator", str(tmp_path), str(tmp_path / "out")]) == 2
    assert "holds no training checkpoint" in capsys.readouterr().err
    assert main(["train", "--outdir", str(tmp_path / "r"), "--preset", "huge"]) == 2
    assert "unknown preset" in capsys.readouterr().err
