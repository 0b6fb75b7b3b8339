"""The detector interface, the context detectors share, and how alerts are built.

Every detector is a small streaming object. The :class:`~keyguard.detect.engine.DetectionEngine`
calls, in timeline order:

- ``observe_burst(obs, ctx)`` for every burst with the packets decoded from it;
- ``observe_press(press, ctx)`` for every completed press (frames of one code grouped);
- ``advance(now, ctx)`` whenever timeline time moves on, so a detector can close what it waits on;
- ``end_capture(ctx)`` at the end of each capture and ``flush(ctx)`` at the end of the run.

Each returns a list of :class:`~keyguard.events.Alert`. Detectors keep their own bounded
memory; what must outlive a run goes through ``ctx.state``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from keyguard.detect.codes import CodeMemory
from keyguard.detect.config import DetectConfig
from keyguard.detect.fingerprint import FingerprintMemory
from keyguard.detect.jamlog import JamLog
from keyguard.detect.observation import CaptureInfo, Observation
from keyguard.detect.presses import Press
from keyguard.detect.profiles import ProfileIndex
from keyguard.events import Alert, time_at
from keyguard.state import State


@dataclass
class DetectionContext:
    """What detectors share: thresholds, memories, the current capture, the optional state file
    and models (``models``: ``keyguard.models`` objects keyed by role, e.g. ``"burst"``)."""

    config: DetectConfig
    profiles: ProfileIndex
    codes: CodeMemory
    jams: JamLog
    fingerprints: FingerprintMemory
    state: State | None = None
    models: dict = field(default_factory=dict)
    capture: CaptureInfo | None = None
    handle: int = -1
    captures: dict = field(default_factory=dict)  # handle -> CaptureInfo
    now: float = float("-inf")                    # latest timeline time released (s)
    #: how long (s) after its last frame a press may still be growing: decisions that wait for
    #: "the next press" wait this much longer
    press_latency_s: float = 1.0


class Detector:
    """Base class: every hook defaults to "no alert"."""

    #: alert kinds this detector can raise
    kinds: tuple[str, ...] = ()

    def observe_burst(self, obs: Observation, ctx: DetectionContext) -> list[Alert]:
        return []

    def observe_press(self, press: Press, ctx: DetectionContext) -> list[Alert]:
        return []

    def advance(self, now: float, ctx: DetectionContext) -> list[Alert]:
        return []

    def end_capture(self, ctx: DetectionContext) -> list[Alert]:
        return []

    def flush(self, ctx: DetectionContext) -> list[Alert]:
        return []


def make_alert(kind: str, capture: CaptureInfo, t: float, t_end: float, severity: str,
               confidence: float, summary: str, identity: str | None = None,
               evidence: dict[str, Any] | None = None) -> Alert:
    """An alert on ``capture`` over [t, t_end] (s from its first sample), ISO time filled in."""
    conf = min(1.0, max(0.0, float(confidence)))
    return Alert(kind=kind, capture=capture.name, t=float(t), t_end=float(max(t, t_end)),
                 severity=severity, confidence=conf, summary=summary, identity=identity,
                 evidence=dict(evidence or {}), time=time_at(capture.start_time, t))


def fmt_s(x: float) -> str:
    """Seconds for summaries: ``0.84 s``, ``12.3 s``, ``3.2 h``."""
    x = float(x)
    if abs(x) >= 7200:
        return f"{x / 3600:.1f} h"
    if abs(x) >= 120:
        return f"{x / 60:.1f} min"
    if abs(x) >= 10:
        return f"{x:.1f} s"
    return f"{x:.2f} s"



def fmt_since(press, earlier) -> str | None:
    """How long before ``press`` the sighting ``earlier`` was (``"2.40 s"``), or None when it
    cannot be known: the two are in different captures and one of them has no start time, so
    their distance on the timeline is a placeholder."""
    same = earlier.capture == press.capture.name
    if not same and not (earlier.dated and press.capture.start_time is not None):
        return None
    return fmt_s(press.abs_t - earlier.abs_t)
