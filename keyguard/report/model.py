"""What a report says, independent of how it is written (HTML or PDF).

:func:`prepare` joins the opened captures with the scan's records: which capture each record
names, where everything sits on the session axis, the alerts numbered in time order with the
places their evidence points at and the packets found there, the packets numbered in time order,
and the command that reproduces the findings. Figures are not drawn here; the model hands out
figure *factories* so a writer draws, serialises and drops one figure at a time (bounded memory
with many long captures).
"""

from __future__ import annotations

import math
import os
import shlex
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

from keyguard import __version__
from keyguard.events import iso_utc
from keyguard.io.capture import Capture
from keyguard.report.figures import AlertMark, ZoomPanel, timeline_figure, waterfall_figure, \
    zoom_figure
from keyguard.report.limits import InputLimits, general_limits, input_limits
from keyguard.report.records import EvidenceRef, PacketIndex, ReportRecords, collect, \
    evidence_refs
from keyguard.report.session import SessionAxis
from keyguard.report.text import basename
from keyguard.report.waterfall import stream_power

DEFAULT_TITLE = "keyguard evidence report"


@dataclass(frozen=True)
class ReportSettings:
    """How much the report draws. Times in seconds.

    waterfall_rows / nfft: overview spectrogram size per capture (rows ≤ 1500 keeps a 1-hour
    capture to one streamed pass and a ~1200 px image). zoom_pad_s: time shown either side of a
    burst; zoom_max_s: longest span a zoom reads; zoom_panels: bursts drawn per alert;
    zoomed_alerts: alerts that get a zoom figure (the rest are listed without one);
    timeline_rows: identity rows before the rest are merged into "other".
    """

    waterfall_rows: int = 1200
    nfft: int = 512
    zoom_pad_s: float = 0.03
    zoom_max_s: float = 4.0
    zoom_rows: int = 400
    zoom_points: int = 1500
    zoom_panels: int = 3
    zoomed_alerts: int = 60
    timeline_rows: int = 30
    side_by_side: int = 6


@dataclass
class InputRow:
    """One input as the header lists it."""

    name: str
    size_bytes: int | None
    sha256: str | None
    format: str | None
    sample_rate: float | None
    center_freq: float | None
    start_time: str | None
    duration_s: float | None
    notes: list[str] = field(default_factory=list)
    limits: InputLimits | None = None
    capture: Capture | None = None


@dataclass
class RelatedPlace:
    """A place an alert points at, with the packets received there (indices into packets)."""

    ref: EvidenceRef
    title: str
    packets: list[int]


@dataclass
class AlertView:
    number: int
    record: dict
    places: list[RelatedPlace]
    command: str


