"""The contract records a report is built from, read and checked.

A report takes the ``capture``/``packet``/``alert``/``summary`` records of a scan, either as
:mod:`keyguard.events` objects straight from the pipeline or as dicts parsed from
``keyguard scan --format jsonl`` output. Everything becomes the contract's dict form here, so the
rest of the report reads one shape. Records of types a later keyguard may add are kept aside, not
refused (the contract lets fields and records be added).
"""

from __future__ import annotations

import bisect
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from keyguard.errors import InputError
from keyguard.events import ALERT_KINDS, SEVERITIES, Alert, CaptureRecord, Packet, Summary

_EVENT_TYPES = (CaptureRecord, Packet, Alert, Summary)


class RecordsError(InputError):
    """A records file (JSON Lines) or record is not what ``keyguard scan --format jsonl`` writes."""


@dataclass
class ReportRecords:
    """A scan's records by type, in the order received."""

    captures: list[dict] = field(default_factory=list)
    packets: list[dict] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)
    summary: dict | None = None
    other: int = 0  # records of types this report does not draw

    def capture_record(self, name: str) -> dict | None:
        for c in self.captures:
            if c["capture"] == name:
                return c
        return None


def as_record(rec: Any, where: str = "record") -> dict:
    """The contract dict of a record (events object or dict), checked for the fields a report
    needs; RecordsError names ``where`` (e.g. ``file.jsonl: line 12``) otherwise."""
    if isinstance(rec, _EVENT_TYPES):
        return rec.to_dict()
    if not isinstance(rec, dict):
        raise RecordsError(f"{where}: expected a JSON object, got {type(rec).__name__}")
    kind = rec.get("type")
    if kind == "packet":
        _need(rec, where, ("capture", "t"))
        _number(rec, where, "t")
        if rec.get("t_end") is None:
            rec = dict(rec, t_end=rec["t"])
        _number(rec, where, "t_end")
    elif kind == "alert":
        _need(rec, where, ("kind", "capture", "t", "severity"))
        _number(rec, where, "t")
        if rec.get("t_end") is None:
            rec = dict(rec, t_end=rec["t"])
        _number(rec, where, "t_end")
        if rec["severity"] not in SEVERITIES:
            raise RecordsError(f"{where}: unknown alert severity {str(rec['severity'])[:40]!r}",
                               hint=f"one of {', '.join(SEVERITIES)}")
        if rec["kind"] not in ALERT_KINDS:
            raise RecordsError(f"{where}: unknown alert kind {str(rec['kind'])[:40]!r}",
                               hint=f"one of {', '.join(ALERT_KINDS)}")
        if not isinstance(rec.get("evidence", {}), dict):
            raise RecordsError(f"{where}: alert evidence must be an object")
    elif kind == "capture":
        _need(rec, where, ("capture",))
    return rec


def _need(rec: dict, where: str, keys: tuple[str, ...]) -> None:
    for k in keys:
        if rec.get(k) is None:
            raise RecordsError(f"{where}: {rec.get('type')} record has no {k!r}",
                               hint="records must come from `keyguard scan --format jsonl`")


def _number(rec: dict, where: str, key: str) -> None:
    v = rec.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise RecordsError(f"{where}: {rec.get('type')} field {key!r} is not a number")


def collect(records: Iterable[Any]) -> ReportRecords:
    """Sort a stream of records (events objects or dicts) by type."""
    out = ReportRecords()
    for i, rec in enumerate(records):
        d = as_record(rec, f"record {i + 1}")
        kind = d.get("type")
        if kind == "capture":
            out.captures.append(d)
        elif kind == "packet":
            out.packets.append(d)
        elif kind == "alert":
            out.alerts.append(d)
        elif kind == "summary":
            out.summary = d
        else:
            out.other += 1
    return out


def read_jsonl(path: str | Path) -> Iterator[dict]:
    """Records from a ``keyguard scan --format jsonl`` file, checked line by line."""
    p = Path(path)
    try:
        f = open(p, "rb")
    except FileNotFoundError:
        raise RecordsError("records file not found", p) from None
    except OSError as e:
        raise RecordsError(f"cannot read records file: {e.strerror}", p) from None
    with f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                raise RecordsError(f"line {n} is not UTF-8 text", p,
                                   "give the output of `keyguard scan --format jsonl`") from None
            except json.JSONDecodeError as e:
                raise RecordsError(f"line {n} is not JSON ({e.msg})", p,
                                   "give the output of `keyguard scan --format jsonl`") from None
            yield as_record(rec, f"{p}: line {n}")


# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EvidenceRef:
    """A place in a capture that an alert's evidence points at (``first_seen``, ``replay``...)."""

    label: str
    capture: str
    t: float
    t_end: float


def evidence_refs(evidence: dict, limit: int = 12) -> list[EvidenceRef]:
    """Every ``{capture, t[, t_end]}`` object inside ``evidence`` (depth-first, in key order),
    labelled by its path (``first_seen``, ``replays[1].first_seen``); duplicates dropped."""
    out: list[EvidenceRef] = []
    seen: set[tuple] = set()

    def walk(v: Any, label: str) -> None:
        if len(out) >= limit:
            return
        if isinstance(v, dict):
            t = v.get("t")
            if isinstance(v.get("capture"), str) and isinstance(t, (int, float)) \
                    and not isinstance(t, bool) and math.isfinite(t):
                te = v.get("t_end")
                te = float(te) if isinstance(te, (int, float)) and not isinstance(te, bool) \
                    and math.isfinite(te) else float(t)
                key = (v["capture"], round(float(t), 7), round(te, 7))
                if key not in seen:
                    seen.add(key)
                    out.append(EvidenceRef(label or "evidence", v["capture"], float(t),
                                           max(float(t), te)))
            for k, x in v.items():
                walk(x, f"{label}.{k}" if label else str(k))
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, f"{label}[{i}]")

    walk(evidence, "")
    return out


def flatten(evidence: Any, prefix: str = "", limit: int = 200) -> list[tuple[str, Any]]:
    """(dotted key, scalar value) pairs of a nested evidence object, for a two-column table."""
    out: list[tuple[str, Any]] = []

    def walk(v: Any, key: str) -> None:
        if len(out) >= limit:
            return
        if isinstance(v, dict) and v:
            for k, x in v.items():
                walk(x, f"{key}.{k}" if key else str(k))
        elif isinstance(v, list) and v and any(isinstance(x, (dict, list)) for x in v):
            for i, x in enumerate(v):
                walk(x, f"{key}[{i}]")
        else:
            out.append((key, v))

    walk(evidence, prefix)
    return out


class PacketIndex:
    """Packets of each capture sorted by time, to find those inside a span."""

    def __init__(self, packets: list[dict]):
        self._by: dict[str, tuple[list[float], list[int]]] = {}
        order = sorted(range(len(packets)), key=lambda i: (str(packets[i]["capture"]),
                                                          float(packets[i]["t"]), i))
        for i in order:
            ts, ix = self._by.setdefault(str(packets[i]["capture"]), ([], []))
            ts.append(float(packets[i]["t"]))
            ix.append(i)
        self._packets = packets

    def within(self, capture: str, t0: float, t1: float, slack_s: float = 1e-4) -> list[int]:
        """Indices (into the packet list) of packets of ``capture`` starting in [t0, t1]."""
        ts, ix = self._by.get(capture, ([], []))
        a = bisect.bisect_left(ts, t0 - slack_s)
        b = bisect.bisect_right(ts, t1 + slack_s)
        return ix[a:b]
