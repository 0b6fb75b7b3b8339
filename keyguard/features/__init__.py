"""RF-fingerprint features of a burst: a fixed, named vector (``FEATURE_NAMES``) measured from
the burst's channelised IQ by :func:`burst_features`."""

from keyguard.features.extract import burst_features, features_from_burst
from keyguard.features.vector import FEATURE_NAMES, FEATURES, FINGERPRINT_FEATURES, \
    FeatureVector, feature_matrix

__all__ = ["FEATURES", "FEATURE_NAMES", "FINGERPRINT_FEATURES", "FeatureVector",
           "burst_features", "feature_matrix", "features_from_burst"]
