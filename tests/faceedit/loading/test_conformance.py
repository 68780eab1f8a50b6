"""Outputs match reference arrays written by NVIDIA's own code (tests/fixtures/nvidia)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import faceedit
from tests.conftest import NVIDIA_FIXTURES

TOL = 1e-4
FIXTURE_NAMES = sorted(p.name[: -len("_ref.npz")] for p in NVIDIA_FIXTURES.glob("*_ref.npz"))


@pytest.fixture(scope="module", params=FIXTURE_NAMES)
def case(request):
    name = request.param
    G = faceedit.load_generator(NVIDIA_FIXTURES / f"{name}.pkl", device="cpu")
    ref = dict(np.load(NVIDIA_FIXTURES / f"{name}_ref.npz"))
    meta = json.loads((NVIDIA_FIXTURES / f"{name}_ref.json").read_text())
    return name, G, ref, meta


def _labels(ref):
    c = torch.from_numpy(ref["c"])
    return c if c.shape[1] > 0 else None


def _per_seed(fn, n):
    return torch.cat([fn(i) for i in range(n)])


def test_fixture_set_covers_the_required_variants():
    """Every architecture, conditional, fp16, 512-wide mapping, greyscale and numpy-1 pickles."""
    assert {"sg2_e_tiny16_cond", "sg2_e_tiny16_cond_np1", "sg2_f_skip64_w64", "sg2_g_orig32", "sg2_h_resnet32",
            "sg2_h_resnet32_np1", "sg2_i_fp16_32", "sg2_j_map512_slim", "sg2_k_cond_resnet16", "sg2_l_gray16_orig",
            "sg2_m_map512_l2"} <= set(FIXTURE_NAMES)


def test_state_dict_names_shapes_and_order_match_nvidia(case):
    _, G, _, meta = case
    ours = [(k, list(v.shape)) for k, v in G.state_dict().items()]
    theirs = [(k, shape) for k, shape, _ in meta["G_ema_state_dict"]]
    assert ours == theirs
    assert G.num_ws == meta["num_ws"]
    assert (G.z_dim, G.c_dim, G.w_dim, G.img_resolution, G.img_channels) == (
        meta["z_dim"], meta["c_dim"], meta["w_dim"], meta["img_resolution"], meta["img_channels"])


@pytest.mark.parametrize("psi", ["psi1", "psi07"])
def test_mapping_matches(case, psi):
    _, G, ref, _ = case
    z, c = torch.from_numpy(ref["z"]), _labels(ref)
    value = 1.0 if psi == "psi1" else 0.7
    ws = _per_seed(lambda i: G.mapping(z[i : i + 1], None if c is None else c[i : i + 1], truncation_psi=value), len(z))
    np.testing.assert_allclose(ws.numpy(), ref[f"ws_{psi}"], rtol=0, atol=TOL)


@pytest.mark.parametrize("psi", ["psi1", "psi07"])
def test_synthesis_matches_per_seed_and_batched(case, psi):
    _, G, ref, _ = case
    ws = torch.from_numpy(ref[f"ws_{psi}"])
    single = _per_seed(lambda i: G.synthesis(ws[i : i + 1], noise_mode="const"), len(ws))
    np.testing.assert_allclose(single.numpy(), ref[f"img_{psi}"], rtol=0, atol=TOL)
    batched = G.synthesis(ws, noise_mode="const")
    np.testing.assert_allclose(batched.numpy(), ref[f"img_{psi}"], rtol=0, atol=TOL)


def test_wplus_input_matches(case):
    _, G, ref, _ = case
    wplus = torch.from_numpy(ref["wplus"])
    assert not torch.allclose(wplus[:, 0], wplus[:, 1])  # genuinely different rows
    np.testing.assert_allclose(G.synthesis(wplus).numpy(), ref["img_wplus"], rtol=0, atol=TOL)


def test_uint8_images_match_generate_py(case):
    _, G, ref, _ = case
    img = faceedit.images_from_tensor(G.synthesis(torch.from_numpy(ref["ws_psi1"])))
    diff = np.abs(img.astype(int) - ref["img_psi1_uint8"].astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() < 0.01  # rounding at .5 boundaries only


def test_full_forward_matches(case):
    _, G, ref, _ = case
    z, c = torch.from_numpy(ref["z"]), _labels(ref)
    img = G(z, c, truncation_psi=0.7)
    np.testing.assert_allclose(img.numpy(), ref["img_psi07"], rtol=0, atol=TOL)


def test_optional_references(case):
    """Truncation cutoff and noise_mode='none', where the fixture records them."""
    _, G, ref, _ = case
    z, c = torch.from_numpy(ref["z"]), _labels(ref)
    if "ws_psi07_cut2" not in ref:
        pytest.skip("fixture has no cutoff reference")
    ws = _per_seed(lambda i: G.mapping(z[i : i + 1], None if c is None else c[i : i + 1], truncation_psi=0.7,
                                       truncation_cutoff=2), len(z))
    np.testing.assert_allclose(ws.numpy(), ref["ws_psi07_cut2"], rtol=0, atol=TOL)
    np.testing.assert_allclose(G.synthesis(ws).numpy(), ref["img_psi07_cut2"], rtol=0, atol=TOL)
    if "img_psi1_noise_none" in ref:
        img = G.synthesis(torch.from_numpy(ref["ws_psi1"]), noise_mode="none")
        np.testing.assert_allclose(img.numpy(), ref["img_psi1_noise_none"], rtol=0, atol=TOL)


def test_G_and_G_ema_are_different_networks(case):
    name, G_ema, ref, _ = case
    G = faceedit.load_generator(NVIDIA_FIXTURES / f"{name}.pkl", device="cpu", which="G")
    ws = torch.from_numpy(ref["ws_psi1"])
    assert (G.synthesis(ws) - G_ema.synthesis(ws)).abs().max() > 1e-3


def test_converted_folder_gives_identical_outputs(case, tmp_path):
    _, G, ref, _ = case
    G.save_pretrained(tmp_path / "m")
    G2 = faceedit.load_generator(tmp_path / "m", device="cpu")
    ws = torch.from_numpy(ref["ws_psi1"])
    assert torch.equal(G.synthesis(ws), G2.synthesis(ws))
    z, c = torch.from_numpy(ref["z"]), _labels(ref)
    assert torch.equal(G.mapping(z, c, truncation_psi=0.7), G2.mapping(z, c, truncation_psi=0.7))
