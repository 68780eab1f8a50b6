import numpy as np
import pytest
import torch

from directions.classifiers import CallableClassifier
from directions.evaluation import (
    EditSweep,
    SweepSetting,
    edit_sweep,
    edit_sweeps,
    effect_per_unit,
    entanglement_matrix,
    face_mask,
    monotonic_fraction,
)
from tests.conftest import tiny_generator


def _judge():
    return CallableClassifier(lambda x: {"red": x[:, 0].mean(dim=[1, 2]), "green": x[:, 1].mean(dim=[1, 2])},
                              name="colour", device="cpu")


def test_sweep_scores_every_face_at_every_strength():
    G = tiny_generator(seed=0)
    d = np.random.RandomState(0).randn(G.w_dim)
    sweep = edit_sweep(G, d / np.linalg.norm(d), _judge(), n=6, alphas=[-1, 0, 1], batch_size=4, progress=False)
    assert sweep.scores["red"].shape == (3, 6) and sweep.outside_change.shape == (3, 6)
    assert np.all(sweep.outside_change[1] == 0) and np.all(sweep.outside_change[[0, 2]] > 0)


def test_several_settings_match_separate_sweeps_and_render_each_unedited_face_once():
    G = tiny_generator(seed=0)
    d = np.random.RandomState(0).randn(G.w_dim)
    d /= np.linalg.norm(d)
    settings = [SweepSetting((0, 2.0), 1.5, (2, G.num_ws)), SweepSetting((-1, 0, 1), 1.0, None)]
    renders = []
    synthesis = G.synthesis.forward
    G.synthesis.forward = lambda ws, **kw: renders.append(len(ws)) or synthesis(ws, **kw)
    try:
        together = edit_sweeps(G, d, _judge(), settings, n=5, batch_size=3, progress=False)
    finally:
        del G.synthesis.forward
    assert sum(renders) == 5 * (1 + 1 + 2)  # unedited once, then each nonzero strength
    for setting, sweep in zip(settings, together):
        alone = edit_sweep(G, d, _judge(), n=5, alphas=setting.alphas, scale=setting.scale, layers=setting.layers,
                           batch_size=3, progress=False)
        np.testing.assert_array_equal(sweep.outside_change, alone.outside_change)
        for name in alone.scores:
            np.testing.assert_array_equal(sweep.scores[name], alone.scores[name])


def test_zero_direction_changes_nothing():
    G = tiny_generator(seed=0)
    sweep = edit_sweep(G, np.zeros(G.w_dim), _judge(), n=3, alphas=[-2, 0, 2], progress=False)
    assert monotonic_fraction(sweep, "red") == 1.0 and effect_per_unit(sweep, "red") == pytest.approx(0, abs=1e-6)
    with pytest.raises(ValueError, match="include 0"):
        edit_sweep(G, np.zeros(G.w_dim), _judge(), n=3, alphas=[1, 2], progress=False)


def test_metrics_on_a_known_sweep():
    alphas = np.array([0.0, 1.0, 2.0])
    rising = np.array([[0, 0], [1, 2], [2, 1]], dtype=float)  # face 0 rises steadily, face 1 dips
    sweep = EditSweep(alphas=alphas, scores={"age": rising, "gender": np.zeros((3, 2))},
                      outside_change=np.zeros((3, 2)))
    assert monotonic_fraction(sweep, "age") == 0.5
    assert monotonic_fraction(sweep, "age", tolerance=1.0) == 1.0
    assert effect_per_unit(sweep, "age") == pytest.approx(0.75)
    matrix = entanglement_matrix({"age": sweep}, ["age", "gender"])
    np.testing.assert_allclose(matrix, [[0.75, 0.0]], atol=1e-12)


def test_face_mask_is_a_central_ellipse():
    mask = face_mask(64)
    assert mask.shape == (64, 64) and mask[30, 32] == 1 and mask[0, 0] == 0
    assert 0.2 < float(mask.mean()) < 0.35
    assert torch.equal(mask, mask.flip(1))
