import pytest

from faceedit.training.config import PRESETS, TrainingConfig, preset


def test_presets_build_networks_of_their_resolution():
    from faceedit.networks.generator import Generator
    from faceedit.training.discriminator import Discriminator

    for name, config in PRESETS.items():
        G = Generator(**config.generator_kwargs())
        D = Discriminator(**config.discriminator_kwargs())
        assert G.img_resolution == D.img_resolution == config.resolution, name


def test_nvidia_heuristics():
    config = TrainingConfig(resolution=64, batch_size=16)
    assert config.r1_weight == pytest.approx(0.0002 * 64**2 / 16)
    assert config.ema_half_life_kimg == pytest.approx(16 * 10 / 32)
    assert TrainingConfig(r1_gamma=1.5).r1_weight == 1.5
    assert TrainingConfig(ema_kimg=2.0).ema_half_life_kimg == 2.0


def test_round_trip_and_unknown_keys():
    config = preset("tiny")
    assert TrainingConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown training options"):
        TrainingConfig.from_dict({"batchsize": 4})
    with pytest.raises(ValueError, match="unknown preset"):
        preset("huge")


@pytest.mark.parametrize("changes, message", [
    ({"resolution": 48}, "power of two"),
    ({"batch_size": 6}, "multiple of mbstd_group_size"),
    ({"style_mixing_prob": 1.5}, "style_mixing_prob"),
    ({"total_kimg": 0}, "total_kimg"),
    ({"precision": "fp16"}, "precision must be one of fp32, bf16"),
])
def test_invalid_values_are_named(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainingConfig(**changes)
