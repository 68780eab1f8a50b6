import numpy as np
import pytest
import torch

from directions.discovery import direction_grid, ganspace, sefa
from tests.conftest import tiny_generator


def test_ganspace_components_are_orthonormal_and_ordered():
    G = tiny_generator(seed=0)
    components, ratio = ganspace(G, n=500, k=4)
    assert components.shape == (4, G.w_dim)
    np.testing.assert_allclose(components @ components.T, np.eye(4), atol=1e-8)
    assert (np.diff(ratio) <= 0).all() and 0 < ratio.sum() <= 1


def test_ganspace_finds_the_axis_of_largest_variance():
    G = tiny_generator(seed=0)
    with torch.no_grad():  # stretch the last mapping layer's output along one axis
        axis = torch.zeros(G.w_dim)
        axis[5] = 1.0
        fc = getattr(G.mapping, f"fc{G.mapping.num_layers - 1}")
        fc.weight[5] *= 20
    components, _ = ganspace(G, n=500, k=1)
    assert abs(components[0] @ axis.numpy()) > 0.95


def test_sefa_top_direction_is_amplified_most():
    G = tiny_generator(seed=0)
    directions, values = sefa(G, k=3)
    np.testing.assert_allclose(directions @ directions.T, np.eye(3), atol=1e-8)
    assert (np.diff(values) <= 0).all()
    A = torch.cat([m.weight for n, m in G.named_modules() if n.endswith("affine")]).double().numpy()
    A = A / np.linalg.norm(A, axis=1, keepdims=True)
    random = np.random.RandomState(0).randn(100, G.w_dim)
    random /= np.linalg.norm(random, axis=1, keepdims=True)
    assert np.linalg.norm(A @ directions[0]) >= np.linalg.norm(A @ random.T, axis=0).max()
    coarse, _ = sefa(G, k=2, layers=(0, 2))
    assert coarse.shape == (2, G.w_dim)
    with pytest.raises(ValueError, match="layer range"):
        sefa(G, layers=(3, 99))


def test_direction_grid_has_a_row_per_direction_and_seed():
    G = tiny_generator(seed=0)
    grid = direction_grid(G, np.eye(G.w_dim)[:2], seeds=[0, 1], alphas=[-1, 0, 1])
    assert grid.dtype == np.uint8 and grid.shape == (4 * 16 + 5 * 2, 3 * 16 + 4 * 2, 3)
