import json

import torch

from faceedit.cli.main import main
from tests.conftest import tiny_generator


def _setup(tmp_path):
    from faceedit.attributes import AttributeNet, heads_from_factors

    G = tiny_generator(seed=0)
    G.save_pretrained(tmp_path / "G")
    torch.manual_seed(0)
    net = AttributeNet(heads_from_factors(), widths=(8, 8), feature_dim=8, input_resolution=16)
    with torch.no_grad():  # random scores around the middle of each range, not clamped at its ends
        net.out.bias.fill_(0.5)
        net.out.weight.mul_(0.2)
    net.save_pretrained(tmp_path / "clf")
    return str(tmp_path / "G"), str(tmp_path / "clf")


def test_fit_eval_explore_end_to_end(tmp_path, capsys):
    model, clf = _setup(tmp_path)
    out = tmp_path / "dirs"
    assert main(["directions", "fit", "--model", model, "--classifier", clf, "--attribute", "age", "--method",
                 "logistic", "--conditional-on", "gender", "--n", "120", "--out", str(out), "--no-progress"]) == 0
    assert {p.name for p in out.glob("*.json")} == {"age.json", "gender.json", "age-orth-gender.json"}
    assert "samples" in capsys.readouterr().out
    assert main(["directions", "eval", str(out / "age.json"), str(out / "age-orth-gender.json"), "--model", model,
                 "--judge", clf, "--n", "4", "--alphas=-1,0,1", "--out", str(tmp_path / "eval"),
                 "--no-progress"]) == 0
    report = json.loads((tmp_path / "eval" / "report.json").read_text())["directions"]
    assert 0 <= report["age"]["monotonic_fraction"] <= 1 and "gender" in report["age-orth-gender"]["effect_per_unit"]
    for name in ("entanglement.png", "strips.png", "curves-age.png", "curves-age-orth-gender.png"):
        assert (tmp_path / "eval" / name).is_file()
    assert "age-orth-gender: monotonic" in capsys.readouterr().out
    assert main(["directions", "explore", "--model", model, "--method", "sefa", "--k", "2", "--seeds", "0",
                 "--out", str(tmp_path / "explore")]) == 0
    assert (tmp_path / "explore" / "sefa.png").is_file()


def test_eval_refuses_a_direction_from_another_generator(tmp_path, capsys):
    model, clf = _setup(tmp_path)
    out = tmp_path / "dirs"
    assert main(["directions", "fit", "--model", model, "--classifier", clf, "--attribute", "age", "--method",
                 "logistic", "--n", "60", "--out", str(out), "--no-progress"]) == 0
    tiny_generator(seed=1).save_pretrained(tmp_path / "G2")
    assert main(["directions", "eval", str(out / "age.json"), "--model", str(tmp_path / "G2"), "--judge", clf,
                 "--out", str(tmp_path / "e"), "--n", "2", "--no-progress"]) == 2
    assert "not on this generator" in capsys.readouterr().err
    assert main(["directions", "fit", "--model", model, "--classifier", "oracle", "--out", str(out)]) == 2
    assert "unknown classifier" in capsys.readouterr().err
    assert main(["directions", "eval", "no-such-direction", "--model", model, "--judge", clf,
                 "--out", str(tmp_path / "e"), "--n", "2", "--no-progress"]) == 2
    assert "neither a direction file" in capsys.readouterr().err


def test_list_names_the_bundled_directions(capsys):
    from directions.bundled import bundled_directions

    assert main(["directions", "list", "--model", "synthfaces-64"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in bundled_directions("synthfaces-64"))
    assert main(["directions", "list", "--model", "nothing-here"]) == 0
    assert "no directions are bundled" in capsys.readouterr().out


def test_choose_layers_reports_a_direction_its_classifier_does_not_confirm(tmp_path, capsys):
    # The random test classifier barely responds to any edit, so the choice refuses cleanly (the choice
    # itself: tests/directions/test_layers.py); nothing half-written is left behind.
    model, clf = _setup(tmp_path)
    out = tmp_path / "dirs"
    assert main(["directions", "fit", "--model", model, "--classifier", clf, "--attribute", "age", "--n", "120",
                 "--choose-layers", "0.9", "--out", str(out), "--no-progress"]) == 2
    assert "does not raise age by the classifier" in capsys.readouterr().err
    assert not list(out.glob("*.json"))


def test_choose_layers_writes_directions_on_chosen_rows(tmp_path, capsys):
    out = tmp_path / "dirs"
    assert main(["directions", "fit", "--model", "synthfaces-64", "--classifier", "synthfaces-labeler",
                 "--attribute", "age", "--n", "400", "--choose-layers", "0.4", "--choose-layers-faces", "12",
                 "--out", str(out), "--no-progress"]) == 0
    meta = json.loads((out / "age.json").read_text())
    first, end = meta["layers"]
    assert 0 <= first < end == 10 and meta["layer_gain"] >= 1.0  # the unit grows with fewer rows
    assert f"W+ rows {first}-9" in capsys.readouterr().out
    assert main(["directions", "fit", "--model", "synthfaces-64", "--attribute", "age", "--n", "400",
                 "--choose-layers", "0.4", "--choose-layers-faces", "1", "--out", str(out), "--no-progress"]) == 2
    assert "at least 2 faces" in capsys.readouterr().err
