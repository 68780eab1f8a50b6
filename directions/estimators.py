"""Linear attribute directions in W, as scikit-learn estimators.

``DirectionEstimator(method=...).fit(W, y)`` learns a unit vector ``direction_`` in W that
points towards the positive class (or the growing target): the unit normal of a linear
decision boundary (SVM, logistic regression), the difference of class means, or the ridge
regression weights. Conditional directions project out other directions, so an age edit need
not change gender or glasses.
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

import numpy as np
from sklearn.base import BaseEstimator

__all__ = ["DirectionEstimator", "project_out", "METHODS"]

METHODS = ("svm", "logistic", "mean_diff", "ridge")
ArrayLike = Union[np.ndarray, Sequence[Sequence[float]]]


def project_out(direction: np.ndarray, others: Optional[ArrayLike]) -> np.ndarray:
    """Remove from ``direction [D]`` its components along every row of ``others [K, D]``; unit result.

    The rows need not be orthogonal or unit length (they are orthonormalised first), so
    ``project_out(age, [gender, glasses])`` is orthogonal to both gender and glasses.

    Raises:
        ValueError: shapes disagree, or ``direction`` lies in the span of ``others``.
    """
    d = np.asarray(direction, dtype=np.float64).reshape(-1)
    if others is None or len(others) == 0:
        return d / np.linalg.norm(d)
    basis = np.atleast_2d(np.asarray(others, dtype=np.float64))
    if basis.shape[1] != d.shape[0]:
        raise ValueError(f"directions to project out have length {basis.shape[1]}, expected {d.shape[0]}")
    q, _ = np.linalg.qr(basis.T)  # [D, K] orthonormal basis of the span
    d = d - q @ (q.T @ d)
    norm = np.linalg.norm(d)
    if norm < 1e-8:
        raise ValueError("the direction lies in the span of the directions to project out; nothing is left")
    return d / norm


class DirectionEstimator(BaseEstimator):
    """Fit an attribute direction in W from latents and attribute labels or scores.

    Args:
        method: ``'svm'`` (linear SVM on the most confident top/bottom fraction of samples, as
            InterFaceGAN), ``'logistic'`` (logistic regression), ``'mean_diff'`` (difference of
            the class means, the classic FaceApp recipe), or ``'ridge'`` (ridge regression on a
            continuous target, such as age in years).
        confident_fraction: for classification methods, keep only this fraction of samples
            with the highest and the same fraction with the lowest scores (the rest are
            ambiguous). 0.5 (or more) keeps everything.
        threshold: score that separates the classes for classification methods; None = the
            median of ``y`` (binary 0/1 labels split at 0.5 either way).
        C: inverse regularisation strength of the SVM and the logistic regression.
        alpha: regularisation strength of the ridge regression.
        orthogonal_to: directions ``[K, w_dim]`` to project out (a conditional direction), None = none.
        test_size: fraction of samples held out to compute ``score_``.
        random_state: seed of the train/held-out split and of the solvers.

    Attributes:
        direction_: unit vector ``[w_dim]`` towards the positive class / growing target.
        score_: held-out accuracy (classification methods) or R^2 (``'ridge'``) of the fitted model.
        projection_std_: standard deviation of ``W @ direction_`` over the fitted samples, the unit
            in which edit strengths are expressed.
        offset_: ``-`` the boundary position along ``direction_`` (decision value = ``W @ direction_ + offset_``).
        n_features_in_: ``w_dim``.
        n_samples_fit_: samples used for fitting (after the confident-fraction selection).

    Example:
        >>> rng = np.random.RandomState(0)
        >>> W = rng.randn(2000, 16)
        >>> y = (W[:, 3] > 0).astype(float)
        >>> est = DirectionEstimator(method="logistic").fit(W, y)
        >>> int(np.argmax(np.abs(est.direction_)))
        3
    """

    def __init__(
        self,
        method: str = "svm",
        confident_fraction: float = 0.3,
        threshold: Optional[float] = None,
        C: float = 1.0,
        alpha: float = 1.0,
        orthogonal_to: Optional[ArrayLike] = None,
        test_size: float = 0.2,
        random_state: Optional[int] = 0,
    ):
        self.method = method
        self.confident_fraction = confident_fraction
        self.threshold = threshold
        self.C = C
        self.alpha = alpha
        self.orthogonal_to = orthogonal_to
        self.test_size = test_size
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting

    def _check(self, W: ArrayLike, y: ArrayLike):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if not 0 < self.confident_fraction:
            raise ValueError(f"confident_fraction must be > 0, got {self.confident_fraction}")
        if not 0 < self.test_size < 1:
            raise ValueError(f"test_size must be in (0, 1), got {self.test_size}")
        W = np.asarray(W, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if W.ndim != 2 or len(W) != len(y):
            raise ValueError(f"expected W [N, w_dim] and y [N], got {W.shape} and {y.shape}")
        if len(W) < 10:
            raise ValueError(f"need at least 10 samples to fit a direction, got {len(W)}")
        if not (np.isfinite(W).all() and np.isfinite(y).all()):
            raise ValueError("W and y must be finite (no NaN or inf); drop the samples the classifier could not score")
        return W, y

    def _classes(self, y: np.ndarray):
        """Pick confident samples and binarise: returns (indices, labels 0/1)."""
        binary = np.isin(np.unique(y), (0.0, 1.0)).all()
        threshold = 0.5 if binary and self.threshold is None else (
            float(np.median(y)) if self.threshold is None else float(self.threshold))
        if self.confident_fraction >= 0.5 or binary:
            index = np.arange(len(y))
        else:
            order = np.argsort(y, kind="stable")
            k = max(int(round(self.confident_fraction * len(y))), 2)
            index = np.concatenate([order[:k], order[-k:]])
        labels = (y[index] > threshold).astype(int)
        if labels.min() == labels.max():
            raise ValueError(f"all selected samples fall on one side of the threshold {threshold:.4g}; "
                             f"give a threshold inside the range of y or more varied samples")
        return index, labels

    def fit(self, W: ArrayLike, y: ArrayLike) -> "DirectionEstimator":
        """Fit the direction; returns self."""
        from sklearn.model_selection import train_test_split

        W, y = self._check(W, y)
        if self.method == "ridge":
            index, target = np.arange(len(y)), y
            stratify = None
        else:
            index, target = self._classes(y)
            stratify = target
        X = W[index]
        X_train, X_test, y_train, y_test = train_test_split(X, target, test_size=self.test_size,
                                                            random_state=self.random_state, stratify=stratify)
        model, raw, score = self._fit_model(X_train, y_train, X_test, y_test)
        self.model_ = model
        self.score_ = float(score)
        self.direction_ = project_out(raw, self.orthogonal_to)
        projections = W @ self.direction_
        self.projection_std_ = float(projections.std())
        self.offset_ = float(-self._boundary_position(target, projections[index]))
        self.n_features_in_ = W.shape[1]
        self.n_samples_fit_ = len(index)
        return self

    def _fit_model(self, X_train, y_train, X_test, y_test):
        if self.method == "svm":
            from sklearn.svm import LinearSVC

            model = LinearSVC(C=self.C, random_state=self.random_state).fit(X_train, y_train)
            return model, model.coef_[0], model.score(X_test, y_test)
        if self.method == "logistic":
            from sklearn.linear_model import LogisticRegression

            model = LogisticRegression(C=self.C, max_iter=2000, random_state=self.random_state).fit(X_train, y_train)
            return model, model.coef_[0], model.score(X_test, y_test)
        if self.method == "ridge":
            from sklearn.linear_model import Ridge

            model = Ridge(alpha=self.alpha).fit(X_train, y_train)
            return model, model.coef_, model.score(X_test, y_test)
        # mean_diff: the boundary is the perpendicular bisector of the class means.
        mean_pos, mean_neg = X_train[y_train == 1].mean(axis=0), X_train[y_train == 0].mean(axis=0)
        raw = mean_pos - mean_neg
        midpoint = (mean_pos + mean_neg) / 2
        predicted = ((X_test - midpoint) @ raw > 0).astype(int)
        return None, raw, (predicted == y_test).mean()

    def _boundary_position(self, target, projections) -> float:
        """Where along ``direction_`` the classes meet (the target's mean for ridge)."""
        if self.method == "ridge":
            return float(np.median(projections))
        return float((projections[target == 1].mean() + projections[target == 0].mean()) / 2)

    # ------------------------------------------------------------------ using

    def _check_fitted(self) -> None:
        if not hasattr(self, "direction_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this DirectionEstimator is not fitted yet; call fit(W, y) first")

    def decision_function(self, W: ArrayLike) -> np.ndarray:
        """Signed distance of each latent ``[N, w_dim]`` from the boundary along ``direction_``, ``[N]``."""
        self._check_fitted()
        W = np.asarray(W, dtype=np.float64)
        if W.ndim != 2 or W.shape[1] != self.n_features_in_:
            raise ValueError(f"expected W [N, {self.n_features_in_}], got {W.shape}")
        return W @ self.direction_ + self.offset_
