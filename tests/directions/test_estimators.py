import numpy as np
import pytest
from sklearn.base import clone

from directions.estimators import DirectionEstimator, project_out

W_DIM = 64


def _planted(n=10000, seed=0, noise=0.1):
    rng = np.random.RandomState(seed)
    truth = rng.randn(W_DIM)
    truth /= np.linalg.norm(truth)
    W = rng.randn(n, W_DIM) * 0.8 + rng.randn(W_DIM)  # offset and scaled like a real W cloud
    score = (W - W.mean(0)) @ truth + noise * rng.randn(n)
    return W, score, truth


@pytest.mark.parametrize("method", ["svm", "logistic", "mean_diff"])
def test_classification_methods_recover_a_planted_direction(method):
    W, score, truth = _planted()
    estimator = DirectionEstimator(method=method).fit(W, score)  # continuous scores split at the median
    assert estimator.direction_ @ truth >= 0.99
    assert estimator.score_ > 0.9
    assert np.linalg.norm(estimator.direction_) == pytest.approx(1.0)


def test_binary_labels_work_and_point_to_the_positive_class():
    W, score, truth = _planted()
    estimator = DirectionEstimator(method="logistic").fit(W, (score > 0).astype(float))
    assert estimator.direction_ @ truth >= 0.99
    values = estimator.decision_function(W)
    assert ((values > 0) == (score > 0)).mean() > 0.9


def test_ridge_recovers_a_continuous_target():
    W, score, truth = _planted()
    estimator = DirectionEstimator(method="ridge").fit(W, 40 + 15 * score)  # e.g. age in years
    assert estimator.direction_ @ truth >= 0.99
    assert estimator.score_ > 0.9  # held-out R^2


def test_conditional_direction_is_orthogonal_to_the_others():
    rng = np.random.RandomState(1)
    W, score, truth = _planted()
    other = truth + 0.5 * rng.randn(W_DIM)  # a correlated attribute, e.g. gender
    estimator = DirectionEstimator(method="svm", orthogonal_to=[other]).fit(W, score)
    assert abs(estimator.direction_ @ other) < 1e-9
    assert estimator.direction_ @ truth > 0.3  # still points the same way


def test_project_out_several_directions_and_degenerate_case():
    rng = np.random.RandomState(2)
    a, b, c = rng.randn(3, 8)
    d = project_out(a, [b, c])
    assert abs(d @ b) < 1e-9 and abs(d @ c) < 1e-9 and np.linalg.norm(d) == pytest.approx(1)
    with pytest.raises(ValueError, match="span"):
        project_out(b + c, [b, c])
    with pytest.raises(ValueError, match="length"):
        project_out(a, [np.ones(3)])


def test_scikit_learn_conventions():
    estimator = DirectionEstimator(method="logistic", C=0.5, confident_fraction=0.2)
    assert estimator.get_params()["C"] == 0.5
    assert not [k for k in vars(estimator) if k.endswith("_")]  # nothing learned before fit
    copy = clone(estimator)
    assert copy.get_params() == estimator.get_params() and copy is not estimator
    W, score, _ = _planted(n=500)
    assert estimator.fit(W, score) is estimator
    assert estimator.n_features_in_ == W_DIM and estimator.set_params(C=2.0).C == 2.0
    assert not hasattr(clone(estimator), "direction_")


def test_errors_name_the_problem():
    W, score, _ = _planted(n=200)
    with pytest.raises(ValueError, match="method must be one of"):
        DirectionEstimator(method="pca").fit(W, score)
    with pytest.raises(ValueError, match="finite"):
        DirectionEstimator().fit(W, np.where(np.arange(200) == 3, np.nan, score))
    with pytest.raises(ValueError, match="one side of the threshold"):
        DirectionEstimator(threshold=1e9).fit(W, score)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        DirectionEstimator().decision_function(W)