@dataclass
class ReportModel:
    title: str
    case_ref: str | None
    analysis_time: str
    keyguard_version: str
    versions: dict[str, str]
    sources: dict[str, str]
    options: dict[str, Any]
    inputs: list[InputRow]
    records: ReportRecords
    packets: list[dict]  # in session-time order; number = index + 1
    alerts: list[AlertView]  # in session-time order
    axis: SessionAxis
    scan_command: str
    limits: list[tuple[str, str]]
    settings: ReportSettings
    _captures: dict[str, Capture] = field(default_factory=dict, repr=False)

    # figure factories -----------------------------------------------------------------------
    def timeline(self):
        caps = [(r.name, r.duration_s or 0.0) for r in self.inputs]
        marks = [self.mark(a) for a in self.alerts]
        return timeline_figure(self.axis, caps, self.packets, marks,
                               [a.record for a in self.alerts],
                               max_rows=self.settings.timeline_rows)

    def waterfall(self, row: InputRow):
        """The capture's overview spectrogram figure, or None without IQ."""
        cap = row.capture
        if cap is None or cap.reader is None:
            return None
        s = self.settings
        sg, _ = stream_power(cap, rows=s.waterfall_rows, nfft=s.nfft)
        if sg is None:
            return None
        pk = [p for p in self.packets if p["capture"] == row.name]
        marks = [self.mark(a) for a in self.alerts if a.record["capture"] == row.name]
        title = f"{basename(row.name)} — {_rate_text(row.sample_rate)}" + (
            f", centre {row.center_freq / 1e6:.6f} MHz" if row.center_freq else "")
        return waterfall_figure(title, sg, pk, marks)

    def zoom(self, alert: AlertView):
        """Side-by-side zooms of the alert's bursts, or None when no IQ of them is at hand."""
        s = self.settings
        panels = []
        for place in alert.places[:s.zoom_panels]:
            cap = self._captures.get(place.ref.capture)
            ref = place.ref
            freq = None
            if place.packets:
                freq = self.packets[place.packets[0]].get("freq_hz")
            if cap is None or cap.reader is None:
                panels.append(ZoomPanel(place.title, ref.t, ref.t_end, freq, None, None))
                continue
            pad = max(s.zoom_pad_s, 0.15 * (ref.t_end - ref.t))
            z0 = max(0.0, ref.t - pad)
            z1 = min(ref.t_end + pad, z0 + s.zoom_max_s)
            n = max(1, int((z1 - z0) * cap.sample_rate))
            nfft = zoom_nfft(cap.sample_rate)
            hop = int(min(nfft, max(8, n // s.zoom_rows)))
            sg, env = stream_power(cap, z0, z1, rows=s.zoom_rows, nfft=nfft, hop=hop,
                                   avg_frames=1, envelope_points=s.zoom_points)
            panels.append(ZoomPanel(place.title, ref.t, ref.t_end,
                                    None if freq is None else float(freq), sg, env))
        if not any(p.sg is not None for p in panels):
            return None
        return zoom_figure(panels)

    def mark(self, a: AlertView) -> AlertMark:
        r = a.record
        return AlertMark(a.number, r["kind"], r["severity"], r["capture"], float(r["t"]),
                         float(r["t_end"]))


# --------------------------------------------------------------------------------------------
def prepare(inputs: Sequence[Capture], records: Iterable[Any], *, title: str | None = None,
            case_ref: str | None = None, options: Mapping[str, Any] | None = None,
            analysis_time: datetime | str | None = None,
            versions: Mapping[str, str] | None = None,
            sources: Mapping[str, str] | None = None,
            settings: ReportSettings | None = None) -> ReportModel:
    """Join captures and records into a :class:`ReportModel` (no figures drawn yet)."""
    settings = settings or ReportSettings()
    recs = collect(records)
    options = dict(options or {})
    captures = _match_captures(list(inputs), recs)
    rows = _input_rows(list(inputs), recs, captures)
    axis = SessionAxis([(r.name, r.capture.start_time if r.capture is not None
                         else _parse_time(r.start_time), r.duration_s or 0.0) for r in rows])
    order = sorted(range(len(rows)), key=lambda i: (axis.x(rows[i].name, 0.0), i))
    rows = [rows[i] for i in order]

    def when(rec: dict) -> float:
        return axis.x(str(rec["capture"]), float(rec["t"]))

    packets = [p for _, p in sorted(enumerate(recs.packets),
                                    key=lambda ip: (when(ip[1]), ip[0]))]
    index = PacketIndex(packets)
    alerts_sorted = [a for _, a in sorted(enumerate(recs.alerts),
                                          key=lambda ia: (when(ia[1]), ia[0]))]
    names = [r.name for r in rows if r.capture is not None] or [r.name for r in rows]
    given = [c.path for c in inputs] or names
    scan = scan_command(given, options)
    views = []
    for n, a in enumerate(alerts_sorted, 1):
        places = _places(a, index, axis, settings.side_by_side)
        cmd = scan + " | grep -F " + shlex.quote(f'"type": "alert", "kind": "{a["kind"]}"')
        views.append(AlertView(n, a, places, cmd))
    if isinstance(analysis_time, datetime):
        at = iso_utc(analysis_time)
    elif analysis_time is None:
        at = iso_utc(datetime.now(timezone.utc))
    else:
        at = str(analysis_time)
    return ReportModel(title=title or DEFAULT_TITLE, case_ref=case_ref, analysis_time=at,
                       keyguard_version=__version__,
                       versions={str(k): str(v) for k, v in (versions or {}).items()},
                       sources={str(k): str(v) for k, v in (sources or {}).items()},
                       options=options, inputs=rows, records=recs, packets=packets,
                       alerts=views, axis=axis, scan_command=scan, limits=general_limits(),
                       settings=settings, _captures=captures)


def zoom_nfft(sample_rate: float, frame_s: float = 300e-6) -> int:
    """FFT length of a zoom: a frame of about ``frame_s`` (shorter than one key-fob pulse, so
    the OOK pulses stay apart in time), a power of two from 64 to 1024."""
    n = 2 ** round(math.log2(max(1.0, sample_rate * frame_s)))
    return int(min(1024, max(64, n)))


def scan_command(paths: Sequence[str], options: Mapping[str, Any]) -> str:
    """The shell command (POSIX quoting) that re-runs the scan: ``--key value`` per option,
    a flag for True, the option repeated for each item of a list, nothing for None/False."""
    parts = ["keyguard", "scan", *[str(p) for p in paths], "--format", "jsonl"]
    for k, v in options.items():
        flag = "--" + str(k).replace("_", "-")
        if v is None or v is False:
            continue
        if v is True:
            parts.append(flag)
        elif isinstance(v, (list, tuple)):
            for x in v:
                parts += [flag, str(x)]
        else:
            parts += [flag, _opt_text(v)]
    return " ".join(shlex.quote(p) for p in parts)


def _opt_text(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}" if abs(v) < 1e6 else f"{v:.0f}"
    return str(v)


def _rate_text(rate: float | None) -> str:
    if not rate:
        return "rate unknown"
    return f"{rate / 1e6:g} Msps" if rate >= 1e6 else f"{rate / 1e3:g} ksps"


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _match_captures(inputs: list[Capture], recs: ReportRecords) -> dict[str, Capture]:
    """Record capture name → opened Capture: same path, else same SHA-256, else the only input
    with the same file name (records from another directory)."""
    by_path = {c.path: c for c in inputs}
    out: dict[str, Capture] = {}
    names = [c["capture"] for c in recs.captures]
    names += [r["capture"] for r in recs.packets + recs.alerts if r["capture"] not in names]
    for name in dict.fromkeys(names):
        if name in by_path:
            out[name] = by_path[name]
            continue
        rec = recs.capture_record(name)
        sha = rec.get("sha256") if rec else None
        hit = [c for c in inputs if sha and c.file_paths and c.sha256 == sha]
        if not hit:
            hit = [c for c in inputs if basename(c.path) == basename(name)]
        if len(hit) == 1:
            out[name] = hit[0]
    for c in inputs:
        out.setdefault(c.path, c)
    return out


def _input_rows(inputs: list[Capture], recs: ReportRecords,
                captures: dict[str, Capture]) -> list[InputRow]:
    rows: list[InputRow] = []
    used: set[int] = set()
    rec_names = [c["capture"] for c in recs.captures]
    named = [str(r["capture"]) for r in recs.packets + recs.alerts]
    for name in dict.fromkeys(rec_names + [c.path for c in inputs] + named):
        cap = captures.get(name)
        if cap is not None and id(cap) in used:
            continue
        if any(r.name == name for r in rows):
            continue
        rec = recs.capture_record(name) or {}
        if cap is not None:
            used.add(id(cap))
        rows.append(_input_row(name, cap, rec))
    return rows


def _input_row(name: str, cap: Capture | None, rec: dict) -> InputRow:
    notes: list[str] = []
    if cap is None:
        notes.append("IQ not opened for this report: metadata from the scan records only")
        row = InputRow(name=name, size_bytes=None, sha256=rec.get("sha256"),
                       format=rec.get("format"), sample_rate=rec.get("sample_rate"),
                       center_freq=rec.get("center_freq"), start_time=rec.get("start_time"),
                       duration_s=rec.get("duration"), notes=notes)
    else:
        size = None
        if cap.file_paths:
            try:
                size = os.path.getsize(cap.file_paths[0])
            except OSError:
                size = None
        sha = cap.sha256
        if rec.get("sha256") and sha and rec["sha256"] != sha:
            notes.append(f"the scan records were made from a file with SHA-256 {rec['sha256']}, "
                         "not this one: the findings may not belong to this file")
        if name != cap.path:
            notes.append(f"the scan records name it {name}; IQ read from {cap.path}")
        for k in cap.assumed:
            notes.append(f"{k.replace('_', ' ')} assumed (rtl_433 default), not recorded")
        notes += [str(w) for w in cap.warnings]
        row = InputRow(name=name, size_bytes=size, sha256=sha,
                       format=cap.format, sample_rate=cap.sample_rate,
                       center_freq=cap.center_freq, start_time=iso_utc(cap.start_time),
                       duration_s=cap.duration, notes=notes, capture=cap)
    fmt = (cap.extra.get("sample_format") if cap is not None else None) or row.format
    if row.sample_rate:
        row.limits = input_limits(row.name, float(row.sample_rate), row.center_freq, fmt)
    return row


def _places(alert: dict, index: PacketIndex, axis: SessionAxis, limit: int) -> list[RelatedPlace]:
    """The alert's own span plus every place its evidence names, in time order."""
    refs = evidence_refs(alert.get("evidence") or {})
    own = EvidenceRef("alert", str(alert["capture"]), float(alert["t"]), float(alert["t_end"]))
    if not any(r.capture == own.capture and abs(r.t - own.t) < 1e-6 for r in refs):
        refs.insert(0, own)
    refs = sorted(refs, key=lambda r: (axis.x(r.capture, r.t), r.label))[:limit]
    out = []
    for r in refs:
        pk = index.within(r.capture, r.t, r.t_end)
        title = _place_title(r.label, own, r)
        out.append(RelatedPlace(r, title, pk))
    return out


def _place_title(label: str, own: EvidenceRef, r: EvidenceRef) -> str:
    words = label.replace("_", " ").replace(".", " › ")
    if r.capture == own.capture and abs(r.t - own.t) < 1e-6:
        words = "this alert" if label == "alert" else f"{words} (this alert)"
    return f"{words}: {basename(r.capture)} at {r.t:.4f} s"
