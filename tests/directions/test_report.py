import json

import numpy as np
import pytest

from directions.classifiers import CallableClassifier
from directions.evaluation import EditSweep
from directions.io import Direction
from directions.report import edit_strips, response_curves, summarize_sweeps, write_direction_report
from tests.conftest import tiny_generator


def _direction(G, vector, attribute="red", **kwargs):
    return Direction(vector=vector / np.linalg.norm(vector), attribute=attribute, generator_name="tiny",
                     generator_fingerprint=G.fingerprint(), projection_std=1.0, **kwargs)


def _judge():
    return CallableClassifier(lambda x: {"red": x[:, 0].mean(dim=[1, 2]), "green": x[:, 1].mean(dim=[1, 2]),
                                         "bg=blue": x[:, 2].mean(dim=[1, 2])}, name="colour", device="cpu")


def test_summary_separates_slope_of_the_mean_from_per_face_change():
    alphas = np.array([-1.0, 0.0, 1.0])
    up_and_down = np.array([[0, 1], [0, 0], [1, 0]], dtype=float)  # face 0 rises, face 1 falls: mean is flat
    rising = np.array([[0, 0], [1, 1], [2, 2]], dtype=float)
    sweep = EditSweep(alphas=alphas, scores={"red": rising, "green": up_and_down, "bg=blue": np.zeros((3, 2))},
                      outside_change=np.array([[0.2, 0.2], [0, 0], [0.1, 0.3]]))
    G = tiny_generator()
    summary = summarize_sweeps({"r": _direction(G, np.ones(G.w_dim))}, {"r": sweep})["r"]
    assert summary["monotonic_fraction"] == 1.0 and summary["effect_per_unit"]["red"] == pytest.approx(1.0)
    assert summary["effect_per_unit"]["green"] == pytest.approx(0.0) and summary["mean_abs_change"]["green"] == 1.0
    assert "bg=blue" not in summary["effect_per_unit"]  # class scores are left out of the scalar summary
    assert summary["outside_face_change"] == pytest.approx(0.25)
    assert response_curves(sweep, target="red").shape[2] == 3


def test_report_files_and_strip_layout(tmp_path):
    G = tiny_generator(seed=0)
    rng = np.random.RandomState(0)
    directions = {"a": _direction(G, rng.randn(G.w_dim)), "b": _direction(G, rng.randn(G.w_dim), "green")}
    report = write_direction_report(tmp_path, G, directions, _judge(), n=3, alphas=[-1, 0, 1], strip_seeds=[0, 1],
                                    extra={"model": "tiny"}, progress=False)
    assert json.loads((tmp_path / "report.json").read_text()) == report
    assert report["model"] == "tiny" and set(report["directions"]) == {"a", "b"}
    for name in ("entanglement.png", "curves-a.png", "curves-b.png", "strips.png"):
        assert (tmp_path / name).stat().st_size > 0
    strips = edit_strips(G, directions, seeds=[0, 1], alphas=[-1, 0, 1], zoom=2)
    res = 2 * G.img_resolution
    assert strips.shape[0] == 18 + 16 + 4 * (res + 4)  # header, alphas, 2 seeds x 2 directions rows of images


def test_report_refuses_a_direction_of_another_generator(tmp_path):
    G, other = tiny_generator(seed=0), tiny_generator(seed=1)
    from faceedit.errors import ModelMismatchError

    with pytest.raises(ModelMismatchError):
        write_direction_report(tmp_path, G, {"a": _direction(other, np.ones(G.w_dim))}, _judge(), n=2,
                               alphas=[0, 1], progress=False)
