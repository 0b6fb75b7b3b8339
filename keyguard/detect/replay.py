"""Replay, RollJam and RollBack: old codes sent again.

A press is *old* when its code was heard in an earlier press (a genuine fob never repeats a code
across presses; repeats within a held press are grouped away by the press tracker), or when its
counter is behind the newest counter that identity has sent. Each old press waits
``rollback_gap_s`` for company, then:

- two or more distinct old codes of one identity in quick succession → one ``rollback`` alert
  (RollBack resynchronises a KeeLoq receiver with 2–5 old consecutive codes);
- otherwise each old press is a ``rolljam`` alert when its original was heard while the channel
  was jammed (jam, capture, replay), else a ``replay`` alert.
"""

from __future__ import annotations

from dataclasses import dataclass

from keyguard.detect.base import DetectionContext, Detector, fmt_s, make_alert
from keyguard.detect.codes import Sighting
from keyguard.detect.jamlog import JamSpan
from keyguard.detect.presses import Press
from keyguard.events import Alert


@dataclass
class OldPress:
    """A press judged old, and why: ``original`` is the first earlier press of its code (None if
    judged by counter alone); ``newest`` the press holding the newest counter of its identity."""

    press: Press
    original: Sighting | None
    repeats: int
    newest: Sighting | None

    @property
    def reason(self) -> str:
        return "code_heard_before" if self.original is not None else "counter_behind"


