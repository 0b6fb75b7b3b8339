"""Detectors: jamming, replay, RollJam, RollBack, brute force, clone and relay, run over the
bursts and packets of several captures on one timeline by :class:`DetectionEngine`.

See :mod:`keyguard.detect.engine` for how a pipeline drives the engine, and
:class:`DetectConfig` for every threshold.
"""

from keyguard.detect.base import DetectionContext, Detector
from keyguard.detect.config import DetectConfig
from keyguard.detect.engine import DetectionEngine, default_detectors
from keyguard.detect.observation import BurstInfo, CaptureInfo, Observation, order_captures

__all__ = ["BurstInfo", "CaptureInfo", "DetectConfig", "DetectionContext", "DetectionEngine",
           "Detector", "Observation", "default_detectors", "order_captures"]
