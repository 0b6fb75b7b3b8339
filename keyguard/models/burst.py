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

import weakref
from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils.validation import check_array, check_is_fitted

from keyguard.features.vector import FEATURE_NAMES, feature_index

BURST_CLASSES: tuple[str, ...] = ("genuine", "regenerated_replay", "raw_replay", "relayed",
                                  "jammer", "other")

#: the classifier's inputs: every feature but those tied to one device or one distance, and the
#: front end's channel filter (a setting of this receiver, sized from the burst's bandwidth)
CLASSIFIER_FEATURES: tuple[str, ...] = tuple(
    n for n in FEATURE_NAMES
    if n not in ("cfo_hz", "cfo_ppm", "rssi_db", "duration_ms", "channel_bw_hz"))


def check_features(X, n_features: int, what: str = "X") -> np.ndarray:
    """A float64 (n, n_features) matrix; NaN allowed (not measurable), ±inf refused."""
    if not (isinstance(X, np.ndarray) and X.dtype == np.float64 and X.ndim == 2
            and X.shape[0] > 0 and not np.isinf(X).any()):
        # the detectors' rows are already clean float64; anything else gets sklearn's checks
        X = check_array(X, dtype=np.float64, ensure_all_finite="allow-nan", input_name=what)
    if X.shape[1] != n_features:
        raise ValueError(f"{what} has {X.shape[1]} features; expected {n_features} "
                         "(keyguard.features.FEATURE_NAMES order)")
    return X


def _prefix(X, n_features: int):
    """The first ``n_features`` columns of full feature vectors of a newer feature set.

    Features are only ever appended (``keyguard.features.vector``), so a model trained on an
    earlier set reads the same columns from the front of today's vectors; anything else is
    passed on unchanged for ``check_features`` to refuse."""
    X = np.asarray(X) if not hasattr(X, "shape") else X
    if X.ndim == 2 and X.shape[1] == len(FEATURE_NAMES) and n_features < X.shape[1]:
        return X[:, :n_features]
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

    def prepare(self) -> "BurstClassifier":
        """Lay the fitted trees out for prediction now (≈ 15 ms) rather than at the first call."""
        check_is_fitted(self, "model_")
        _flat_trees(self.model_)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """(n, n_classes) probabilities, columns in ``classes_`` order."""
        check_is_fitted(self, "model_")
        X = check_features(_prefix(X, self.n_features_in_), self.n_features_in_)
        return _flat_trees(self.model_).predict_proba(X[:, self.columns_])

    def predict(self, X) -> np.ndarray:
        p = self.predict_proba(X)
        return self.classes_[np.argmax(p, axis=1)]


class FlatTrees:
    """A fitted ``HistGradientBoostingClassifier``'s trees as flat arrays, walked for every tree
    at once.

    The detectors ask for one burst at a time; scikit-learn then walks its 900 trees one Python
    call each (≈ 9 ms a row, and more while it starts OpenMP threads). Here each level of all
    trees is one numpy step (≈ 1 ms a row). Splits follow scikit-learn's rule on raw values:
    NaN goes the node's missing-value side, else left when ``x <= threshold``; raw scores add up
    from the baseline in iteration order, then the softmax, so the probabilities equal
    scikit-learn's to rounding (``tests/test_models_burst.py`` checks it).
    """

    def __init__(self, model: HistGradientBoostingClassifier):
        check_is_fitted(model, "_predictors")
        predictors = model._predictors
        self.n_iter = len(predictors)
        self.n_classes = len(predictors[0])
        cols: dict[str, list] = {k: [] for k in ("feature", "threshold", "missing_left", "left",
                                                  "right", "leaf", "value")}
        roots, offset, depth = [], 0, 0
        for per_class in predictors:
            for tree in per_class:
                nodes = tree.nodes
                if nodes["is_categorical"].any():
                    raise ValueError("categorical splits are not supported by FlatTrees")
                roots.append(offset)
                cols["feature"].append(nodes["feature_idx"].astype(np.intp))
                cols["threshold"].append(nodes["num_threshold"].astype(np.float64))
                cols["missing_left"].append(nodes["missing_go_to_left"].astype(bool))
                cols["left"].append(nodes["left"].astype(np.intp) + offset)
                cols["right"].append(nodes["right"].astype(np.intp) + offset)
                cols["leaf"].append(nodes["is_leaf"].astype(bool))
                cols["value"].append(nodes["value"].astype(np.float64))
                depth = max(depth, int(nodes["depth"].max()))
                offset += len(nodes)
        flat = {k: np.concatenate(v) for k, v in cols.items()}
        # a leaf is its own child either way, so every tree can take ``depth`` steps; a node's
        # children sit side by side: child[2·node] left, child[2·node + 1] right
        leaf = flat["leaf"]
        own = np.flatnonzero(leaf)
        flat["left"][own] = own
        flat["right"][own] = own
        flat["feature"][own] = 0
        self.child = np.stack([flat["left"], flat["right"]], axis=1).ravel()
        self.feature, self.threshold = flat["feature"], flat["threshold"]
        self.missing_left, self.value = flat["missing_left"], flat["value"]
        self.roots = np.asarray(roots, dtype=np.intp)
        self.depth = depth
        self.baseline = np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1)

    def raw_predict(self, X: np.ndarray) -> np.ndarray:
        """(n, n_classes) raw scores of rows ``X`` (already reduced to the model's columns)."""
        X = np.asarray(X, dtype=np.float64)
        n = X.shape[0]
        node = np.broadcast_to(self.roots, (n, self.roots.size)).copy()
        rows = np.arange(n)[:, None]
        for _ in range(self.depth):
            x = X[rows, self.feature[node]]
            # NaN compares false: it goes right unless the node sends missing values left
            go_right = ~((x <= self.threshold[node]) | (np.isnan(x) & self.missing_left[node]))
            node = self.child[2 * node + go_right]
        terms = np.empty((n, self.n_iter + 1, self.n_classes))
        terms[:, 0, :] = self.baseline
        terms[:, 1:, :] = self.value[node].reshape(n, self.n_iter, self.n_classes)
        # add.accumulate sums strictly left to right: scikit-learn's order of addition (a plain
        # sum would pair terms up and round differently)
        return np.add.accumulate(terms, axis=1)[:, -1, :]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        raw = self.raw_predict(X)
        if self.n_classes == 1:  # binary: one score, the logistic
            p1 = 1.0 / (1.0 + np.exp(-raw[:, 0]))
            return np.column_stack([1.0 - p1, p1])
        e = np.exp(raw - raw.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


# flattened once per fitted model, kept outside the estimator so nothing extra is saved with it
_FLAT: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _flat_trees(model: HistGradientBoostingClassifier) -> FlatTrees:
    flat = _FLAT.get(model)
    if flat is None:
        flat = _FLAT[model] = FlatTrees(model)
    return flat
