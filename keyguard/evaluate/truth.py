"""Ground truth of a capture: the simulator's ``truth.json`` or the capture's SigMF annotations.

A capture written by ``keyguard simulate`` carries its truth twice: ``truth.json`` beside it
(whose ``capture`` field names the file) and one SigMF annotation per event in its
``.sigmf-meta``. Either gives the same events (kind, span in s from the first sample, identity,
source, physical parameters); SigMF spans are whole samples, so they differ from ``truth.json``
by less than one sample. Annotations from other tools count when their ``core:label`` is an
alert kind, ``press`` or ``benign``.

A capture with no truth is refused (:class:`TruthError`) unless it is declared benign-only: then
it has no events, its whole duration is benign time and every alert on it is a false alarm.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from keyguard.errors import InputError
from keyguard.events import ALERT_KINDS
from keyguard.io.naming import EXTENSIONS
# the simulator's event type: truth read back from a file is the truth it wrote
from keyguard.sim.scenario import TruthEvent

#: Event kinds a truth file may hold: attacks (alert kinds), genuine presses, benign devices.
TRUTH_KINDS = frozenset(ALERT_KINDS) | {"press", "benign"}
TRUTH_FILE = "truth.json"
#: Where a capture's truth is read from: ``auto`` prefers truth.json, then SigMF annotations.
TRUTH_SOURCES = ("auto", "json", "sigmf")


class TruthError(InputError):
    """A capture has no usable ground truth, or its truth file is malformed."""


@dataclass
class Truth:
    """The truth of one capture. ``source`` is ``truth.json``, ``sigmf`` or ``benign`` (declared
    benign-only: no events). ``center_freq`` (Hz) places event carriers given as absolute
    frequencies; ``scenario``/``seed`` name a simulator run."""

    capture: str
    events: list[TruthEvent]
    source: str
    center_freq: float | None = None
    duration_s: float | None = None
    scenario: str | None = None
    seed: int | None = None

    @property
    def benign_only(self) -> bool:
        return self.source == "benign"


def event_offset_hz(ev: Any, center_freq: float | None) -> float | None:
    """An event's carrier as an offset (Hz) from the receiver's centre, as the receiver saw it
    (the simulator's ``baseband_offset_hz`` includes the tuner error), or None."""
    p = ev.params
    if p.get("baseband_offset_hz") is not None:
        return float(p["baseband_offset_hz"])
    if p.get("freq_hz") is not None and center_freq is not None:
        return float(p["freq_hz"]) - float(center_freq)
    return None


# ---------------------------------------------------------------------------------------------
def _truth_doc(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise TruthError(f"cannot read the truth file: {e}", path) from None
    except ValueError as e:
        raise TruthError(f"truth file is not valid JSON ({e})", path,
                         "write it again with `keyguard simulate`") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("events"), list):
        raise TruthError("truth file has no 'events' list", path,
                         "give a truth.json written by `keyguard simulate`")
    return doc


def _event(d: Any, where: Path, i: int) -> TruthEvent:
    try:
        kind = str(d["kind"])
        t, t_end = float(d["t"]), float(d["t_end"])
    except (KeyError, TypeError, ValueError):
        raise TruthError(f"event {i} needs kind, t and t_end", where) from None
    if kind not in TRUTH_KINDS:
        raise TruthError(f"event {i} has unknown kind {kind!r}", where,
                         f"use one of {', '.join(sorted(TRUTH_KINDS))}")
    params = d.get("params") or {}
    return TruthEvent(kind, t, t_end, d.get("identity"), str(d.get("source") or ""),
                      dict(params) if isinstance(params, dict) else {})


def truth_from_json(path: str | Path) -> Truth:
    """The truth in a ``truth.json`` (its ``capture`` names the data file beside it)."""
    p = Path(path)
    doc = _truth_doc(p)
    if not doc.get("capture"):
        raise TruthError("truth file does not name its capture", p,
                         "give a truth.json written by `keyguard simulate`")
    events = sorted((_event(e, p, i) for i, e in enumerate(doc["events"])),
                    key=lambda e: (e.t, e.t_end, e.kind))
    cf = doc.get("center_freq")
    return Truth(capture=str(p.parent / str(doc["capture"])), events=events, source=TRUTH_FILE,
                 center_freq=None if cf is None else float(cf),
                 duration_s=doc.get("duration_s"), scenario=doc.get("scenario"),
                 seed=doc.get("seed"))


def truth_from_annotations(capture: Any) -> Truth | None:
    """The truth in an opened capture's SigMF annotations (``keyguard.io.Capture``), or None
    when none of them is a truth event."""
    fs = float(capture.sample_rate)
    events = []
    for i, a in enumerate(capture.annotations or ()):
        kind = a.get("keyguard:kind", a.get("core:label"))
        if kind not in TRUTH_KINDS:
            continue
        start = int(a.get("core:sample_start", 0) or 0)
        count = int(a.get("core:sample_count", 0) or 0)
        params = dict(a.get("keyguard:params") or {})
        lo, hi = a.get("core:freq_lower_edge"), a.get("core:freq_upper_edge")
        if "freq_hz" not in params and lo is not None and hi is not None:
            params["freq_hz"] = 0.5 * (float(lo) + float(hi))
        events.append(TruthEvent(str(kind), start / fs, (start + count) / fs,
                                 a.get("keyguard:identity"), str(a.get("keyguard:source") or ""),
                                 params))
    if not events:
        return None
    events.sort(key=lambda e: (e.t, e.t_end, e.kind))
    return Truth(capture=capture.path, events=events, source="sigmf",
                 center_freq=capture.center_freq, duration_s=capture.duration)


def json_truth_for(capture_path: str | Path) -> Path | None:
    """``truth.json`` beside a capture when it names that capture, else None."""
    p = Path(capture_path)
    cand = p.parent / TRUTH_FILE
    if not cand.is_file():
        return None
    try:
        doc = json.loads(cand.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return cand  # malformed: truth_from_json reports it
    names = {p.name}
    if p.name.endswith(".sigmf-meta"):  # the simulator's sigmf pairs name their data file
        names.add(p.name[: -len(".sigmf-meta")] + ".sigmf-data")
    return cand if isinstance(doc, dict) and doc.get("capture") in names else None


def load_truth(capture: Any, *, source: str = "auto", benign: bool = False) -> Truth:
    """The ground truth of an opened capture (``keyguard.io.Capture``).

    source: ``auto`` (truth.json naming the capture, else its SigMF annotations), ``json`` or
    ``sigmf``. benign: the capture is declared benign-only (its own truth, if any, is ignored).
    Raises :class:`TruthError` when there is none.
    """
    if source not in TRUTH_SOURCES:
        raise ValueError(f"unknown truth source {source!r}; use one of {', '.join(TRUTH_SOURCES)}")
    path = capture.path
    if benign:
        return Truth(capture=path, events=[], source="benign", center_freq=capture.center_freq,
                     duration_s=capture.duration)
    if source in ("auto", "json"):
        tj = json_truth_for(path)
        if tj is not None:
            t = truth_from_json(tj)
            t.capture = path
            return t
        if source == "json":
            raise TruthError(f"no {TRUTH_FILE} naming this capture beside it", path,
                             "use --truth sigmf, or --benign if it holds no attack")
    t = truth_from_annotations(capture)
    if t is None:
        raise TruthError("no ground truth (no truth.json naming it, no SigMF truth annotations)",
                         path, "give simulator output, or --benign if the capture holds no attack")
    return t


# ---------------------------------------------------------------------------------------------
def _is_capture_file(p: Path) -> bool:
    name = p.name.lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    return ext in EXTENSIONS and not name.endswith(".sigmf-data")


def capture_files(paths: Iterable[str | Path]) -> list[str]:
    """The captures named by ``paths``: files as given; a directory contributes every capture
    file below it (sorted; a ``.sigmf-meta`` sidecar of a raw file and the ``.sigmf-data``
    half of a SigMF pair are not captures of their own); a ``truth.json`` its capture."""
    out: list[str] = []
    for given in paths:
        p = Path(given)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and _is_capture_file(f))
            raw_stems = {f.with_suffix("") for f in found if not f.name.endswith(".sigmf-meta")}
            found = [f for f in found
                     if not (f.name.endswith(".sigmf-meta") and f.with_suffix("") in raw_stems)]
            if not found:
                raise TruthError("directory holds no capture files", p,
                                 "name .cu8/.cs16/.cf32/.sigmf-meta/.sub/.ook files or their folder")
            out += [str(f) for f in found]
        elif p.name == TRUTH_FILE:
            out.append(truth_from_json(p).capture)
        else:
            out.append(str(given))
    return list(dict.fromkeys(out))
