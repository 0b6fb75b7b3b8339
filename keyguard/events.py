"""Records of the JSON Lines event contract (``shared/contract/events.md``).

``CaptureRecord``, ``Packet``, ``Alert`` and ``Summary`` are what the library returns and what
``--format jsonl`` prints. ``to_dict()`` gives the contract's fields in the contract's order (plus
keyguard's additions after them); ``to_json()`` is the one serialisation, deterministic: the same
record always gives the same bytes. Times are rounded to 0.1 µs, levels to 0.01 dB, frequencies
to 1 Hz, so that float noise cannot leak into the output.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

ALERT_KINDS = ("jamming", "replay", "rolljam", "rollback", "relay", "clone", "bruteforce")
SEVERITIES = ("info", "low", "medium", "high", "critical")


def severity_rank(severity: str) -> int:
    """0 for ``info`` up to 4 for ``critical``."""
    return SEVERITIES.index(severity)


def _r(x: float | None, digits: int) -> float | None:
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    v = round(x, digits)
    return 0.0 if v == 0 else v  # no "-0.0"


def iso_utc(dt: datetime | None) -> str | None:
    """ISO-8601 UTC with microseconds and a Z suffix, or None."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def time_at(start: datetime | None, t: float) -> str | None:
    """The ISO instant of ``t`` seconds after ``start`` (None when the start is unknown)."""
    if start is None:
        return None
    return iso_utc(start + timedelta(seconds=float(t)))


def _plain(v: Any) -> Any:
    """JSON-safe, deterministic version of a field value (numpy scalars, tuples, dicts...)."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, float):
        return _r(v, 6)
    if isinstance(v, datetime):
        return iso_utc(v)
    return v


def dumps(record: dict) -> str:
    """The one JSON serialisation used for every output line."""
    return json.dumps(_plain(record), ensure_ascii=False, separators=(", ", ": "), allow_nan=False)


@dataclass
class CaptureRecord:
    capture: str
    sha256: str | None
    format: str
    sample_rate: float
    center_freq: float | None
    start_time: datetime | None
    duration: float | None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = {
            "type": "capture",
            "capture": self.capture,
            "sha256": self.sha256,
            "format": self.format,
            "sample_rate": _r(self.sample_rate, 3),
            "center_freq": _r(self.center_freq, 1),
            "start_time": iso_utc(self.start_time),
            "duration": _r(self.duration, 7),
        }
        d.update(self.extra)
        return d

    def to_json(self) -> str:
        return dumps(self.to_dict())


@dataclass
class Packet:
    """One decoded (or framed but unmatched) transmission."""

    capture: str
    t: float
    t_end: float
    modulation: str
    protocol: str
    bits: int
    data: str
    identity: str | None = None
    code: str | None = None
    fields: dict = field(default_factory=dict)
    integrity: str = "none"
    rssi_db: float | None = None
    snr_db: float | None = None
    freq_hz: float | None = None
    time: str | None = None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = {
            "type": "packet",
            "capture": self.capture,
            "t": _r(self.t, 7),
            "t_end": _r(self.t_end, 7),
            "time": self.time,
            "freq_hz": _r(self.freq_hz, 0),
            "modulation": self.modulation,
            "protocol": self.protocol,
            "bits": int(self.bits),
            "data": self.data,
            "identity": self.identity,
            "code": self.code,
            "fields": _plain(self.fields),
            "integrity": self.integrity,
            "rssi_db": _r(self.rssi_db, 2),
            "snr_db": _r(self.snr_db, 2),
        }
        d.update(_plain(self.extra))
        return d

    def to_json(self) -> str:
        return dumps(self.to_dict())


@dataclass
class Alert:
    kind: str
    capture: str
    t: float
    t_end: float
    severity: str
    confidence: float
    summary: str
    identity: str | None = None
    evidence: dict = field(default_factory=dict)
    time: str | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in ALERT_KINDS:
            raise ValueError(f"unknown alert kind {self.kind!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")
        if not 0.0 <= float(self.confidence) <= 1.0:
            raise ValueError("confidence must be within 0..1")

    def to_dict(self) -> dict:
        d = {
            "type": "alert",
            "kind": self.kind,
            "capture": self.capture,
            "t": _r(self.t, 7),
            "t_end": _r(self.t_end, 7),
            "time": self.time,
            "severity": self.severity,
            "confidence": _r(self.confidence, 4),
            "identity": self.identity,
            "summary": self.summary,
            "evidence": _plain(self.evidence),
        }
        d.update(_plain(self.extra))
        return d

    def to_json(self) -> str:
        return dumps(self.to_dict())


@dataclass
class Summary:
    captures: int
    packets: int
    alerts: int
    alerts_by_kind: dict
    elapsed_s: float
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = {
            "type": "summary",
            "captures": int(self.captures),
            "packets": int(self.packets),
            "alerts": int(self.alerts),
            "alerts_by_kind": {k: int(v) for k, v in sorted(self.alerts_by_kind.items())},
            "elapsed_s": _r(self.elapsed_s, 3),
        }
        d.update(_plain(self.extra))
        return d

    def to_json(self) -> str:
        return dumps(self.to_dict())
