"""Replay, RollJam and RollBack: old codes sent again.

A press is *old* when its code was heard in an earlier press (a genuine fob never repeats a code
across presses; repeats within a held press are grouped away by the press tracker), or when its
counter is behind the newest counter that identity has sent. Old presses of one identity less
than ``rollback_gap_s`` apart form a *run*. Each is decided the moment its press closes — an
alert must leave within a second of the transmission that completes it, so nothing waits for
company:

- an old press whose run holds no second distinct code is a ``rolljam`` alert when its original
  was heard while the channel was jammed (jam, capture, replay), else a ``replay`` alert;
- the press that brings the run's second distinct old code is a ``rollback`` alert (RollBack
  resynchronises a KeeLoq receiver with 2–5 old consecutive codes). It *escalates* the run's
  earlier alerts: its evidence ``escalates`` lists their {capture, t, kind}, so a reader (or a
  scorer) knows the earlier ``replay``/``rolljam`` was the start of this RollBack. One
  ``rollback`` alert per run: further old codes of the run add no alert (their packets are in
  the record stream).
- a code is also *heard before* when its bits were (:mod:`keyguard.detect.bitlink`): a decoded
  press whose frame carried the rolling part of an ``unknown`` frame heard in an earlier
  transmission (the original decoded under no profile: too weak for the decoder's margin gate,
  or cut up by a jammer), and ``unknown`` frames, heard apart from the code's own press, that
  carry a decoded code's rolling part (a replay that did not decode, such as a raw-IQ
  recording sent back with its noise). The latter are judged as one old press once the press
  gap has passed after their last frame with no decoded frame of the code among them.
- an old press followed within ``rollback_gap_s`` by undecoded bursts from the same radio
  (carrier within ``rejoin_freq_hz`` of the replay's, duration within
  ``rolljam_followup_duration_tol`` of its bursts') is a ``rollback`` too, escalating the same
  way: a replayer that clips the receiver often lets only one of its old codes decode, and
  the bursts it sends right after, the same way, are its next codes. Runs whose originals were
  all heard under jamming are RollJam's kept codes and are left to it.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field

from keyguard.detect.base import DetectionContext, Detector, fmt_s, fmt_since, make_alert
from keyguard.detect.bitlink import BitMemory, Episode, Link, frame_bits, sparse_seeds
from keyguard.detect.codes import Sighting
from keyguard.detect.config import ReplayConfig
from keyguard.detect.jamlog import JamSpan
from keyguard.detect.observation import Observation
from keyguard.detect.presses import Press
from keyguard.detect.relay import undecoded
from keyguard.events import Alert


@dataclass
class OldPress:
    """A press judged old, and why: ``original`` is the first earlier press of its code (None if
    judged by counter alone); ``newest`` the press holding the newest counter of its identity."""

    press: Press
    original: Sighting | None
    repeats: int
    newest: Sighting | None
    #: the original (or this replay) was linked by its bits to frames that did not decode
    link: dict | None = None

    @property
    def reason(self) -> str:
        return "code_heard_before" if self.original is not None else "counter_behind"


def _bits_note(op: OldPress) -> str:
    """A sentence on how the code was recognised when one side did not decode."""
    if op.link is None:
        return ""
    n = op.link["matched_bits"]
    if op.link.get("decoded", True):
        return (f" (Its first transmission decoded only as unknown frames; {n} of their bits "
                "are this frame's.)")
    return (f" (This transmission decoded only as unknown frames; {n} of their bits are the "
            "code's frame.)")


@dataclass
class _Run:
    """Old presses of one identity in quick succession, and the alerts they raised so far."""

    olds: list = field(default_factory=list)     # OldPress
    alerts: list = field(default_factory=list)   # Alert
    escalated: bool = False


class ReplayDetector(Detector):
    kinds = ("replay", "rolljam", "rollback")

    def __init__(self) -> None:
        self._runs: dict[str, _Run] = {}  # identity (or code) -> its latest run of old presses
        self._judged: list[tuple[OldPress, _Run]] = []  # old presses awaiting their alert
        # recent undecoded bursts: (timeline start, timeline end, capture, BurstInfo)
        self._undecoded: deque = deque()
        # bits of decoded codes and unknown frames, and unknown frames replaying a code
        self._bits = BitMemory()
        self._pending: dict[str, tuple[Link, Episode]] = {}

    @staticmethod
    def _chain_gap(protocol: str, ctx: DetectionContext) -> float:
        """Silence (s) that separates two transmissions of one code: the press gap, or the
        dropout a press may rejoin after, whichever is longer."""
        return max(ctx.profiles.press_gap_s(protocol), ctx.config.press.rejoin_gap_s)

    def _note_bits(self, obs: Observation, ctx: DetectionContext) -> set:
        """Remember the bits of the burst's decoded rolling codes and unknown frames; an
        unknown frame carrying a decoded code, apart from that code's own transmission, starts
        (or extends) a pending replay of it. Returns the codes the unknown frames carry."""
        cap = ctx.capture
        carried: set = set()
        for p in obs.packets:
            if p.integrity == "bad":
                continue
            bits = frame_bits(p.data, p.bits)
            if bits is None:
                continue
            if p.protocol != "unknown":
                if p.code is not None:
                    self._bits.add_decoded(p.code, p.identity, p.protocol, bits,
                                           cap.abs_t(p.t_end))
                continue
            ep = Episode(bits, cap.name, ctx.handle, p.t, p.t_end, cap.abs_t(p.t),
                         cap.abs_t(p.t_end), p.freq_hz,
                         bursts=[obs.burst] if obs.burst is not None else [])
            win = sparse_seeds(bits)
            link = self._bits.decoded_match(bits, win)
            gap = self._chain_gap(link.code.protocol if link else "unknown", ctx)
            self._bits.add_unknown(bits, ep, gap, win)
            if link is None:
                continue
            code = link.code.code
            carried.add(code)
            pend = self._pending.get(code)
            if pend is not None and pend[1].handle == ctx.handle \
                    and ep.abs_t - pend[1].abs_end <= gap:
                pe = pend[1]
                pe.abs_end, pe.t_end = max(pe.abs_end, ep.abs_end), max(pe.t_end, ep.t_end)
                pe.frames += 1
                pe.bursts += [b for b in ep.bursts if all(b is not x for x in pe.bursts)]
                if link.bits > pend[0].bits:
                    self._pending[code] = (link, pe)
                continue
            end = self._bits.chain_end(code)
            if end is not None and ep.abs_t - end <= gap:
                # the code's own transmission going on (frames of its press that did not decode)
                self._bits.extend_chain(code, ep.abs_end)
                continue
            self._pending[code] = (link, ep)
        return carried

    def _judge_pending(self, ctx: DetectionContext, upto: float) -> list[Alert]:
        """Pending replays by unknown frames whose press gap has passed by ``upto`` (s): an
        old press, unless decoded frames of the code came among them (then the decoded press
        is judged by its code)."""
        out: list[Alert] = []
        for code in sorted(self._pending, key=lambda c: self._pending[c][1].abs_t):
            link, ep = self._pending[code]
            c = link.code
            gap = self._chain_gap(c.protocol, ctx)
            if upto - ep.abs_end <= ctx.profiles.press_gap_s(c.protocol):
                continue
            del self._pending[code]
            decoded_end = self._bits.chain_end(code)
            self._bits.extend_chain(code, ep.abs_end)
            if decoded_end is not None and decoded_end >= ep.abs_t - gap:
                continue  # the replay decoded too: judged by its code
            earlier = ctx.codes.sightings(code)
            if not earlier:
                continue
            cap = ctx.captures.get(ep.handle, ctx.capture)
            press = Press(key=("bits", code), protocol=c.protocol, identity=c.identity,
                          code=code, data="", capture=cap, handle=ep.handle, t=ep.t,
                          t_end=ep.t_end, abs_t=ep.abs_t, abs_end=ep.abs_end,
                          frames=ep.frames, bursts=list(ep.bursts))
            if ep.freq_hz is not None:
                press.freq_hz = float(ep.freq_hz)
                press.freqs_hz = [press.freq_hz]
            press.flags.add("old")
            press.notes["undecoded"] = True
            op = OldPress(press=press, original=earlier[0], repeats=len(earlier), newest=None,
                          link=dict(link.evidence(), decoded=False, heard_as="unknown",
                                    frames=ep.frames))
            run = self._add_old(op, ctx)
            if run is not None:
                out += self._alerts_for([(op, run)], ctx)
        return out

    def observe_burst(self, obs: Observation, ctx: DetectionContext) -> list[Alert]:
        carried = self._note_bits(obs, ctx)
        b = obs.burst
        if b is None or b.freq_hz is None or b.jammer_like or not undecoded(obs):
            return []
        cap = ctx.capture
        item = (cap.abs_t(b.t), cap.abs_t(b.t_end), cap, b, frozenset(carried))
        self._undecoded.append(item)
        # a press closes up to its latency after its last frame: keep bursts that long, plus
        # the RollBack window they may follow it by
        keep = (ctx.press_latency_s + ctx.config.press.rejoin_gap_s
                + ctx.config.replay.rollback_gap_s)
        while self._undecoded and ctx.now - self._undecoded[0][1] > keep:
            self._undecoded.popleft()
        out: list[Alert] = []
        for run in self._runs.values():
            if not run.escalated and run.alerts and self._follows(run, item, ctx):
                out.append(self._escalate_undecoded(run, [item], ctx))
        return out

    # ---------------------------------------------------------------------------------------
    def observe_press(self, press: Press, ctx: DetectionContext) -> list[Alert]:
        if press.code is None and press.counter is None:
            return []  # fixed-code: judged by fingerprint (clone detector)
        cfg = ctx.config.replay
        earlier = ctx.codes.sightings(press.code) if press.code is not None else []
        newest = ctx.codes.newest_counter(press.identity) if press.identity is not None else None
        latest = {ctx.codes.latest_code(press.identity, press.freq_hz, hz)
                  for hz in (cfg.learned_same_radio_hz, cfg.learned_own_radio_hz)
                  } if press.identity is not None else set()
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
        if press.protocol == "unknown" and original is not None \
                and _reading_like(press, ctx.codes.codes_of(press.identity), cfg):
            # the changing bits moved by a few from another of its codes: a sensor's reading,
            # which comes back when the weather holds, not a hop (fresh benign soak seed 53090)
            original = None
        if press.protocol == "unknown" and original is not None and press.code in latest:
            # the identity's last message on this carrier sent again, nothing else between: a
            # sensor's reading that held (fresh benign soak seed 156030: a garden sensor's
            # random readings made its codes hop-like). "This carrier" is within 2 kHz, or
            # within 450 Hz where a second sensor of the kind sits 0.8 kHz away (seed 290037).
            # A replayed learned code is caught once the transmitter has moved on, or from
            # another carrier; a replay of an unprofiled fob's newest press on its own carrier
            # is missed
            original = None
        link = None
        if original is None and press.code is not None and press.protocol != "unknown":
            # its bits heard before in frames that did not decode under this protocol
            lk = self._bits.heard_as_unknown(press.code, press.identity, press.abs_t,
                                             self._chain_gap(press.protocol, ctx), press.handle)
            if lk is not None:
                ep = lk.episode
                original = Sighting(capture=ep.capture, t=ep.t, t_end=ep.t_end, abs_t=ep.abs_t,
                                    abs_end=ep.abs_end, frames=ep.frames, counter=None,
                                    code=press.code, identity=press.identity,
                                    freq_hz=ep.freq_hz)
                link = dict(lk.evidence(), decoded=True, original_heard_as="unknown")
        behind = None
        if (newest is not None and press.counter is not None and newest.counter is not None
                and 0 < newest.counter - press.counter <= cfg.counter_window
                and (press.frames >= cfg.counter_min_frames or press.integrity_ok)):
            behind = newest
        if original is None and behind is None:
            return []
        press.flags.add("old")
        op = OldPress(press=press, original=original,
                      repeats=len(earlier) if link is None else 1, newest=behind, link=link)
        run = self._add_old(op, ctx)
        if run is not None:
            self._judged.append((op, run))
        return []

    def _add_old(self, op: OldPress, ctx: DetectionContext) -> _Run | None:
        """Put an old press into its identity's run; the run, or None when the run was already
        escalated (this RollBack was reported at its second code)."""
        press = op.press
        key = press.identity or press.code
        run = self._runs.get(key)
        gap = ctx.config.replay.rollback_gap_s
        if run is None or press.abs_t - run.olds[-1].press.abs_end > gap:
            run = self._runs[key] = _Run()
        run.olds.append(op)
        return None if run.escalated else run

    def press_judged(self, press: Press, ctx: DetectionContext) -> list[Alert]:
        """Called by the engine once every detector has seen ``press``: the alert is built
        now, so its evidence carries what the others noted (fingerprint comparison, burst
        class)."""
        out = self._alerts_for(self._judged, ctx)
        self._judged = []
        return out

    def _alerts_for(self, judged: list, ctx: DetectionContext) -> list[Alert]:
        """The alert of each (old press, its run)."""
        out: list[Alert] = []
        for op, run in judged:
            codes = {o.press.code if o.press.code is not None else f"counter:{o.press.counter}"
                     for o in run.olds}
            jams_each = [self._jams_at_original(o, ctx) for o in run.olds]
            if len(codes) >= 2 and not all(jams_each):
                alert = self._rollback(run.olds, jams_each, ctx)
                alert.evidence["escalates"] = [{"capture": a.capture, "t": a.t, "kind": a.kind}
                                               for a in run.alerts]
                run.escalated = True
            else:
                # every old code of the run first heard under jamming: RollJam's kept codes
                # being spent, not a RollBack of codes captured elsewhere
                jams = self._jams_at_original(op, ctx)
                alert = self._rolljam(op, jams) if jams else self._replay(op)
            run.alerts.append(alert)
            out.append(alert)
            if not run.escalated:
                # bursts from the replay's radio that came before its press closed
                later = [u for u in self._undecoded if self._follows(run, u, ctx)]
                if later:
                    out.append(self._escalate_undecoded(run, later, ctx))
        return out

    def _follows(self, run: _Run, item: tuple, ctx: DetectionContext) -> bool:
        """Whether the undecoded burst ``item`` is the replayer of ``run`` sending again: it
        starts after the run's last old press, within the RollBack window, on that press's
        carrier (same oscillator) and as long as its bursts (the same frames sent the same
        way); never for RollJam's kept codes (every original heard under jamming)."""
        a, _, _, b, carried = item
        last = run.olds[-1].press
        if last.code in carried:
            return False  # its frames carry the replayed code itself: a frame of that press
        cfg = ctx.config
        if not 0.0 < a - last.abs_end <= cfg.replay.rollback_gap_s:
            return False
        own = [x for x in last.bursts if x.freq_hz is not None]
        if not own:
            return False
        f = statistics.median(x.freq_hz for x in own)
        dur = statistics.median(x.duration_s for x in own)
        if abs(b.freq_hz - f) > cfg.press.rejoin_freq_hz or dur <= 0 or \
                abs(b.duration_s - dur) > cfg.replay.rolljam_followup_duration_tol * dur:
            return False
        return not all(self._jams_at_original(o, ctx) for o in run.olds)

    def _escalate_undecoded(self, run: _Run, items: list, ctx: DetectionContext) -> Alert:
        """The ``rollback`` alert of a run whose further old codes did not decode."""
        run.escalated = True
        first = run.olds[0].press
        _, z, cap, b, _ = items[-1]
        codes = {o.press.code for o in run.olds}
        ev = {"reason": "old_code_then_undecoded_frames_from_its_radio",
              "protocol": first.protocol, "old_codes": len(codes), "presses": len(run.olds),
              "undecoded_bursts": [{"capture": c.name, "t": x.t, "t_end": x.t_end,
                                    "freq_hz": x.freq_hz, "duration_s": x.duration_s}
                                   for _, _, c, x, _ in items[:8]],
              "span_s": z - first.abs_t,
              "replays": [dict(self._evidence(op), code=op.press.code) for op in run.olds[:8]],
              "escalates": [{"capture": al.capture, "t": al.t, "kind": al.kind}
                            for al in run.alerts]}
        who = first.identity or first.protocol
        t_end = b.t_end if cap is first.capture else first.t_end
        summary = (f"An old code of {who} was replayed and the same radio sent "
                   f"{len(items)} more burst(s) of the same length within "
                   f"{fmt_s(z - first.abs_t)} that did not decode: the RollBack pattern "
                   "(old codes sent in quick succession to resynchronise the car's receiver).")
        alert = make_alert("rollback", first.capture, first.t, t_end, "critical", 0.8, summary,
                           first.identity, ev)
        run.alerts.append(alert)
        return alert

    def advance(self, now: float, ctx: DetectionContext) -> list[Alert]:
        out = self._judge_pending(ctx, now) if self._pending else []
        # a run is over once no press can join it: forget it (bounded memory)
        gap = ctx.config.replay.rollback_gap_s
        for k in [k for k, r in self._runs.items() if now - r.olds[-1].press.abs_end > gap]:
            del self._runs[k]
        return out

    def end_capture(self, ctx: DetectionContext) -> list[Alert]:
        return self._judge_pending(ctx, float("inf")) if self._pending else []

    def flush(self, ctx: DetectionContext) -> list[Alert]:
        out = self._judge_pending(ctx, float("inf")) if self._pending else []
        self._runs.clear()
        self._undecoded.clear()
        return out

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
            if fmt_since(p, op.original) is not None:
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
        if op.link is not None:
            ev["bits_link"] = op.link
        return ev

    def _replay(self, op: OldPress) -> Alert:
        p = op.press
        who = p.identity or p.protocol
        if op.original is not None:
            since = fmt_since(p, op.original)
            when = (f"{since} after it was first heard" if since is not None else
                    "after it was first heard in a capture of unknown start time")
            summary = (f"A code of {who} was received again {when} ({op.original.capture} at "
                       f"{op.original.t:.3f} s); a genuine fob never repeats a code across presses."
                       + _bits_note(op))
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
        since = fmt_since(p, op.original)
        summary = (f"A code of {who} first heard while the channel was jammed was replayed "
                   f"{'later' if since is None else since + ' later'}: the RollJam pattern "
                   "(jam, capture, replay)." + _bits_note(op))
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


def _reading_like(press: Press, codes: frozenset, cfg: ReplayConfig) -> bool:
    """The press's learned code lies within ``learned_hop_min_fraction`` of its changing bits
    (Hamming distance) of another code its identity sent: a measurement that drifts (a
    sensor's temperature moves a few low bits), where a rolling code's hops differ in about
    half of them."""
    n = press.fields.get("rolling_bits") if press.fields else None
    mine = _changing_bits(press.code)
    if mine is None or not isinstance(n, int) or n <= 0:
        return False
    for c in codes:
        other = _changing_bits(c) if c != press.code else None
        if other is not None and (mine ^ other).bit_count() <= cfg.learned_hop_min_fraction * n:
            return True
    return False


def _changing_bits(code: str | None) -> int | None:
    """The changing part of a learned code (``IDENTITY:HEX``) as an integer, or None."""
    try:
        return int(code.rsplit(":", 1)[1], 16)
    except (AttributeError, IndexError, ValueError):
        return None
