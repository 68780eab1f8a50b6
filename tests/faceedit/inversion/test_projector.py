import numpy as np
import pytest
import torch

from faceedit.inversion.projector import Projector, w_statistics
from faceedit.utils.metrics import psnr
from tests.conftest import tiny_generator


@pytest.fixture(scope="module")
def G():
    return tiny_generator(seed=3)


def _target(G, seed=0, n=2):
    with torch.no_grad():
        w = G.mapping(torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(seed)), None)
        return G.synthesis(w, noise_mode="const"), w


@pytest.mark.parametrize("space", ["w", "w+"])
def test_projection_reconstructs_generator_samples(G, space):
    target, _ = _target(G)
    result = Projector(space=space, steps=150, w_avg_samples=500, early_stop_patience=None).project(
        G, target, progress=False)
    assert result.ws.shape == (2, G.num_ws, G.w_dim) and result.images.shape == target.shape
    assert result.losses.shape == (150, 2) and result.steps == 150
    assert (result.losses[-10:].mean(0) < result.losses[:10].mean(0) / 3).all()
    with torch.no_grad():  # where it started: the mean latent
        w_avg, _ = w_statistics(G, samples=500)
        start = G.synthesis(w_avg.expand(2, G.num_ws, -1), noise_mode="const")
    assert (psnr(result.images, target) > psnr(start, target) + 5).all()
    if space == "w":
        assert torch.equal(result.ws[:, 0], result.ws[:, -1])  # one latent for every layer


def test_same_seed_same_result_and_batch_independence(G):
    target, _ = _target(G, n=3)
    kwargs = dict(steps=20, w_avg_samples=200, early_stop_patience=None, seed=5)
    a = Projector(**kwargs).project(G, target, progress=False)
    b = Projector(**kwargs).project(G, target, progress=False)
    assert torch.equal(a.ws, b.ws) and torch.equal(a.images, b.images)
    np.testing.assert_array_equal(a.losses, b.losses)


def test_early_stopping_and_frames(G):
    target, w = _target(G, n=1)
    result = Projector(space="w", steps=400, w_avg_samples=200, lr=0.0, optimize_noise=False,
                       early_stop_patience=10, frame_every=5).project(G, target, w_init=w[:, 0], progress=False)
    assert result.steps < 400  # nothing can improve with lr 0: it stops after the patience runs out
    assert result.noise == {}
    assert len(result.frames) >= 2 and result.frames[0].shape == (2 * G.img_resolution, G.img_resolution, 3)


def test_start_from_a_given_latent(G):
    target, w = _target(G, n=2)
    result = Projector(space="w+", steps=1, lr=0.0, w_avg_samples=100, optimize_noise=False,
                       early_stop_patience=None).project(G, target, w_init=w, progress=False)
    torch.testing.assert_close(result.ws, w)
    torch.testing.assert_close(result.images, target)


def test_w_statistics_are_seeded(G):
    a, spread = w_statistics(G, samples=300, seed=1)
    b, _ = w_statistics(G, samples=300, seed=1)
    assert torch.equal(a, b) and a.shape == (G.w_dim,) and spread > 0


def test_bad_arguments_are_named(G):
    with pytest.raises(ValueError, match="space"):
        Projector(space="z")
    with pytest.raises(ValueError, match="steps"):
        Projector(steps=0)
    with pytest.raises(ValueError, match="at the generator's resolution"):
        Projector(steps=1).project(G, torch.zeros(1, 3, 8, 8), progress=False)
    with pytest.raises(ValueError, match="w_init"):
        Projector(steps=1, w_avg_samples=10).project(G, _target(G)[0], w_init=torch.zeros(2, 5), progress=False)
