"""Per-identity one-class fingerprint models (as in HODOR, Joo et al., NDSS 2020).

One model per transmitter identity, trained on that transmitter's genuine bursts only (the
owner's enrolled presses and the ones seen since): a new burst is an inlier if it looks like
them. Features are standardised per identity with a spread never below the measurement floor
of each feature (``floors``), so a fob whose enrolment happened to be very consistent does not
make every later press an outlier. Estimator: a one-class SVM (RBF kernel) or an isolation
forest.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.ensemble import IsolationForest
from sklearn.svm import OneClassSVM
from sklearn.utils.validation import check_is_fitted

from keyguard.features.vector import FEATURE_NAMES, FINGERPRINT_FEATURES, feature_index
from keyguard.models.burst import check_features

#: default measurement floors (units of each feature; te_us and fsk_deviation_hz relative)
DEFAULT_FLOORS: dict[str, float] = {
    "cfo_ppm": 1.0, "te_us": 0.002, "rise_time_us": 1.5, "fall_time_us": 1.5,
    "droop_db": 0.2, "chirp_hz": 400.0, "fsk_deviation_hz": 0.02}
_RELATIVE = ("te_us", "fsk_deviation_hz")


class IdentityFingerprintModel(OutlierMixin, BaseEstimator):
    """One-class model of one transmitter's fingerprint, on full feature vectors.

    kind: "svm" (one-class SVM, ``nu``, ``gamma``) or "iforest" (isolation forest,
    ``n_estimators``). features: columns used (default ``FINGERPRINT_FEATURES``). floors:
    smallest spread per feature (default ``DEFAULT_FLOORS``). augment: about this many
    noisy copies (one floor of Gaussian noise) are added to the training bursts.
    random_state: seeds the augmentation and the forest. ``decision_function`` > 0 means
    inlier; ``predict`` gives +1 (the identity's own radio) or −1 (another radio).
    """

    def __init__(self, kind: str = "svm", nu: float = 0.02, gamma: str | float = 0.1,
                 n_estimators: int = 100, features: Sequence[str] | None = None,
                 floors: Mapping[str, float] | None = None, augment: int = 400,
                 random_state: int = 0):
        self.kind = kind
        self.nu = nu
        self.gamma = gamma
        self.n_estimators = n_estimators
        self.features = features
        self.floors = floors
        self.augment = augment
        self.random_state = random_state

    def fit(self, X, y=None) -> "IdentityFingerprintModel":
        if self.kind not in ("svm", "iforest"):
            raise ValueError(f"kind must be 'svm' or 'iforest', not {self.kind!r}")
        X = check_features(X, len(FEATURE_NAMES))
        if X.shape[0] < 2:
            raise ValueError("a fingerprint model needs at least 2 genuine bursts")
        names = tuple(FINGERPRINT_FEATURES if self.features is None else self.features)
        cols = feature_index(names)
        Z = X[:, cols]
        keep = np.isfinite(Z).any(axis=0)  # features this transmitter never shows (FSK on OOK)
        if not keep.any():
            raise ValueError("no fingerprint feature was measured on these bursts")
        cols, names, Z = cols[keep], tuple(n for n, k in zip(names, keep) if k), Z[:, keep]
        with np.errstate(all="ignore"):
            center = np.nanmedian(Z, axis=0)
            std = np.nanstd(Z, axis=0)
        floors = dict(DEFAULT_FLOORS, **(self.floors or {}))
        floor = np.array([floors.get(n, 0.0) * (abs(c) if n in _RELATIVE else 1.0)
                          for n, c in zip(names, center)])
        scale = np.maximum(np.nan_to_num(std), np.maximum(floor, 1e-12))
        self.columns_, self.feature_names_ = cols, np.array(names)
        self.center_, self.scale_ = center, scale
        S = self._standardise(X)
        # measurement-noise augmentation: each burst also stands for the bursts it could have
        # been within one floor of noise, so the boundary encloses what remeasuring the same
        # radio gives, not only the few bursts seen
        rng = np.random.default_rng(self.random_state)
        reps = max(1, int(np.ceil(self.augment / max(S.shape[0], 1))))
        S = np.vstack([S] + [S + rng.normal(0.0, 1.0, S.shape) for _ in range(reps)])
        if self.kind == "svm":
            self.model_ = OneClassSVM(kernel="rbf", nu=self.nu, gamma=self.gamma).fit(S)
        else:
            self.model_ = IsolationForest(n_estimators=self.n_estimators,
                                          random_state=self.random_state).fit(S)
        self.n_features_in_ = X.shape[1]
        return self

    def _standardise(self, X: np.ndarray) -> np.ndarray:
        Z = (X[:, self.columns_] - self.center_) / self.scale_
        return np.where(np.isfinite(Z), Z, 0.0)  # unmeasured: assume the identity's median

    def decision_function(self, X) -> np.ndarray:
        """> 0: looks like the identity's own radio; < 0: another radio."""
        check_is_fitted(self, "model_")
        X = check_features(X, self.n_features_in_)
        return self.model_.decision_function(self._standardise(X))

    def score_samples(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = check_features(X, self.n_features_in_)
        return self.model_.score_samples(self._standardise(X))

    def predict(self, X) -> np.ndarray:
        return np.where(self.decision_function(X) >= 0, 1, -1)
