import numpy as np
import pytest
import torch

from faceedit.loading.nvidia_pickle import _plain, read_network_pickle
from faceedit.training.discriminator import Discriminator, minibatch_std
from tests.conftest import NVIDIA_FIXTURES

REFERENCE = NVIDIA_FIXTURES / "discriminator_logits.npz"


def _from_nvidia_record(record) -> Discriminator:
    kwargs = _plain(dict(record.init_kwargs))
    epilogue = kwargs.pop("epilogue_kwargs", {})
    assert not kwargs.pop("block_kwargs", {}) and not kwargs.pop("num_fp16_res", 0)
    D = Discriminator(**kwargs, **epilogue).eval()
    D.load_state_dict(record.tensors(), strict=True)
    return D


@pytest.mark.parametrize("name", ["sg2_f_skip64_w64", "sg2_k_cond_resnet16", "sg2_g_orig32"])
def test_matches_nvidia_discriminator(name):
    ref = np.load(REFERENCE)
    D = _from_nvidia_record(read_network_pickle(NVIDIA_FIXTURES / f"{name}.pkl")["D"])
    img = torch.from_numpy(ref[f"{name}/img"])
    c = torch.from_numpy(ref[f"{name}/c"]) if D.c_dim else None
    with torch.no_grad():
        logits = D(img, c)
    np.testing.assert_allclose(logits.numpy(), ref[f"{name}/logits"], atol=1e-5)


def test_state_dict_names_match_nvidia():
    record = read_network_pickle(NVIDIA_FIXTURES / "sg2_f_skip64_w64.pkl")["D"]
    D = _from_nvidia_record(record)
    assert sorted(D.state_dict()) == sorted(record.tensors())


@pytest.mark.parametrize("architecture", ["orig", "skip", "resnet"])
def test_architectures_give_one_logit_and_gradients(architecture):
    D = Discriminator(c_dim=0, img_resolution=16, img_channels=3, architecture=architecture, channel_max=8)
    img = torch.randn(4, 3, 16, 16, requires_grad=True)
    logits = D(img)
    assert logits.shape == (4, 1)
    logits.sum().backward()
    assert img.grad is not None and torch.isfinite(img.grad).all()


def test_minibatch_std_appends_group_statistic():
    x = torch.randn(8, 6, 4, 4)
    y = minibatch_std(x, group_size=4)
    assert y.shape == (8, 7, 4, 4)
    assert torch.equal(y[:, :6], x)
    identical = minibatch_std(torch.ones(4, 2, 4, 4), group_size=4)
    assert torch.allclose(identical[:, 2], torch.full((4, 4, 4), 1e-4))  # sqrt(1e-8): no spread at all


def test_bad_input_is_named():
    D = Discriminator(c_dim=0, img_resolution=16, img_channels=3, channel_max=8)
    with pytest.raises(ValueError, match=r"\[N, 3, 16, 16\]"):
        D(torch.randn(4, 3, 32, 32))
    with pytest.raises(ValueError, match="multiple of the minibatch-std group size"):
        D(torch.randn(6, 3, 16, 16))
    with pytest.raises(ValueError, match="power of two"):
        Discriminator(c_dim=0, img_resolution=24, img_channels=3)
