"""Alerts against ground truth: detection rate per attack kind and false alarms.

Ground truth is the simulator's event list (``truth.json`` ``events``, or
``keyguard.sim`` ``TruthEvent`` objects): attack events carry the contract's alert kinds,
``press`` and ``benign`` events are the traffic that must not raise alarms. An attack event is
detected when an alert of the same kind overlaps its span widened by ``slack_s``; an alert that
overlaps no event of its kind is a false alarm. Benign time is the capture's duration outside
every attack event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from keyguard.events import ALERT_KINDS, Alert


def _get(ev: Any, name: str) -> Any:
    return ev[name] if isinstance(ev, Mapping) else getattr(ev, name)


@dataclass
class KindScore:
    events: int = 0
    detected: int = 0
    alerts: int = 0
    false_alarms: int = 0

    @property
    def detection_rate(self) -> float | None:
        return self.detected / self.events if self.events else None

    def to_dict(self) -> dict:
        return {"events": self.events, "detected": self.detected,
                "detection_rate": self.detection_rate, "alerts": self.alerts,
                "false_alarms": self.false_alarms}


@dataclass
class Score:
    """Per-kind scores, missed events and false alarms (for reports), benign seconds."""

    kinds: dict = field(default_factory=lambda: {k: KindScore() for k in ALERT_KINDS})
    missed: list = field(default_factory=list)
    false_alarms: list = field(default_factory=list)
    benign_s: float = 0.0

    def add(self, other: "Score") -> "Score":
        for k, s in other.kinds.items():
            mine = self.kinds.setdefault(k, KindScore())
            mine.events += s.events
            mine.detected += s.detected
            mine.alerts += s.alerts
            mine.false_alarms += s.false_alarms
        self.missed += other.missed
        self.false_alarms += other.false_alarms
        self.benign_s += other.benign_s
        return self

    @property
    def false_alarms_per_hour(self) -> float | None:
        n = sum(s.false_alarms for s in self.kinds.values())
        return n / (self.benign_s / 3600.0) if self.benign_s > 0 else None

    def to_dict(self) -> dict:
        return {"kinds": {k: s.to_dict() for k, s in self.kinds.items() if s.events or s.alerts},
                "false_alarms": sum(s.false_alarms for s in self.kinds.values()),
                "benign_s": self.benign_s, "false_alarms_per_hour": self.false_alarms_per_hour}


def score_alerts(alerts: Iterable[Alert], events: Iterable[Any], duration_s: float,
                 slack_s: float = 2.0) -> Score:
    """Score one capture's alerts against its truth events (times in s from its start)."""
    alerts = list(alerts)
    attacks = [e for e in events if _get(e, "kind") in ALERT_KINDS]
    sc = Score()
    for e in attacks:
        k = _get(e, "kind")
        sc.kinds[k].events += 1
        lo, hi = _get(e, "t") - slack_s, _get(e, "t_end") + slack_s
        if any(a.kind == k and a.t <= hi and a.t_end >= lo for a in alerts):
            sc.kinds[k].detected += 1
        else:
            sc.missed.append({"kind": k, "t": _get(e, "t"), "t_end": _get(e, "t_end"),
                              "source": _get(e, "source")})
    # an alert that a later one escalates (a replay that became a RollBack) is part of that
    # later alert's decision, not a false alarm of its own
    superseded = {(e.get("capture"), e.get("t"), e.get("kind"))
                  for a in alerts for e in (a.evidence or {}).get("escalates", ())}
    for a in alerts:
        sc.kinds.setdefault(a.kind, KindScore()).alerts += 1
        if (a.capture, a.t, a.kind) in superseded:
            continue
        hit = any(_get(e, "kind") == a.kind and a.t <= _get(e, "t_end") + slack_s
                  and a.t_end >= _get(e, "t") - slack_s for e in attacks)
        if not hit:
            sc.kinds[a.kind].false_alarms += 1
            sc.false_alarms.append({"kind": a.kind, "t": a.t, "t_end": a.t_end,
                                    "summary": a.summary})
    # benign time: the capture outside the union of attack spans
    spans = sorted((_get(e, "t"), _get(e, "t_end")) for e in attacks)
    covered, end = 0.0, float("-inf")
    for a, b in spans:
        a, b = max(a, 0.0), min(b, duration_s)
        if b > end:
            covered += b - max(a, end)
            end = b
    sc.benign_s = max(0.0, duration_s - covered)
    return sc
