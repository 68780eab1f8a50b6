import math

import torch

from faceedit.training.loss import discriminator_loss, generator_loss, mixed_ws, r1_penalty
from tests.conftest import tiny_generator


def test_logistic_losses_at_zero_logits():
    zeros = torch.zeros(4, 1)
    assert abs(generator_loss(zeros).item() - math.log(2)) < 1e-6
    assert abs(discriminator_loss(zeros, zeros).item() - 2 * math.log(2)) < 1e-6
    # Confident, correct D: low D loss, high G loss.
    assert discriminator_loss(torch.full((4, 1), 8.0), torch.full((4, 1), -8.0)).item() < 1e-3
    assert generator_loss(torch.full((4, 1), -8.0)).item() > 7


def test_r1_penalty_is_squared_input_gradient():
    weight = torch.randn(3 * 4 * 4, requires_grad=True)
    images = torch.randn(2, 3, 4, 4, requires_grad=True)
    logits = images.flatten(1) @ weight  # a linear D: gradient is the weight everywhere
    penalty = r1_penalty(logits, images)
    assert torch.allclose(penalty, weight.detach().square().sum().expand(2))
    assert penalty.requires_grad  # graph kept: the penalty is differentiated w.r.t. D's weights


def test_style_mixing_switches_latent_at_one_layer():
    G = tiny_generator(seed=0)
    z = torch.randn(4, G.z_dim)
    torch.manual_seed(1)
    plain = mixed_ws(G, z, style_mixing_prob=0.0)
    assert torch.equal(plain, plain[:, :1].expand_as(plain))
    torch.manual_seed(1)
    mixed = mixed_ws(G, z, style_mixing_prob=1.0)
    same_as_first = (mixed == plain).all(dim=2).all(dim=0)  # [num_ws]
    cutoff = int(same_as_first.long().argmin())
    assert 1 <= cutoff < G.num_ws
    assert same_as_first[:cutoff].all() and not same_as_first[cutoff:].any()
