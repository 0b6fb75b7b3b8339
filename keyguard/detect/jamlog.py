"""Jamming spans on the timeline, so a replay can ask "was its original heard under jamming?".

The jamming detector writes a span as soon as an episode qualifies and widens it while the
episode lasts; spans of earlier runs come from the state file.
"""

from __future__ import annotations

from dataclasses import dataclass

from keyguard.state import State


@dataclass
class JamSpan:
    """A jamming episode: ``t``/``t_end`` capture-relative (s), ``abs_t``/``abs_end`` on the
    timeline (s), ``freq_hz`` its carrier (or band centre), ``bandwidth_hz`` when measured."""

    capture: str
    t: float
    t_end: float
    abs_t: float
    abs_end: float
    freq_hz: float | None = None
    bandwidth_hz: float | None = None
    earlier_run: bool = False
    #: median level of the episode (dB, as the front end measures bursts)
    level_db: float | None = None
    #: "jamming", or "amplifier_noise" once it turned out to be a relay's noise under a much
    #: stronger fob frame (then it denies nothing and is relay evidence instead)
    kind: str = "jamming"
    #: the episode is over (its end is final)
    closed: bool = False

    def where(self) -> dict:
        return {"capture": self.capture, "t": self.t, "t_end": self.t_end,
                "freq_hz": self.freq_hz, "earlier_run": self.earlier_run}


class JamLog:
    def __init__(self, state: State | None = None):
        self.state = state
        self.spans: list[JamSpan] = []

    def add(self, span: JamSpan) -> JamSpan:
        self.spans.append(span)
        return span

    def overlapping(self, abs_t: float, abs_end: float, freq_hz: float | None = None,
                    max_offset_hz: float = float("inf"), kind: str | None = "jamming"
                    ) -> list[JamSpan]:
        """Spans of ``kind`` (None: any) overlapping [abs_t, abs_end] (s) whose carrier is within
        ``max_offset_hz`` of ``freq_hz`` (either frequency unknown counts as near). The margin of
        a wideband jammer's half bandwidth is added to the allowed offset."""
        out = []
        cands = list(self.spans)
        if self.state is not None:
            cands = [JamSpan(r.capture, r.t, r.t_end, r.abs_t, r.abs_end, r.freq_hz,
                             earlier_run=True, closed=True)
                     for r in self.state.jams_overlapping(abs_t, abs_end)] + cands
        for s in cands:
            if s.abs_end < abs_t or s.abs_t > abs_end or (kind is not None and s.kind != kind):
                continue
            if freq_hz is not None and s.freq_hz is not None:
                allow = max_offset_hz + 0.5 * (s.bandwidth_hz or 0.0)
                if abs(s.freq_hz - freq_hz) > allow:
                    continue
            out.append(s)
        return out
