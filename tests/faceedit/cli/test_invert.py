import json

import numpy as np
import pytest
from PIL import Image

from faceedit.cli.main import main
from tests.conftest import tiny_generator


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    skimage_data = pytest.importorskip("skimage.data")
    pytest.importorskip("dlib")
    path = tmp_path_factory.mktemp("photo") / "astronaut.png"
    Image.fromarray(skimage_data.astronaut()).save(path)
    return path


def test_invert_writes_crop_reconstruction_latent_and_video(photo, tmp_path, capsys):
    tiny_generator(seed=0).save_pretrained(tmp_path / "G")
    out = tmp_path / "inv"
    assert main(["invert", str(photo), "--model", str(tmp_path / "G"), "--method", "w+", "--steps", "12",
                 "--out", str(out), "--video", "--no-progress"]) == 0
    for name in ("aligned.png", "reconstruction.png", "latent.json", "latent.safetensors", "projection.gif"):
        assert (out / name).is_file(), name
    assert json.loads((out / "latent.json").read_text())["method"] == "w+"
    assert "PSNR" in capsys.readouterr().out


def test_pti_writes_its_delta_and_loads_back(photo, tmp_path):
    from faceedit.inversion.api import load_inversion
    from faceedit.loading.api import load_generator

    tiny_generator(seed=0).save_pretrained(tmp_path / "G")
    assert main(["invert", str(photo), "--model", str(tmp_path / "G"), "--method", "pti", "--steps", "5",
                 "--pti-steps", "5", "--out", str(tmp_path / "inv"), "--no-progress"]) == 0
    assert (tmp_path / "inv" / "latent-delta.safetensors").is_file()
    inversion = load_inversion(tmp_path / "inv" / "latent.json", load_generator(str(tmp_path / "G")))
    assert inversion.delta is not None and inversion.method == "pti"


def test_edit_changes_the_face_and_keeps_the_rest_of_the_photo(photo, tmp_path, capsys):
    original = np.asarray(Image.open(photo).convert("RGB")).astype(int)
    edited = {}
    for age in ("-3", "3"):
        out = tmp_path / f"edited{age}.png"
        assert main(["edit", str(photo), "--model", "synthfaces-64", f"--age={age}", "--method", "w+", "--steps",
                     "10", "--out", str(out), "--no-progress"]) == 0
        edited[age] = np.asarray(Image.open(out).convert("RGB")).astype(int)
        assert edited[age].shape == original.shape
        assert np.abs(edited[age][60:160, 180:280] - original[60:160, 180:280]).mean() > 5  # the face is replaced
        assert (edited[age][400:, :100] == original[400:, :100]).all()  # far from the face: untouched
    face = np.abs(edited["3"][60:160, 180:280] - edited["-3"][60:160, 180:280]).mean()
    assert face > 5  # the age edit itself shows in the pasted face (15 on 2026-11-21)
    assert "age-orth-gender +3" in capsys.readouterr().out


def test_edit_errors_are_clear(photo, tmp_path, capsys):
    assert main(["edit", str(photo), "--out", str(tmp_path / "e.png")]) == 2
    assert "nothing to edit" in capsys.readouterr().err
    assert main(["edit", str(photo), "--edit", "smile", "--out", str(tmp_path / "e.png")]) == 2
    assert "write NAME=ALPHA" in capsys.readouterr().err
    blank = tmp_path / "blank.png"
    Image.new("RGB", (120, 100), (128, 128, 128)).save(blank)
    assert main(["edit", str(blank), "--smile", "1", "--out", str(tmp_path / "e.png"), "--no-progress"]) == 2
    assert "no face found" in capsys.readouterr().err
    assert main(["invert", str(tmp_path / "missing.jpg"), "--out", str(tmp_path / "x")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_the_same_photo_and_seed_write_the_same_bytes(photo, tmp_path):
    tiny_generator(seed=0).save_pretrained(tmp_path / "G")
    for run in ("a", "b"):
        assert main(["invert", str(photo), "--model", str(tmp_path / "G"), "--method", "pti", "--steps", "4",
                     "--pti-steps", "3", "--seed", "5", "--out", str(tmp_path / run), "--no-progress"]) == 0
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert "latent-delta.safetensors" in names and names == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_a_face_number_the_photo_lacks_is_a_clear_error(photo, tmp_path, capsys):
    assert main(["invert", str(photo), "--face", "9", "--method", "encoder", "--out", str(tmp_path / "x"),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "face 9 asked for" in err and "numbered 0 (largest)" in err and "Traceback" not in err
    assert main(["invert", str(photo), "--face", "1", "--all-faces", "--out", str(tmp_path / "x")]) == 2
    assert "pass one of them" in capsys.readouterr().err


def test_all_faces_are_inverted_and_edited(tmp_path, capsys):
    skimage_data = pytest.importorskip("skimage.data")
    pytest.importorskip("dlib")
    one = skimage_data.astronaut()[:300, 60:360]  # the face alone
    pair = np.concatenate([one, one[:, ::-1]], axis=1)  # two faces side by side
    Image.fromarray(pair).save(tmp_path / "pair.png")
    assert main(["invert", str(tmp_path / "pair.png"), "--all-faces", "--method", "encoder", "--out",
                 str(tmp_path / "inv"), "--no-progress"]) == 0
    assert sorted(p.name for p in (tmp_path / "inv").iterdir()) == ["face-0", "face-1"]
    assert (tmp_path / "inv" / "face-1" / "latent.safetensors").is_file()
    out = tmp_path / "older.png"
    assert main(["edit", str(tmp_path / "pair.png"), "--all-faces", "--age", "3", "--method", "encoder", "--out",
                 str(out), "--no-progress"]) == 0
    changed = np.abs(np.asarray(Image.open(out)).astype(int) - pair).sum(axis=(0, 2))  # per column
    assert changed[:300].sum() > 0 and changed[300:].sum() > 0
    assert "on 2 face(s)" in capsys.readouterr().out


def test_train_encoder_resumes_and_writes_the_encoder(tmp_path, capsys):
    from faceedit.inversion.encoder import LatentEncoder

    tiny_generator(seed=0).save_pretrained(tmp_path / "G")
    common = ["train-encoder", "--model", str(tmp_path / "G"), "--run-dir", str(tmp_path / "run"), "--out",
              str(tmp_path / "enc"), "--steps", "4", "--batch-size", "4", "--image-weight", "0", "--no-progress"]
    assert main(common + ["--max-minutes", "0"]) == 0
    assert "run the same command to resume" in capsys.readouterr().out and not (tmp_path / "enc").exists()
    assert main(common + ["--dtype", "float16"]) == 0
    encoder = LatentEncoder.from_pretrained(tmp_path / "enc")
    assert encoder.metadata["training_steps"] == 4
