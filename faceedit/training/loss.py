"""StyleGAN2 losses: non-saturating logistic loss, R1 penalty, and style-mixed sampling."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from faceedit.networks.generator import Generator

__all__ = ["mixed_ws", "generator_loss", "discriminator_loss", "r1_penalty"]


def mixed_ws(G: Generator, z: torch.Tensor, style_mixing_prob: float) -> torch.Tensor:
    """Map ``z [N, z_dim]`` to ``ws [N, num_ws, w_dim]``, mixing in a second latent from a random layer.

    Style mixing keeps neighbouring layers from relying on each other, so coarse and fine
    styles stay separable. One cutoff is drawn per batch, as in NVIDIA's code.
    """
    ws = G.mapping(z, None)  # [N, num_ws, w_dim]
    if style_mixing_prob > 0:
        cutoff = int(torch.randint(1, ws.shape[1], ()).item()) if ws.shape[1] > 1 else ws.shape[1]
        if torch.rand(()).item() < style_mixing_prob and cutoff < ws.shape[1]:
            other = G.mapping(torch.randn_like(z), None, update_w_avg=False)  # [N, num_ws, w_dim]
            ws = torch.cat([ws[:, :cutoff], other[:, cutoff:]], dim=1)
    return ws


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating logistic loss ``softplus(-D(G(z)))``, averaged over the batch."""
    return F.softplus(-fake_logits).mean()


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Logistic loss ``softplus(D(G(z))) + softplus(-D(x))``, averaged over the batch."""
    return F.softplus(fake_logits).mean() + F.softplus(-real_logits).mean()


def r1_penalty(real_logits: torch.Tensor, real_images: torch.Tensor) -> torch.Tensor:
    """Squared gradient norm of ``D`` at real images, per sample ``[N]``.

    ``real_images`` must have ``requires_grad`` set before ``D`` runs; the graph is kept so the
    penalty can itself be differentiated (R1 needs second derivatives).
    """
    (grads,) = torch.autograd.grad(real_logits.sum(), real_images, create_graph=True)  # [N, C, H, W]
    return grads.square().sum(dim=[1, 2, 3])  # [N]
