import pytest
import torch

from faceedit.errors import CheckpointFormatError, ModelMismatchError
from faceedit.inversion.pti import GeneratorDelta, PivotalTuner, tunable_layers
from tests.conftest import tiny_generator


@pytest.fixture(scope="module")
def G():
    return tiny_generator(seed=4)


def _case(G):
    with torch.no_grad():
        ws = G.mapping(torch.randn(2, G.z_dim, generator=torch.Generator().manual_seed(1)), None)
        target = G.synthesis(ws[1:], noise_mode="const")  # one image the pivot (another latent) does not make
    return target, ws[:1]


def test_tuning_fits_the_target_without_changing_the_generator(G):
    target, pivot = _case(G)
    before_weights = {k: v.clone() for k, v in G.state_dict().items()}
    with torch.no_grad():
        start = (G.synthesis(pivot, noise_mode="const") - target).square().mean()
    delta = PivotalTuner(steps=80, locality_weight=0.0).tune(G, target, pivot, progress=False)
    with torch.no_grad():
        tuned = (delta.synthesis(G, pivot, noise_mode="const") - target).square().mean()
    assert tuned < 0.3 * start
    for k, v in G.state_dict().items():
        assert torch.equal(v, before_weights[k]), k
    assert set(delta.down) == set(tunable_layers(G)) and delta.num_values() < sum(p.numel() for p in G.parameters())


def test_untuned_delta_is_the_original_generator(G):
    target, pivot = _case(G)
    delta = PivotalTuner(steps=1, lr=0.0, locality_weight=0.0).tune(G, target, pivot, progress=False)
    with torch.no_grad():
        tuned = delta.synthesis(G, pivot, noise_mode="const")
        torch.testing.assert_close(tuned, G.synthesis(pivot, noise_mode="const"))


def test_locality_keeps_other_latents_closer_to_the_original(G):
    target, pivot = _case(G)
    free = PivotalTuner(steps=60, locality_weight=0.0, seed=0).tune(G, target, pivot, progress=False)
    local = PivotalTuner(steps=60, locality_weight=1.0, seed=0).tune(G, target, pivot, progress=False)
    with torch.no_grad():
        others = G.mapping(torch.randn(8, G.z_dim, generator=torch.Generator().manual_seed(7)), None)
        original = G.synthesis(others, noise_mode="const")
        drift_free = (free.synthesis(G, others, noise_mode="const") - original).square().mean()
        drift_local = (local.synthesis(G, others, noise_mode="const") - original).square().mean()
    assert drift_local < drift_free


def test_save_load_and_generator_check(G, tmp_path):
    target, pivot = _case(G)
    delta = PivotalTuner(steps=5).tune(G, target, pivot, progress=False)
    meta = delta.save(tmp_path / "photo")
    loaded = GeneratorDelta.load(tmp_path / "photo", generator=G)
    with torch.no_grad():
        torch.testing.assert_close(loaded.synthesis(G, pivot), delta.synthesis(G, pivot))
    assert meta.name == "photo.json" and loaded.extra["steps"] == 5
    with pytest.raises(ModelMismatchError, match="tune again"):
        GeneratorDelta.load(tmp_path / "photo", generator=tiny_generator(seed=5))
    with pytest.raises(CheckpointFormatError, match="missing"):
        GeneratorDelta.load(tmp_path / "nothing")


def test_one_image_at_a_time(G):
    target, pivot = _case(G)
    with pytest.raises(ValueError, match="one image at a time"):
        PivotalTuner(steps=1).tune(G, target.repeat(2, 1, 1, 1), pivot.repeat(2, 1, 1), progress=False)
    with pytest.raises(ValueError, match="rank"):
        PivotalTuner(rank=0)


def test_the_perceptual_distance_guides_tuning(G):
    target, pivot = _case(G)
    calls = []

    def distance(a, b):
        calls.append(tuple(a.shape))
        return (a - b).abs().mean(dim=(1, 2, 3)) * 10

    plain = PivotalTuner(steps=4, locality_weight=0.0).tune(G, target, pivot, progress=False)
    guided = PivotalTuner(steps=4, locality_weight=0.0, perceptual=distance).tune(G, target, pivot, progress=False)
    assert calls == [tuple(target.shape)] * 4
    assert any(not torch.equal(guided.up[k], plain.up[k]) for k in plain.up)


def test_a_delta_on_disk_is_a_small_fraction_of_the_generator(tmp_path):
    import faceedit

    G = faceedit.load_generator("synthfaces-64", device="cpu")
    delta = GeneratorDelta.identity(G, rank=8, generator=torch.Generator().manual_seed(0))
    delta.save(tmp_path / "delta")
    G.save_pretrained(tmp_path / "G", dtype=torch.float32)
    delta_bytes = sum(p.stat().st_size for p in tmp_path.glob("delta*"))
    generator_bytes = sum(p.stat().st_size for p in (tmp_path / "G").iterdir())
    assert delta_bytes < generator_bytes / 8  # 184 KiB against 1.8 MiB (BENCHMARKS.md)
    loaded = GeneratorDelta.load(tmp_path / "delta", generator=G)
    assert loaded.num_values() == delta.num_values() and loaded.rank == 8
