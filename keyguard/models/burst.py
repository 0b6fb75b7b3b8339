"""The burst classifier: what kind of radio sent a burst.

Classes (``BURST_CLASSES``): ``genuine`` (a fob or remote sending its own frames),
``regenerated_replay`` (a CC1101/Flipper-style device re-sending demodulated bits with its own
clock and edges), ``raw_replay`` (a HackRF-style device re-sending recorded IQ, with the
recording's noise, DC spike and image), ``relayed`` (a fob's answer forwarded by a relay),
``jammer`` and ``other`` (sensors, doorbells, anything else).

A scikit-learn estimator (``fit``/``predict``/``predict_proba``/``score``, parameters in
``__init__``, checks in ``fit``) over the fixed feature vector of :mod:`keyguard.features`:
gradient-boosted trees, which take the NaN of unmeasurable features as information rather than
needing them filled in. Absolute carrier offset, level and duration are left out
(``CLASSIFIER_FEATURES``): they describe one device or one distance, not a class of radio.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils.validation import check_array, check_is_fitted
from threadpoolctl import threadpool_limits

from keyguard.features.vector import FEATURE_NAMES, feature_index

BURST_CLASSES: tuple[str, ...] = ("genuine", "regenerated_replay", "raw_replay", "relayed",
                                  "jammer", "other")

#: the classifier's inputs: every feature but those tied to one device or one distance
CLASSIFIER_FEATURES: tuple[str, ...] = tuple(
    n for n in FEATURE_NAMES if n not in ("cfo_hz", "cfo_ppm", "rssi_db", "duration_ms"))


def check_features(X, n_features: int, what: str = "X") -> np.ndarray:
    """A float64 (n, n_features) matrix; NaN allowed (not measurable), ±inf refused."""
    X = check_array(X, dtype=np.float64, ensure_all_finite="allow-nan", input_name=what)
    if X.shape[1] != n_features:
        raise ValueError(f"{what} has {X.shape[1]} features; expected {n_features} "
                         "(keyguard.features.FEATURE_NAMES order)")
    return X


class BurstClassifier(ClassifierMixin, BaseEstimator):
    """Gradient-boosted burst classifier on full feature vectors (``FEATURE_NAMES`` order).

    features: names of the columns used (default ``CLASSIFIER_FEATURES``). The other
    parameters go to :class:`sklearn.ensemble.HistGradientBoostingClassifier`; classes are
    balanced by default so that a rare attack class weighs as much as genuine traffic.
    """

    def __init__(self, features: Sequence[str] | None = None, max_iter: int = 150,
                 learning_rate: float = 0.08, max_leaf_nodes: int = 15,
                 min_samples_leaf: int = 10, l2_regularization: float = 1.0,
                 class_weight: str | dict | None = "balanced", random_state: int = 0):
        self.features = features
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.class_weight = class_weight
        self.random_state = random_state

    def _columns(self) -> np.ndarray:
        names = CLASSIFIER_FEATURES if self.features is None else tuple(self.features)
        unknown = [n for n in names if n not in FEATURE_NAMES]
        if unknown:
            raise ValueError(f"unknown feature name(s): {', '.join(unknown)}")
        return feature_index(names)

    def fit(self, X, y) -> "BurstClassifier":
        X = check_features(X, len(FEATURE_NAMES))
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y must be one label per row of X ({X.shape[0]}), got {y.shape}")
        if np.unique(y).size < 2:
            raise ValueError("y must hold at least two classes")
        cols = self._columns()
        self.model_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes, min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization, class_weight=self.class_weight,
            early_stopping=False, random_state=self.random_state)
        self.model_.fit(X[:, cols], y)
        self.columns_ = cols
        self.classes_ = self.model_.classes_
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X) -> np.ndarray:
        """(n, n_classes) probabilities, columns in ``classes_`` order."""
        check_is_fitted(self, "model_")
        X = check_features(X, self.n_features_in_)
        # a press is a handful of rows: starting OpenMP threads costs more than the trees
        with threadpool_limits(limits=1, user_api="openmp"):
            return self.model_.predict_proba(X[:, self.columns_])

    def predict(self, X) -> np.ndarray:
        p = self.predict_proba(X)
        return self.classes_[np.argmax(p, axis=1)]
