import pytest
import torch

from distill.networks import GlobalGenerator, LocalEnhancer, build_generator


def _randomised(net: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Every weight random (the skips too), so no path hides behind a zero."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn_like(p) * 0.2)
    return net.eval()


@pytest.mark.parametrize("n_downsampling", [1, 3])
def test_skips_start_at_zero_so_a_filter_without_them_keeps_its_output(n_downsampling):
    plain = _randomised(GlobalGenerator(ngf=4, n_downsampling=n_downsampling, n_blocks=1))
    with_skips = GlobalGenerator(ngf=4, n_downsampling=n_downsampling, n_blocks=1, skips=True)
    skip_weights = {k: v for k, v in with_skips.state_dict().items() if k.startswith("skip.")}
    assert skip_weights and all(not v.any() for v in skip_weights.values())
    with_skips.load_state_dict({**plain.state_dict(), **skip_weights}, strict=True)
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    torch.testing.assert_close(with_skips.eval()(x), plain(x), rtol=0, atol=0)


def test_each_skip_carries_its_scale_to_the_decoder():
    net = _randomised(GlobalGenerator(ngf=4, n_downsampling=3, n_blocks=1, skips=True))
    assert [conv.in_channels for conv in net.skip] == [16, 8, 4]  # 1/4, 1/2 and full resolution
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    out = net(x)
    for index in range(3):  # silencing any one skip changes the output
        with torch.no_grad():
            saved = net.skip[index].weight.clone()
            net.skip[index].weight.zero_()
            net.skip[index].bias.zero_()
            assert not torch.allclose(net(x), out)
            net.skip[index].weight.copy_(saved)


def test_skips_receive_gradients_from_their_zero_start():
    net = GlobalGenerator(ngf=4, n_downsampling=2, n_blocks=1, skips=True)
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    net(x).square().mean().backward()
    assert all(conv.weight.grad.abs().sum() > 0 for conv in net.skip)


def test_the_local_enhancer_passes_skips_to_its_global_generator():
    net = build_generator(kind="local", ngf=4, n_downsampling_global=2, n_blocks_global=1, skips=True)
    assert isinstance(net, LocalEnhancer) and net.global_generator.skip is not None
    assert net(torch.rand(1, 3, 32, 32) * 2 - 1).shape == (1, 3, 32, 32)
