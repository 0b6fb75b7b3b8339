"""Trained models: the burst classifier and per-identity one-class fingerprint models, stored
without pickle (:mod:`keyguard.models.store`)."""

from keyguard.models.burst import BURST_CLASSES, CLASSIFIER_FEATURES, BurstClassifier
from keyguard.models.identity import IdentityFingerprintModel
from keyguard.models.store import DEFAULT_MODEL, TRUSTED_TYPES, default_models, \
    load_burst_model, load_model, save_model

__all__ = ["BURST_CLASSES", "CLASSIFIER_FEATURES", "BurstClassifier", "IdentityFingerprintModel",
           "DEFAULT_MODEL", "TRUSTED_TYPES", "default_models", "load_burst_model", "load_model",
           "save_model"]
