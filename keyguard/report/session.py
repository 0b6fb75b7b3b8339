"""The session axis: every capture of a report on one time line, long idle gaps compressed.

Captures with a known start time sit at their UTC instant; the others follow the latest end
so far after a short gap, in the order given (the rule of the detectors' ``Timeline``, with a
smaller gap; not imported from there to keep the detection stack out of report-only use).
A quiet day between two captures would squeeze each capture to a sliver, so gaps longer than
a fraction of the recorded time are drawn at a fixed width and labelled with their real length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np



@dataclass(frozen=True)
class Placed:
    """One capture on the session axis: abs_start is POSIX seconds when dated, else arbitrary."""

    name: str
    abs_start: float
    duration_s: float
    start_time: datetime | None


@dataclass(frozen=True)
class Segment:
    """A stretch of real time drawn linearly: [abs_start, abs_end] → [x_start, x_start + len]."""

    abs_start: float
    abs_end: float
    x_start: float

    @property
    def x_end(self) -> float:
        return self.x_start + (self.abs_end - self.abs_start)


class SessionAxis:
    """Maps (capture, t in s from its first sample) to an x position in seconds of drawn time."""

    def __init__(self, captures: list[tuple[str, datetime | None, float]], *,
                 max_gap_fraction: float = 0.15, min_gap_s: float = 1.0):
        """captures: (name, start_time or None, duration s) in the order given."""
        total = sum(max(0.0, d) for _, _, d in captures) or 1.0
        unknown_gap = max(min_gap_s, 0.02 * total)
        self.placed: dict[str, Placed] = {}
        end: float | None = None  # latest end placed so far
        for name, start, dur in captures:
            dur = max(0.0, dur)
            if start is not None:
                start = start if start.tzinfo else start.replace(tzinfo=timezone.utc)
                offset = start.timestamp()
            else:
                offset = 0.0 if end is None else end + unknown_gap
            end = offset + dur if end is None else max(end, offset + dur)
            self.placed.setdefault(name, Placed(name, offset, dur, start))
        self.dated = bool(self.placed) and all(p.start_time is not None
                                               for p in self.placed.values())
        spans = sorted((p.abs_start, p.abs_start + p.duration_s) for p in self.placed.values())
        merged: list[list[float]] = []
        for s, e in spans:
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        active = sum(e - s for s, e in merged) or 1.0
        #: gaps longer than this are drawn at ``gap_width`` (s of drawn time)
        self.max_gap = max(min_gap_s, max_gap_fraction * active)
        self.gap_width = 0.04 * active
        self.segments: list[Segment] = []
        self.breaks: list[tuple[float, float]] = []  # (x of the gap's middle, real gap in s)
        x = 0.0
        for i, (s, e) in enumerate(merged):
            if i:
                gap = s - merged[i - 1][1]
                prev = self.segments[-1]
                if gap > self.max_gap:
                    self.breaks.append((prev.x_end + self.gap_width / 2, gap))
                    x = prev.x_end + self.gap_width
                else:  # short gaps stay to scale: extend the previous segment over them
                    self.segments[-1] = Segment(prev.abs_start, e, prev.x_start)
                    continue
            self.segments.append(Segment(s, e, x))
        self.origin = merged[0][0] if merged else 0.0

    @property
    def x_max(self) -> float:
        return self.segments[-1].x_end if self.segments else 0.0

    def abs_t(self, capture: str, t: float) -> float:
        p = self.placed.get(capture)
        return (p.abs_start if p else self.origin) + float(t)

    def x(self, capture: str, t: float) -> float:
        """Drawn x (s) of time ``t`` (s from the first sample of ``capture``)."""
        return self.x_abs(self.abs_t(capture, t))

    def x_abs(self, abs_t: float) -> float:
        for seg in self.segments:
            if abs_t <= seg.abs_end:
                return seg.x_start + max(0.0, abs_t - seg.abs_start)
        if not self.segments:
            return 0.0
        last = self.segments[-1]
        return last.x_start + (abs_t - last.abs_start)

    def ticks(self, per_segment: int = 6) -> list[tuple[float, str]]:
        """(x, label) tick marks: UTC clock time when every capture is dated, else seconds from
        the session's first sample."""
        out: list[tuple[float, str]] = []
        total = sum(s.abs_end - s.abs_start for s in self.segments) or 1.0
        for seg in self.segments:
            length = seg.abs_end - seg.abs_start
            n = max(2, int(round(per_segment * length / total)) + 1)
            step = _nice_step(max(length, 1e-3) / n)
            base = 0.0 if self.dated else self.origin
            k0 = int(np.ceil((seg.abs_start - base) / step - 1e-9))
            k1 = int(np.floor((seg.abs_end - base) / step + 1e-9))
            for k in range(k0, k1 + 1):  # integer steps: no float drift in the labels
                abs_v = base + k * step
                out.append((seg.x_start + abs_v - seg.abs_start, self._label(abs_v, step)))
        return out

    def _label(self, abs_t: float, step: float) -> str:
        if self.dated:
            dt = datetime.fromtimestamp(0, timezone.utc) + timedelta(seconds=abs_t)
            if step < 1.0:
                return dt.strftime("%H:%M:%S.%f")[:-3]
            return dt.strftime("%H:%M:%S")
        rel = abs_t - self.origin
        return f"{rel:.3g} s" if step < 1.0 else f"{rel:,.0f} s"

    def origin_text(self) -> str:
        """What x = 0 is, for the axis label."""
        if self.dated:
            dt = datetime.fromtimestamp(0, timezone.utc) + timedelta(seconds=self.origin)
            return f"UTC time (session starts {dt.strftime('%Y-%m-%d %H:%M:%S')} UTC)"
        return "seconds from the first sample of the session (start times unknown)"


def _nice_step(x: float) -> float:
    """The 1-2-5 (and 60-based for minutes/hours) step just above ``x`` seconds."""
    for s in (1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120,
              300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400):
        if s >= x:
            return float(s)
    return float(86400 * np.ceil(x / 86400))

