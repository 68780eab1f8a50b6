import pytest
import torch

from faceedit.attributes import AttributeNet, heads_from_factors
from faceedit.errors import CheckpointFormatError
from faceedit.synthfaces import FACTORS


def _small_net(seed=0):
    torch.manual_seed(seed)
    return AttributeNet(heads_from_factors(), widths=(8, 16), feature_dim=16, input_resolution=32).eval()


def test_predict_gives_every_factor_in_its_units():
    net = _small_net()
    predictions = net.predict(torch.rand(5, 3, 64, 64) * 2 - 1)  # resized to 32 on the way in
    for factor in FACTORS:
        value = predictions[factor.name]
        if factor.kind == "categorical":
            assert value.shape == (5, len(factor.classes))
            assert torch.allclose(value.sum(dim=1), torch.ones(5))
        else:
            assert value.shape == (5,)
            assert (value >= factor.low).all() and (value <= factor.high).all()
    assert net.features(torch.zeros(3, 3, 32, 32)).shape == (3, 16)


def test_losses_are_finite_for_every_kind():
    from faceedit.synthfaces import render_batch

    net = _small_net().train()
    images, labels = render_batch(4, seed=0, resolution=32)
    losses = net.loss(net(images), labels)
    assert set(losses) == {f.name for f in FACTORS}
    assert all(torch.isfinite(v) for v in losses.values())


def test_save_and_load_round_trip(tmp_path):
    net = _small_net()
    net.save_pretrained(tmp_path / "clf", metadata={"role": "test"})
    loaded = AttributeNet.from_pretrained(tmp_path / "clf")
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    assert torch.equal(net(x)["age"], loaded(x)["age"])
    assert loaded.metadata == {"role": "test"}


def test_tampered_weights_are_refused(tmp_path):
    _small_net().save_pretrained(tmp_path / "clf")
    weights = tmp_path / "clf" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(CheckpointFormatError, match="SHA-256"):
        AttributeNet.from_pretrained(tmp_path / "clf")


def test_bad_images_are_named():
    with pytest.raises(ValueError, match=r"\[N, 3, H, W\]"):
        _small_net().predict(torch.zeros(2, 1, 32, 32))
