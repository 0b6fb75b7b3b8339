"""The trained burst classifier's verdict on a press (when a model is loaded).

The classifier (``keyguard.models.BurstClassifier``, role ``"burst"`` in the engine's models)
gives each burst class probabilities — genuine fob, regenerated replay, raw-IQ replay, relayed,
jammer, other. A press's verdict is the mean over its frames; it is computed once and kept in
``press.notes["burst_class"]`` for every detector that wants it. A single burst's verdict is
kept in ``burst.extra["burst_class"]`` the same way (jamming, relay and RollJam all ask).
"""

from __future__ import annotations

import numpy as np

from keyguard.detect.base import DetectionContext
from keyguard.detect.observation import BurstInfo
from keyguard.detect.presses import Press
from keyguard.features.vector import feature_matrix


def press_classes(press: Press, ctx: DetectionContext) -> dict[str, float] | None:
    """Class → mean probability over the press's frames, or None without model or features."""
    if "burst_class" in press.notes:
        return press.notes["burst_class"]
    model = ctx.models.get("burst")
    if model is None or not press.features:
        return None
    proba = model.predict_proba(feature_matrix(press.features))
    mean = np.mean(proba, axis=0)
    out = {str(c): float(p) for c, p in zip(model.classes_, mean)}
    press.notes["burst_class"] = out
    return out


def burst_classes(burst: BurstInfo, ctx: DetectionContext) -> dict[str, float] | None:
    """Class → probability for one burst, or None without model or features (computed once)."""
    if "burst_class" in burst.extra:
        return burst.extra["burst_class"]
    model = ctx.models.get("burst")
    if model is None or burst.features is None:
        return None
    proba = model.predict_proba(burst.features.values[None, :])[0]
    out = {str(c): float(p) for c, p in zip(model.classes_, proba)}
    burst.extra["burst_class"] = out
    return out
