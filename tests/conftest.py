"""Shared test setup: never touch the network, keep the model cache in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

FIXTURES = Path(__file__).parent / "fixtures"
NVIDIA_FIXTURES = FIXTURES / "nvidia"


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("FACEEDIT_OFFLINE", "1")
    monkeypatch.setenv("FACEEDIT_CACHE", str(tmp_path_factory.mktemp("cache")))
    torch.manual_seed(0)


def tiny_generator(architecture: str = "skip", c_dim: int = 0, resolution: int = 16, seed: int = 0, **synthesis):
    """A small random generator with every parameter perturbed (so no layer is an identity)."""
    from faceedit.networks import Generator

    torch.manual_seed(seed)
    synthesis_kwargs = dict(channel_base=128, channel_max=16, architecture=architecture, conv_clamp=256)
    synthesis_kwargs.update(synthesis)
    G = Generator(z_dim=16, c_dim=c_dim, w_dim=16, img_resolution=resolution, img_channels=3,
                  mapping_kwargs={"num_layers": 2}, synthesis_kwargs=synthesis_kwargs)
    with torch.no_grad():
        for p in G.parameters():
            p.add_(torch.randn_like(p) * 0.1)
        G.mapping.w_avg.copy_(torch.randn_like(G.mapping.w_avg))
    return G.eval().requires_grad_(False)


def tiny_filter(resolution: int = 64, seed: int = 0, metadata=None):
    """A small distilled-filter network that visibly darkens its input."""
    from distill.filter import Filter
    from distill.networks import build_generator

    torch.manual_seed(seed)
    arch = dict(kind="global", ngf=8, n_downsampling=2, n_blocks=1)
    net = build_generator(**arch)
    with torch.no_grad():  # a visible edit: darken everything a little
        net.last[1].bias.fill_(-0.3)
        net.last[1].weight.mul_(0.01)
    return Filter(net, resolution, arch, dict(metadata or {"name": "darker"}))
