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


def test_projects_inside_a_callers_no_grad(G):
    target, _ = _target(G, n=1)
    kwargs = dict(steps=5, w_avg_samples=200, early_stop_patience=None)
    free = Projector(**kwargs).project(G, target, progress=False)
    with torch.no_grad():
        inside = Projector(**kwargs).project(G, target, progress=False)
        assert not torch.is_grad_enabled()  # the caller's setting is back afterwards
    assert torch.equal(inside.ws, free.ws)


def test_same_seed_same_result(G):
    target, _ = _target(G, n=3)
    kwargs = dict(steps=20, w_avg_samples=200, early_stop_patience=None, seed=5)
    a = Projector(**kwargs).project(G, target, progress=False)
    b = Projector(**kwargs).project(G, target, progress=False)
    assert torch.equal(a.ws, b.ws) and torch.equal(a.images, b.images)
    np.testing.assert_array_equal(a.losses, b.losses)


def test_images_in_a_batch_do_not_affect_each_other(G):
    first, _ = _target(G, seed=1, n=1)
    others = [_target(G, seed=seed, n=1)[0] for seed in (2, 3)]
    kwargs = dict(steps=15, w_avg_samples=200, early_stop_patience=None, seed=5)
    a = Projector(**kwargs).project(G, torch.cat([first, others[0]]), progress=False)
    b = Projector(**kwargs).project(G, torch.cat([first, others[1]]), progress=False)
    torch.testing.assert_close(a.ws[0], b.ws[0], rtol=1e-5, atol=1e-6)  # its neighbour changed, it did not
    torch.testing.assert_close(a.images[0], b.images[0], rtol=1e-4, atol=1e-5)
    assert not torch.allclose(a.ws[1], b.ws[1])


def test_learning_rate_warms_up_holds_and_ramps_down_by_cosine():
    projector = Projector(steps=100, lr=0.2, lr_rampup=0.05, lr_rampdown=0.25)
    rates = [projector.learning_rate(step) for step in range(100)]
    assert rates[0] == 0.0 and rates[1] < rates[4] < 0.2  # warm-up over the first 5 steps
    assert rates[10] == rates[70] == pytest.approx(0.2)  # flat
    assert all(a >= b for a, b in zip(rates[75:], rates[76:])) and rates[99] < 0.002  # down to ~0
    assert rates[88] == pytest.approx(0.2 * (0.5 - 0.5 * np.cos(0.48 * np.pi)))  # the cosine


def test_a_perceptual_distance_joins_the_loss(G):
    target, _ = _target(G, n=2)
    calls = []

    def blurred_distance(a, b):  # a stand-in for LPIPS: [N] from two [N, C, H, W] batches
        calls.append(a.shape[0])
        return (torch.nn.functional.avg_pool2d(a - b, 4)).square().mean(dim=(1, 2, 3)) * 100

    kwargs = dict(steps=6, w_avg_samples=200, early_stop_patience=None)
    plain = Projector(**kwargs).project(G, target, progress=False)
    with_it = Projector(perceptual=blurred_distance, perceptual_weight=1.0, **kwargs).project(G, target, progress=False)
    assert calls == [2] * 6
    assert (with_it.losses[0] > plain.losses[0]).all()  # the distance is part of the reported loss
    assert not torch.equal(with_it.ws, plain.ws)


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
