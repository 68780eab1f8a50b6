import numpy as np
import pytest
import torch
from PIL import Image

from faceedit.cli.main import main


def test_dataset_train_apply_export_end_to_end(tmp_path, capsys):
    skimage_data = pytest.importorskip("skimage.data")
    pytest.importorskip("dlib")
    data = tmp_path / "older"
    assert main(["dataset", "make", "--direction", "age-orth-gender", "--seeds", "0-11", "--shard-seeds", "6",
                 "--out", str(data), "--no-progress"]) == 0
    run = ["distill", "train", "--data", str(data), "--run-dir", str(tmp_path / "run"), "--steps", "2",
           "--batch-size", "2", "--ngf", "4", "--n-downsampling", "2", "--n-blocks", "1", "--held-out", "4",
           "--out", str(tmp_path / "older-filter"), "--dtype", "float16", "--no-progress"]
    assert main(run) == 0
    from distill.filter import Filter

    saved = Filter.load(tmp_path / "older-filter")
    assert saved.architecture["n_downsampling"] == 2
    assert all(p.dtype == torch.float32 for p in saved.network.parameters())  # stored float16, loaded float32
    photo = tmp_path / "astronaut.png"
    Image.fromarray(skimage_data.astronaut()).save(photo)
    assert main(["filters", "apply", str(photo), "--filter", str(tmp_path / "older-filter"), "--out",
                 str(tmp_path / "out.png")]) == 0
    assert np.asarray(Image.open(tmp_path / "out.png")).shape == (512, 512, 3)
    assert main(["filters", "apply", str(photo), "--filter", str(tmp_path / "older-filter"), "--strength", "0",
                 "--out", str(tmp_path / "none.png")]) == 0
    unchanged = np.asarray(Image.open(tmp_path / "none.png")).astype(int) - skimage_data.astronaut()
    assert np.abs(unchanged).max() <= 2  # strength 0: the photo back, up to the paste's resampling
    capsys.readouterr()
    assert main(["filters", "apply", str(photo), "--filter", str(tmp_path / "older-filter"), "--strength", "-1",
                 "--out", str(tmp_path / "x.png")]) == 2
    assert "strength -1.0 is outside 0-3" in capsys.readouterr().err and not (tmp_path / "x.png").exists()
    pytest.importorskip("onnxscript")
    assert main(["filters", "export", str(tmp_path / "older-filter"), "--out", str(tmp_path / "f.onnx")]) == 0
    assert (tmp_path / "f.onnx").stat().st_size > 1000
    capsys.readouterr()
    assert main(["filters", "apply", str(photo), "--filter", "sepia", "--out", str(tmp_path / "x.png")]) == 2
    assert "no filter 'sepia'" in capsys.readouterr().err


def test_set_changes_filter_settings_and_names_the_valid_keys():
    from distill.train import FilterTrainingConfig
    from faceedit.cli.train import parse_overrides

    assert parse_overrides(["lambda_l1=20", "flip=false", "perceptual=synthfaces-labeler"], FilterTrainingConfig) == \
        dict(lambda_l1=20.0, flip=False, perceptual="synthfaces-labeler")
    with pytest.raises(ValueError, match="lambda_l1"):
        parse_overrides(["lamda_l1=20"], FilterTrainingConfig)
    with pytest.raises(ValueError, match="flip takes a bool"):
        parse_overrides(["flip=maybe"], FilterTrainingConfig)


def test_calibrate_writes_a_copy_whose_default_strength_reaches_the_teachers_change(tmp_path, capsys):
    from distill.filter import Filter

    args = ["filters", "calibrate", "older", "--renders", "16", "--teacher-pairs", "16"]
    assert main(args) == 2  # a bundled filter is never changed in place
    assert "give --out" in capsys.readouterr().err
    assert main([*args, "--out", str(tmp_path / "older")]) == 0
    out = capsys.readouterr().out
    assert "synthfaces-labeler" in out and "16 synthfaces renders, seed 600000" in out
    calibrated = Filter.load(tmp_path / "older")
    calibration = calibrated.metadata["calibration"]
    assert calibrated.default_strength == calibration["strength"] > 1  # older ages renders less than its teacher
    assert calibration["change"] / calibration["teacher_change"] == pytest.approx(1.0, abs=0.05)
    assert calibrated.stored_dtype == Filter.load("older").stored_dtype  # the copy keeps the weights' dtype
    assert main(["filters", "calibrate", str(tmp_path / "older"), "--renders", "0"]) == 2
    assert "--renders must be at least 1" in capsys.readouterr().err


def test_filters_list_shows_each_bundled_filter_with_its_default_strength(capsys):
    from distill.filter import Filter, bundled_filters

    assert main(["filters", "list", "--model", "synthfaces-64"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = bundled_filters("synthfaces-64")
    assert [line.split()[0] for line in lines] == names
    for name, line in zip(names, lines):
        flt = Filter.load(name)
        assert f"default strength {flt.default_strength:g} " in line
        assert ("in its last run" in line) == bool(flt.metadata.get("init_from"))


def test_filters_list_says_how_to_get_a_filter_where_none_is_bundled(capsys):
    assert main(["filters", "list", "--model", "nothing-here"]) == 0
    assert "faceedit distill train" in capsys.readouterr().out
