import numpy as np
import pytest
import torch

from faceedit.attributes.quality import (
    attribute_distribution_distances,
    binned_distribution,
    frechet_distance,
    total_variation,
)

CONTINUOUS = dict(name="age", kind="continuous", low=0.0, high=1.0, classes=[])
CATEGORICAL = dict(name="bg", kind="categorical", low=0.0, high=2.0, classes=["a", "b", "c"])


def test_frechet_distance_of_shifted_gaussians():
    rng = np.random.RandomState(0)
    a = rng.randn(20000, 3)
    b = rng.randn(20000, 3) * 2 + np.array([1.0, 0, 0])
    # |mu|^2 + sum (1 + 4 - 2 * 2) over 3 dims = 1 + 3
    assert frechet_distance(torch.tensor(a), torch.tensor(b)) == pytest.approx(4.0, abs=0.15)
    assert frechet_distance(torch.tensor(a), torch.tensor(a)) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_rejects_mismatched_features():
    with pytest.raises(ValueError, match="same D"):
        frechet_distance(torch.zeros(5, 3), torch.zeros(5, 4))


def test_binned_distributions_and_total_variation():
    p = binned_distribution(torch.tensor([0.05, 0.15, 0.95, 1.0]), CONTINUOUS, bins=10)
    assert p.sum() == pytest.approx(1) and p[0] == p[1] == 0.25 and p[9] == 0.5
    q = binned_distribution(torch.eye(3)[[0, 0, 2]], CATEGORICAL)
    np.testing.assert_allclose(q, [2 / 3, 0, 1 / 3])
    assert total_variation(np.array([1, 0]), np.array([0, 1])) == 1.0
    distances = attribute_distribution_distances({"age": torch.zeros(4)}, {"age": torch.ones(4)}, [CONTINUOUS])
    assert distances == {"age": 1.0}
