import torch

from faceedit.attributes import AttributeNet, heads_from_factors
from faceedit.attributes.perceptual import ClassifierFeatureDistance, classifier_feature_distance


def _net():
    torch.manual_seed(0)
    return AttributeNet(heads_from_factors(), widths=(8, 16), feature_dim=16, input_resolution=32)


def test_zero_for_identical_images_and_growing_with_the_difference():
    net = _net().eval()
    a = torch.rand(3, 3, 32, 32) * 2 - 1
    noise = torch.randn_like(a)
    same = classifier_feature_distance(net, a, a)
    small = classifier_feature_distance(net, a, (a + 0.05 * noise).clamp(-1, 1))
    large = classifier_feature_distance(net, a, (a + 0.5 * noise).clamp(-1, 1))
    assert same.shape == (3,) and torch.allclose(same, torch.zeros(3), atol=1e-6)
    assert (small > 0).all() and (large > small).all()


def test_module_is_frozen_differentiable_and_stays_in_eval_mode():
    net = _net()
    distance = ClassifierFeatureDistance(net).train()  # a trainer calling .train() must not unfreeze batch norm
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    before = {k: v.clone() for k, v in net.state_dict().items()}
    a = (torch.rand(2, 3, 64, 64) * 2 - 1).requires_grad_(True)  # resized to the net's 32 on the way in
    b = torch.rand(2, 3, 64, 64) * 2 - 1
    distance(a, b).mean().backward()
    assert a.grad is not None and a.grad.abs().sum() > 0
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key  # running statistics untouched
    torch.testing.assert_close(distance(a, b), classifier_feature_distance(net, a, b))
