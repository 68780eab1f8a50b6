import pytest
import torch

from faceedit.inversion.encoder import LatentEncoder, encode_images, train_encoder
from tests.conftest import tiny_generator


@pytest.fixture(scope="module")
def G():
    return tiny_generator(seed=2)


def test_encoder_shapes_and_starts_at_the_mean_latent(G):
    w_avg = torch.randn(G.w_dim)
    encoder = LatentEncoder(G.img_resolution, G.num_ws, G.w_dim, w_avg=w_avg, channel_base=256, channel_max=16)
    out = encoder(torch.rand(3, 3, G.img_resolution, G.img_resolution))
    assert out.shape == (3, G.num_ws, G.w_dim)
    torch.testing.assert_close(out, w_avg.expand_as(out))  # the last layer starts at zero
    with pytest.raises(ValueError, match="power of two"):
        LatentEncoder(48, 4, 8)


def test_training_lowers_the_latent_error_and_resumes_exactly(G, tmp_path):
    kwargs = dict(batch_size=8, lr=1e-2, image_weight=0.0, checkpoint_every=25,
                  encoder_kwargs=dict(channel_base=256, channel_max=16), progress=False)
    with torch.no_grad():
        ws = G.mapping(torch.randn(32, G.z_dim, generator=torch.Generator().manual_seed(9)), None)
        images = G.synthesis(ws, noise_mode="const")
    untrained = LatentEncoder(G.img_resolution, G.num_ws, G.w_dim, w_avg=ws.mean(dim=(0, 1)),
                              channel_base=256, channel_max=16)
    before = (encode_images(untrained, images) - ws).square().mean()
    full = train_encoder(G, tmp_path / "full", steps=100, **kwargs)
    after = (encode_images(full, images) - ws).square().mean()
    assert after < 0.75 * before
    train_encoder(G, tmp_path / "split", steps=100, max_steps=50, **kwargs)  # interrupted half-way
    resumed = train_encoder(G, tmp_path / "split", steps=100, **kwargs)
    for (name, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    assert resumed.metadata["training_steps"] == 100


def test_save_load_round_trip_and_settings_guard(G, tmp_path):
    encoder = train_encoder(G, tmp_path / "run", steps=2, batch_size=4, checkpoint_every=1, image_weight=0.0,
                            encoder_kwargs=dict(channel_base=256, channel_max=16), progress=False)
    encoder.save_pretrained(tmp_path / "enc", dtype=torch.float16)
    loaded = LatentEncoder.from_pretrained(tmp_path / "enc")
    x = torch.rand(2, 3, G.img_resolution, G.img_resolution) * 2 - 1
    torch.testing.assert_close(loaded(x), encoder(x), atol=0.05, rtol=0.01)
    assert (tmp_path / "run" / "checkpoints").is_dir()
    with pytest.raises(ValueError, match="other settings"):
        train_encoder(G, tmp_path / "run", steps=3, batch_size=8, image_weight=0.0,
                      encoder_kwargs=dict(channel_base=256, channel_max=16), progress=False)


def test_an_encoder_refuses_a_generator_it_was_not_trained_for(G, tmp_path):
    from faceedit.errors import ModelMismatchError
    from faceedit.inversion.api import invert

    encoder = train_encoder(G, tmp_path / "run", steps=1, batch_size=2, image_weight=0.0,
                            encoder_kwargs=dict(channel_base=256, channel_max=16), progress=False)
    encoder.check_generator(G)  # the generator it was trained for
    other = tiny_generator(seed=3)  # same shapes, other weights
    image = torch.zeros(1, 3, G.img_resolution, G.img_resolution)
    with pytest.raises(ModelMismatchError, match="other generator weights"):
        invert(other, image, method="encoder", encoder=encoder, progress=False)
    wider = LatentEncoder(G.img_resolution, G.num_ws + 1, G.w_dim, channel_base=256, channel_max=16)
    with pytest.raises(ModelMismatchError, match="train one for it"):
        wider.check_generator(G)


def test_an_encoder_of_the_old_format_asks_to_be_trained_again(G, tmp_path):
    import json

    from faceedit.errors import CheckpointFormatError

    encoder = LatentEncoder(G.img_resolution, G.num_ws, G.w_dim, channel_base=256, channel_max=16)
    folder = encoder.save_pretrained(tmp_path / "enc")
    config = json.loads((folder / "config.json").read_text())
    config["format_version"] = 1
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointFormatError, match="train it again"):
        LatentEncoder.from_pretrained(folder)


def test_synthfaces_64_ships_an_encoder_trained_for_its_bundled_weights():
    import faceedit
    from faceedit.inversion.api import load_encoder_for
    from faceedit.utils.metrics import psnr

    G = faceedit.load_generator("synthfaces-64")
    encoder = load_encoder_for("synthfaces-64")
    assert encoder is not None
    encoder.check_generator(G)  # fails when the generator was re-exported without retraining the encoder
    with torch.no_grad():
        ws = G.mapping(torch.randn(8, G.z_dim, generator=torch.Generator().manual_seed(0)), None)
        images = G.synthesis(ws, noise_mode="const")
        again = G.synthesis(encoder(images), noise_mode="const")
        mean = G.synthesis(encoder.w_avg.expand_as(ws), noise_mode="const")
    assert psnr(again, images).mean() > psnr(mean, images).mean() + 5  # far closer than the average face
    assert load_encoder_for("no-such-model") is None


def test_head_channels_shrink_the_dense_layers_and_survive_a_round_trip(G, tmp_path):
    full = LatentEncoder(G.img_resolution, G.num_ws, G.w_dim, channel_base=256, channel_max=16)
    small = LatentEncoder(G.img_resolution, G.num_ws, G.w_dim, channel_base=256, channel_max=16, head_channels=4)
    assert small.hidden.in_features == 4 * 16 < full.hidden.in_features
    assert "head_channels" not in full.config() and small.config()["head_channels"] == 4
    with torch.no_grad():
        small.out.weight.normal_(0, 0.1)
    small.save_pretrained(tmp_path / "enc")
    loaded = LatentEncoder.from_pretrained(tmp_path / "enc")
    images = torch.rand(2, 3, G.img_resolution, G.img_resolution) * 2 - 1
    torch.testing.assert_close(loaded(images), small(images))
