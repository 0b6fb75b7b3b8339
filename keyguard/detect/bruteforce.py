"""Brute force: many different codes of a fixed-code protocol in a short time (code scanning).

A household has a handful of fixed-code remotes (gate, garage, doorbell), each pressed now and
then; a scanner (Flipper sub-GHz brute forcer, an OpenSesame-style De Bruijn sender) sends tens
of codes per second. Per protocol, the detector counts distinct transmitter identities (the
payload when the protocol has none) in a sliding window; crossing ``min_distinct`` opens an
episode that lasts while new codes keep arriving, reported once when it ends.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from keyguard.detect.base import DetectionContext, Detector, fmt_s, make_alert
from keyguard.detect.observation import CaptureInfo, Observation
from keyguard.events import Alert


@dataclass
class _Hit:
    abs_t: float
    abs_end: float
    unit: str
    capture: CaptureInfo
    t: float
    t_end: float


@dataclass
class _Episode:
    first: _Hit
    last: _Hit
    units: set = field(default_factory=set)
    frames: int = 0
    examples: list = field(default_factory=list)


class BruteforceDetector(Detector):
    kinds = ("bruteforce",)

    def __init__(self) -> None:
        self._window: dict[str, deque[_Hit]] = {}
        self._episodes: dict[str, _Episode] = {}

    def observe_burst(self, obs: Observation, ctx: DetectionContext) -> list[Alert]:
        cfg = ctx.config.bruteforce
        cap = ctx.capture
        for pkt in obs.packets:
            if pkt.integrity == "bad" or not ctx.profiles.is_fixed(pkt):
                continue
            unit = pkt.identity if pkt.identity is not None else pkt.data
            hit = _Hit(cap.abs_t(pkt.t), cap.abs_t(pkt.t_end), unit, cap, pkt.t, pkt.t_end)
            ep = self._episodes.get(pkt.protocol)
            if ep is not None:
                ep.frames += 1
                if unit not in ep.units:
                    ep.units.add(unit)
                    ep.last = hit
                    if len(ep.examples) < 8:
                        ep.examples.append(unit)
                continue
            win = self._window.setdefault(pkt.protocol, deque())
            win.append(hit)
            while win and hit.abs_t - win[0].abs_t > cfg.window_s:
                win.popleft()
            units = {h.unit for h in win}
            if len(units) >= cfg.min_distinct:
                first_of = {}
                for h in win:
                    first_of.setdefault(h.unit, h)
                ordered = sorted(first_of.values(), key=lambda h: h.abs_t)
                self._episodes[pkt.protocol] = _Episode(
                    first=ordered[0], last=ordered[-1], units=set(units), frames=len(win),
                    examples=[h.unit for h in ordered[:8]])
                win.clear()
        return []

    def advance(self, now: float, ctx: DetectionContext) -> list[Alert]:
        w = ctx.config.bruteforce.window_s
        done = [p for p, ep in self._episodes.items() if now - ep.last.abs_end > w]
        return [self._alert(p, self._episodes.pop(p), ctx) for p in done]

    def flush(self, ctx: DetectionContext) -> list[Alert]:
        done = list(self._episodes)
        self._window.clear()
        return [self._alert(p, self._episodes.pop(p), ctx) for p in done]

    @staticmethod
    def _alert(protocol: str, ep: _Episode, ctx: DetectionContext) -> Alert:
        cfg = ctx.config.bruteforce
        span = max(ep.last.abs_end - ep.first.abs_t, 1e-3)
        n = len(ep.units)
        rate = n / span
        t_end = ep.last.t_end if ep.last.capture is ep.first.capture else ep.first.t_end
        # more codes than the threshold, faster than any person presses, raise confidence
        conf = min(0.99, 0.7 + 0.3 * min(1.0, (n - cfg.min_distinct + 1) / cfg.min_distinct))
        summary = (f"{n} different {protocol} codes were sent within {fmt_s(span)} "
                   f"({rate:.1f} per second): a code-scanning (brute-force) attack on "
                   "fixed-code receivers.")
        ev = {"protocol": protocol, "distinct_codes": n, "frames": ep.frames, "span_s": span,
              "codes_per_s": rate, "window_s": cfg.window_s, "threshold": cfg.min_distinct,
              "examples": ep.examples,
              "first_seen": {"capture": ep.first.capture.name, "t": ep.first.t}}
        return make_alert("bruteforce", ep.first.capture, ep.first.t, t_end, "high", conf,
                          summary, None, ev)
