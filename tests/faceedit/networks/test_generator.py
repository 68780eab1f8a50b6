"""Generator behaviour: shapes, W+, truncation, noise modes, fp16 settings, architectures, file format."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import faceedit
from faceedit.errors import CheckpointFormatError, ModelNotFoundError
from faceedit.networks import Generator
from tests.conftest import tiny_generator
from tests.helpers.nvidia_writer import snapshot_bytes

ARCHS = ["orig", "skip", "resnet"]


@pytest.mark.parametrize("arch", ARCHS)
def test_shapes_and_attributes(arch):
    G = tiny_generator(arch)
    assert (G.z_dim, G.c_dim, G.w_dim, G.img_resolution, G.img_channels) == (16, 0, 16, 16, 3)
    assert G.num_ws == 1 + 2 + 2 + 1  # b4: 1 conv; b8, b16: 2 convs each; + the last torgb
    ws = G.mapping(torch.randn(3, 16), None)
    assert ws.shape == (3, G.num_ws, 16)
    assert G.synthesis(ws).shape == (3, 3, 16, 16)


def test_architecture_layout_matches_nvidia():
    skip, orig, resnet = (tiny_generator(a).state_dict() for a in ("skip", "orig", "resnet"))
    assert "synthesis.b4.torgb.weight" in skip and "synthesis.b8.torgb.weight" in skip
    assert "synthesis.b4.torgb.weight" not in orig and "synthesis.b16.torgb.weight" in orig
    assert "synthesis.b8.skip.weight" in resnet and "synthesis.b8.torgb.weight" not in resnet
    assert not any(".skip." in k for k in orig)


@pytest.mark.parametrize("arch", ARCHS)
def test_wplus_rows_are_used(arch):
    G = tiny_generator(arch)
    ws = G.mapping(torch.randn(1, 16), None)
    base = G.synthesis(ws)
    for row in range(G.num_ws):
        moved = ws.clone()
        moved[:, row] += torch.randn(16)
        assert not torch.allclose(G.synthesis(moved), base), f"row {row} has no effect"


def test_truncation_psi_and_cutoff():
    G = tiny_generator()
    z = torch.randn(2, 16)
    ws = G.mapping(z, None)
    assert torch.allclose(G.mapping(z, None, truncation_psi=0), G.mapping.w_avg.expand_as(ws))
    half = G.mapping(z, None, truncation_psi=0.5)
    assert torch.allclose(half, G.mapping.w_avg + 0.5 * (ws - G.mapping.w_avg), atol=1e-6)
    cut = G.mapping(z, None, truncation_psi=0.5, truncation_cutoff=3)
    assert torch.allclose(cut[:, :3], half[:, :3]) and torch.equal(cut[:, 3:], ws[:, 3:])


def test_noise_modes():
    G = tiny_generator()
    ws = G.mapping(torch.randn(2, 16), None)
    const_a, const_b = G.synthesis(ws, noise_mode="const"), G.synthesis(ws, noise_mode="const")
    assert torch.equal(const_a, const_b)
    torch.manual_seed(1)
    random_a = G.synthesis(ws, noise_mode="random")
    torch.manual_seed(2)
    random_b = G.synthesis(ws, noise_mode="random")
    assert not torch.allclose(random_a, random_b)
    none = G.synthesis(ws, noise_mode="none")
    assert not torch.allclose(none, const_a)
    with pytest.raises(ValueError, match="noise_mode"):
        G.synthesis(ws, noise_mode="loud")


def test_conditional_mapping_validates_labels():
    G = tiny_generator(c_dim=4)
    z = torch.randn(2, 16)
    c = torch.eye(4)[:2]
    assert not torch.allclose(G.mapping(z, c), G.mapping(z, torch.eye(4)[2:4]))
    with pytest.raises(ValueError, match="conditional"):
        G.mapping(z, None)


def test_bad_ws_shape_has_clear_error():
    G = tiny_generator()
    with pytest.raises(ValueError, match=r"ws must have shape \[N, 6, 16\]"):
        G.synthesis(torch.randn(1, 5, 16))
    single = G.mapping(torch.randn(1, 16), None)[:, 0]
    assert torch.equal(G.synthesis(single), G.synthesis(single.unsqueeze(1).repeat(1, G.num_ws, 1)))


def test_fp16_blocks_run_in_fp32_on_cpu():
    reference = tiny_generator(num_fp16_res=0)
    G = tiny_generator(num_fp16_res=2, fp16_channels_last=True)
    G.load_state_dict(reference.state_dict())
    assert G.synthesis.b16.use_fp16 and G.synthesis.b8.use_fp16 and not G.synthesis.b4.use_fp16
    ws = G.mapping(torch.randn(2, 16), None)
    img = G.synthesis(ws)
    assert img.dtype == torch.float32
    assert torch.allclose(img, reference.synthesis(ws), atol=1e-5)  # same weights, same maths


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fp16_blocks_run_in_half_on_cuda():
    G = tiny_generator(num_fp16_res=2).cuda()
    ws = G.mapping(torch.randn(2, 16, device="cuda"), None)
    half, full = G.synthesis(ws), G.synthesis(ws, force_fp32=True)
    assert half.dtype == torch.float32 and (half - full).abs().max() < 0.05 and not torch.equal(half, full)


@pytest.mark.parametrize("arch", ARCHS)
def test_fused_and_unfused_modulation_agree(arch):
    G = tiny_generator(arch)
    ws = G.mapping(torch.randn(3, 16), None)
    assert torch.allclose(G.synthesis(ws, fused_modconv=True), G.synthesis(ws, fused_modconv=False), atol=1e-5)


def test_gradients_reach_latents_and_weights():
    G = tiny_generator().train().requires_grad_(True)
    ws = G.mapping(torch.randn(2, 16), None).detach().requires_grad_(True)
    G.synthesis(ws).square().mean().backward()
    assert ws.grad is not None and ws.grad.abs().sum() > 0
    assert G.synthesis.b4.const.grad is not None


def test_w_avg_tracks_in_training_mode_only():
    G = tiny_generator()
    before = G.mapping.w_avg.clone()
    G.mapping(torch.randn(4, 16), None)
    assert torch.equal(G.mapping.w_avg, before)
    G.train()
    G.mapping(torch.randn(4, 16), None)
    assert not torch.equal(G.mapping.w_avg, before)


@pytest.mark.parametrize("arch", ARCHS)
def test_nvidia_pickle_round_trip(arch, tmp_path):
    G = tiny_generator(arch, c_dim=2)
    path = tmp_path / "net.pkl"
    path.write_bytes(snapshot_bytes(G))
    loaded = faceedit.load_generator(path, device="cpu")
    z, c = torch.randn(2, 16), torch.eye(2)
    assert torch.equal(loaded(z, c, truncation_psi=0.7), G(z, c, truncation_psi=0.7))


def test_save_pretrained_round_trip(tmp_path):
    G = tiny_generator("resnet")
    G.save_pretrained(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "model.safetensors"]
    loaded = Generator.from_pretrained(tmp_path / "m")
    z = torch.randn(2, 16)
    assert torch.equal(loaded(z), G(z))
    assert loaded.config == G.config


def test_save_pretrained_fp16(tmp_path):
    G = tiny_generator()
    G.save_pretrained(tmp_path / "half", dtype=torch.float16)
    G.save_pretrained(tmp_path / "full")
    half_size = (tmp_path / "half" / "model.safetensors").stat().st_size
    full_size = (tmp_path / "full" / "model.safetensors").stat().st_size
    assert half_size < 0.6 * full_size
    loaded = Generator.from_pretrained(tmp_path / "half")
    z = torch.randn(2, 16)
    assert (loaded(z) - G(z)).abs().max() < 0.05


def test_from_pretrained_detects_damage(tmp_path):
    G = tiny_generator()
    G.save_pretrained(tmp_path / "m")
    weights = tmp_path / "m" / "model.safetensors"
    blob = bytearray(weights.read_bytes())
    blob[-3] ^= 0xFF
    weights.write_bytes(bytes(blob))
    with pytest.raises(CheckpointFormatError, match="SHA-256"):
        Generator.from_pretrained(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["format"] = "something-else"
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointFormatError, match="not a faceedit generator"):
        Generator.from_pretrained(tmp_path / "m")
    with pytest.raises(ModelNotFoundError, match="config.json"):
        Generator.from_pretrained(tmp_path)


def test_config_with_unknown_keys_is_refused(tmp_path):
    G = tiny_generator()
    G.save_pretrained(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["generator"]["synthesis_kwargs"]["class_name"] = "os.system"
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointFormatError, match="class_name"):
        Generator.from_pretrained(tmp_path / "m", verify_hash=False)


def test_mapping_512_wide_like_ffhq():
    G = Generator(z_dim=512, c_dim=0, w_dim=512, img_resolution=8, img_channels=3,
                  mapping_kwargs={"num_layers": 8}, synthesis_kwargs={"channel_max": 8})
    assert G.mapping.fc0.weight.shape == (512, 512) and hasattr(G.mapping, "fc7")
    assert G(torch.randn(2, 512)).shape == (2, 3, 8, 8)


def test_explicit_noise_maps_replace_noise_mode_per_layer():
    G = tiny_generator(seed=0)
    with torch.no_grad():
        for p in G.parameters():  # make noise matter
            if p.ndim == 0:
                p.fill_(0.5)
        ws = G.mapping(torch.randn(2, G.z_dim), None)
        layers = G.synthesis.noise_layers()
        assert list(layers)[0] == "b4.conv1" and layers["b8.conv0"] == 8
        const = {name: G.synthesis.get_submodule(name).noise_const for name in layers}
        np.testing.assert_array_equal(G.synthesis(ws, noise=const).numpy(), G.synthesis(ws, noise_mode="const").numpy())
        per_image = {name: torch.randn(2, 1, res, res) for name, res in layers.items()}
        a = G.synthesis(ws, noise=per_image)
        swapped = {name: v.flip(0) for name, v in per_image.items()}
        b = G.synthesis(ws.flip(0), noise=swapped)
        torch.testing.assert_close(a, b.flip(0))  # each image keeps its own maps
        assert not torch.allclose(a, G.synthesis(ws, noise_mode="const"))
        with pytest.raises(ValueError, match="no noise input named 'b4.conv0'"):
            G.synthesis(ws, noise={"b4.conv0": torch.zeros(4, 4)})