class ReplayDetector(Detector):
    kinds = ("replay", "rolljam", "rollback")

    def __init__(self) -> None:
        self._pending: dict[str, list[OldPress]] = {}  # identity (or code) -> old presses waiting

    # ---------------------------------------------------------------------------------------
    def observe_press(self, press: Press, ctx: DetectionContext) -> list[Alert]:
        if press.code is None and press.counter is None:
            return []  # fixed-code: judged by fingerprint (clone detector)
        cfg = ctx.config.replay
        earlier = ctx.codes.sightings(press.code) if press.code is not None else []
        newest = ctx.codes.newest_counter(press.identity) if press.identity is not None else None
        ctx.codes.record(press)
        original = earlier[0] if earlier else None
        if press.protocol == "unknown" and original is not None and (
                press.frames < 2 or original.frames < 2
                or press.abs_t - original.abs_end < cfg.learned_min_gap_s
                or press.identity is None or ctx.codes.distinct_codes(press.identity) < 2):
            # a code learned from unprofiled frames counts only once it was seen to roll (the
            # identity sent another code), when both presses repeat it, and not as a stutter of
            # one transmission: a constant "code" is a fixed-code transmitter, a lone frame may
            # be noise, and an unknown transmitter's repeat behaviour is unknown
            original = None
        behind = None
        if (newest is not None and press.counter is not None and newest.counter is not None
                and 0 < newest.counter - press.counter <= cfg.counter_window
                and (press.frames >= cfg.counter_min_frames or press.integrity_ok)):
            behind = newest
        if original is None and behind is None:
            return []
        press.flags.add("old")
        key = press.identity or press.code
        self._pending.setdefault(key, []).append(
            OldPress(press=press, original=original, repeats=len(earlier), newest=behind))
        return []

    def advance(self, now: float, ctx: DetectionContext) -> list[Alert]:
        # the next old press may still be open in the press tracker: wait for that too
        wait = ctx.config.replay.rollback_gap_s + ctx.press_latency_s
        due = [k for k, v in self._pending.items() if now - v[-1].press.abs_end > wait]
        return self._emit(due, ctx)

    def flush(self, ctx: DetectionContext) -> list[Alert]:
        return self._emit(list(self._pending), ctx)

    # ---------------------------------------------------------------------------------------
    def _emit(self, keys: list[str], ctx: DetectionContext) -> list[Alert]:
        out: list[Alert] = []
        gap = ctx.config.replay.rollback_gap_s
        for k in keys:
            olds = self._pending.pop(k)
            # split into runs of quick succession
            run: list[OldPress] = []
            for op in olds:
                if run and op.press.abs_t - run[-1].press.abs_end > gap:
                    out += self._judge(run, ctx)
                    run = []
                run.append(op)
            if run:
                out += self._judge(run, ctx)
        return out

    def _judge(self, run: list[OldPress], ctx: DetectionContext) -> list[Alert]:
        codes = {op.press.code if op.press.code is not None else f"counter:{op.press.counter}"
                 for op in run}
        jams = [self._jams_at_original(op, ctx) for op in run]
        if len(codes) >= 2:
            return [self._rollback(run, jams, ctx)]
        return [self._rolljam(op, j) if j else self._replay(op) for op, j in zip(run, jams)]

    @staticmethod
    def _jams_at_original(op: OldPress, ctx: DetectionContext) -> list[JamSpan]:
        if op.original is None:
            return []
        cfg = ctx.config.replay
        m = cfg.rolljam_overlap_margin_s
        return ctx.jams.overlapping(op.original.abs_t - m, op.original.abs_end + m,
                                    op.original.freq_hz if op.original.freq_hz is not None
                                    else op.press.freq_hz, cfg.rolljam_max_offset_hz)

    # alerts --------------------------------------------------------------------------------
    @staticmethod
    def _evidence(op: OldPress) -> dict:
        p = op.press
        ev = {"reason": op.reason, "code": p.code, "protocol": p.protocol,
              "replay": p.where()}
        if op.original is not None:
            ev["first_seen"] = op.original.where()
            ev["times_heard_before"] = op.repeats
            ev["since_first_seen_s"] = p.abs_t - op.original.abs_t
        if p.counter is not None:
            ev["counter"] = p.counter
        if op.newest is not None:
            ev["newest_counter"] = op.newest.counter
            ev["newest_counter_seen"] = op.newest.where()
        if p.freq_hz is not None and op.original is not None and op.original.freq_hz is not None:
            ev["carrier_shift_hz"] = p.freq_hz - op.original.freq_hz
        if "fingerprint" in p.notes:
            ev["fingerprint"] = p.notes["fingerprint"]
        if "burst_class" in p.notes:
            ev["burst_class"] = p.notes["burst_class"]
        return ev

    def _replay(self, op: OldPress) -> Alert:
        p = op.press
        who = p.identity or p.protocol
        if op.original is not None:
            summary = (f"A code of {who} was received again {fmt_s(p.abs_t - op.original.abs_t)} "
                       f"after it was first heard ({op.original.capture} at "
                       f"{op.original.t:.3f} s); a genuine fob never repeats a code across presses.")
            conf = 0.97
        else:
            summary = (f"{who} sent counter {p.counter}, behind the {op.newest.counter} already "
                       "heard from it: an old, previously captured code was replayed.")
            conf = 0.8
        return make_alert("replay", p.capture, p.t, p.t_end, "high", conf, summary,
                          p.identity, self._evidence(op))

    def _rolljam(self, op: OldPress, jams: list[JamSpan]) -> Alert:
        p = op.press
        who = p.identity or p.protocol
        ev = self._evidence(op)
        ev["jamming_at_original"] = [j.where() for j in jams[:4]]
        summary = (f"A code of {who} first heard while the channel was jammed was replayed "
                   f"{fmt_s(p.abs_t - op.original.abs_t)} later: the RollJam pattern "
                   "(jam, capture, replay).")
        return make_alert("rolljam", p.capture, p.t, p.t_end, "critical", 0.97, summary,
                          p.identity, ev)

    def _rollback(self, run: list[OldPress], jams: list[list[JamSpan]],
                  ctx: DetectionContext) -> Alert:
        first, last = run[0].press, run[-1].press
        who = first.identity or first.protocol
        codes = []
        for op in run:
            if op.press.code not in codes:
                codes.append(op.press.code)
        counters = [op.press.counter for op in run if op.press.counter is not None]
        ev = {"reason": "old_codes_in_quick_succession", "protocol": first.protocol,
              "old_codes": len(codes), "presses": len(run),
              "span_s": last.abs_end - first.abs_t,
              "replays": [dict(self._evidence(op), code=op.press.code) for op in run[:8]]}
        if counters:
            ev["counters"] = counters
            ev["consecutive_counters"] = bool(
                len(counters) >= 2 and all(b - a == 1 for a, b in zip(counters, counters[1:])))
        if any(jams):
            ev["jamming_at_originals"] = [j.where() for js in jams for j in js][:4]
        conf = 0.95 if all(op.original is not None for op in run) else 0.85
        t_end = last.t_end if last.capture is first.capture else first.t_end
        summary = (f"{len(codes)} old codes of {who} were replayed within "
                   f"{fmt_s(last.abs_end - first.abs_t)}: the RollBack pattern, which "
                   "resynchronises the car's receiver to codes an attacker captured earlier.")
        return make_alert("rollback", first.capture, first.t, t_end, "critical", conf, summary,
                          first.identity, ev)
