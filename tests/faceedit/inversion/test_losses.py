import pytest
import torch

from faceedit.inversion.losses import (
    MSSSIMLoss,
    PixelLoss,
    ms_ssim,
    noise_regularization,
    normalize_noise_,
    pixel_loss,
    ssim,
)


def _images(n=2, size=32, seed=0):
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_pixel_losses_per_image():
    a = torch.zeros(2, 3, 4, 4)
    b = torch.stack([torch.zeros(3, 4, 4), torch.full((3, 4, 4), 0.5)])
    assert pixel_loss(a, b).tolist() == [0.0, 0.25]
    assert pixel_loss(a, b, "l1").tolist() == [0.0, 0.5]
    assert torch.equal(PixelLoss("l1")(a, b), pixel_loss(a, b, "l1"))
    with pytest.raises(ValueError, match="'l1' or 'l2'"):
        pixel_loss(a, b, "l3")


@pytest.mark.parametrize("size", [16, 32, 64, 256])
def test_ms_ssim_is_one_for_identical_images_and_falls_with_noise(size):
    a = _images(size=size)
    assert torch.allclose(ms_ssim(a, a), torch.ones(2), atol=1e-5)
    slightly = a + 0.05 * torch.randn_like(a)
    very = a + 0.5 * torch.randn_like(a)
    assert (ms_ssim(a, very) < ms_ssim(a, slightly)).all() and (ms_ssim(a, slightly) < 1).all()
    assert torch.allclose(MSSSIMLoss()(a, a), torch.zeros(2), atol=1e-5)


def test_ssim_matches_scikit_image():
    metrics = pytest.importorskip("skimage.metrics")
    a, b = _images(1, 48, 1), _images(1, 48, 2) * 0.5 + _images(1, 48, 1) * 0.5
    ours = float(ssim(a, b))
    # scikit-image on the same Gaussian window over valid positions, per channel, averaged
    theirs = metrics.structural_similarity(a[0].numpy(), b[0].numpy(), channel_axis=0, data_range=2.0,
                                           gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    assert ours == pytest.approx(theirs, abs=0.02)


def test_ms_ssim_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="one shape"):
        ms_ssim(_images(size=16), _images(size=32))


def test_noise_regularisation_penalises_smooth_noise_and_normalisation():
    white = torch.randn(2, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    smooth = torch.nn.functional.avg_pool2d(white, 5, stride=1, padding=2)
    normalize_noise_([smooth])
    assert torch.allclose(smooth.mean(dim=[1, 2, 3]), torch.zeros(2), atol=1e-5)
    assert torch.allclose(smooth.square().mean(dim=[1, 2, 3]), torch.ones(2), atol=1e-4)
    assert (noise_regularization([smooth]) > 10 * noise_regularization([white])).all()
    with pytest.raises(ValueError, match="at least one"):
        noise_regularization([])


def test_noise_regularisation_of_stacked_maps_is_the_sum_over_maps():
    generator = torch.Generator().manual_seed(0)
    maps = [torch.randn(2, 1, r, r, generator=generator, dtype=torch.float64) for r in (4, 8, 16, 16, 32, 64)]
    separately = sum(noise_regularization([m]) for m in maps)
    assert torch.allclose(noise_regularization(maps), separately, atol=1e-12)


def test_noise_regularisation_module_matches_the_function():
    from faceedit.inversion.losses import NoiseRegularization

    maps = [torch.randn(2, 1, 16, 16, generator=torch.Generator().manual_seed(i)) for i in range(3)]
    torch.testing.assert_close(NoiseRegularization()(*maps), noise_regularization(maps))
