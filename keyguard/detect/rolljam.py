"""RollJam when the jammed presses could not be decoded: a foreign radio right after jamming.

The replay detector catches RollJam by code when the receiver decoded the owner's presses
through the jammer. When it could not (the jammer sits in the fob's channel, or is too strong),
the presses still left bursts — keyed, at the fob's carrier, weaker than the jammer — and those
carry the fob's carrier offset. RollJam then replays a captured code from another radio within
seconds of switching the jammer off. This detector remembers the keyed bursts heard under each
jamming span and, for a press that starts within ``rolljam_after_jam_s`` after jamming stopped,
compares its carrier offset with theirs (same receiver, same capture: no calibration needed);
when no burst was heard under the jammer it falls back to the identity's reference fingerprint.
A press from a different oscillator is reported as ``rolljam``, and so is one the burst
classifier calls a replayer (a raw-IQ replay carries the fob's own carrier offset). With no
burst heard under the jammer, "a different oscillator" is judged against the identity's
reference fingerprint and against every press of the key this receiver heard clear of jamming
(carrier offset at least the CFO floor away; when either was clipped, whose fine estimate the
clipping pulls, the burst carrier instead). RollJam keeps the second code for later: a later
fresh code of the same identity from that same foreign oscillator (its carrier offset within the
CFO floor) within ``rolljam_followup_s`` is reported as ``rolljam`` too, and so is one from any
radio that is not the key (the replayer's own carrier may never have been measured: a replayer
that clips the receiver sometimes decodes only on a receiver image).

A raw-IQ replayer (an SDR sending back the recording it made) reproduces the fob's carrier
exactly, so a press right after jamming on the key's own carrier is also checked for a
replayer's trace (:meth:`CloneDetector.replayer_trace`: its LO leakage as a sharp line through
the gaps, the recording's noise floor, phase continuity) against the key's reference presses.
Such a replayer's carrier offset is the key's, so the key's later presses would all "match" it:
its kept code is then recognised by the same trace, never by the carrier.

The replay itself often does not decode either: a replayer beside the car clips the 8-bit
receiver. An undecoded burst no longer than the key's press, on the channel of a key heard
before (or of keyed bursts heard under the jammer), starting within ``rolljam_after_jam_s``
after a jammer beside that channel stopped, from another oscillator than the key's (or called a
replayer by the classifier) is the replay; its oscillator and length are remembered, and a
later undecoded burst matching both is the kept code. A raw-IQ replay transmits its recording's
noise between the pulses, so its burst's own run widths are the noise's and it lasts longer
than the press: when the decoder framed ``unknown`` frames in it at the base unit of the key
heard on that channel (within 5 %), that base unit stands for the line code, the frames' span
for its length, and the classifier's "jammer" verdict does not veto it.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from keyguard.detect.base import DetectionContext, Detector, fmt_s, make_alert
from keyguard.detect.classify import burst_classes, press_classes
from keyguard.detect.clone import CloneDetector
from keyguard.detect.fingerprint import Comparison, clipped, learned_identity, \
    press_fingerprint, press_vector, receiver_key
from keyguard.detect.jamlog import JamSpan
from keyguard.detect.jamming import heard_through_jamming
from keyguard.detect.observation import BurstInfo, Observation
from keyguard.detect.presses import Press
from keyguard.detect.relay import undecoded
from keyguard.events import Alert
from keyguard.features.vector import FEATURE_NAMES

_CFO = FEATURE_NAMES.index("cfo_ppm")
_TE = FEATURE_NAMES.index("te_us")
#: bursts remembered for this long (s) after they end
_KEEP_S = 120.0
#: a keyed burst this far (Hz) from a jammer's carrier is not part of the jammer
_OFF_JAMMER_HZ = 20e3
#: ... and this close (Hz) to a press's carrier is on its channel
_SAME_CHANNEL_HZ = 30e3


def _still_jammed(abs_t: float, abs_end: float, cfg, ctx: DetectionContext) -> bool:
    """A jamming span was on when the transmission [abs_t, abs_end] (timeline s) began and
    stayed on past its first ``rolljam_overlap_margin_s``: it was sent under the jammer, not
    after it (a jammer's short by-product that happened to end just then is no "end of the
    jamming")."""
    return any(s.abs_t <= abs_t and s.abs_end > abs_t + cfg.rolljam_overlap_margin_s
               for s in ctx.jams.overlapping(abs_t, abs_end) if not s.earlier_run)


@dataclass
class _Keyed:
    abs_t: float
    abs_end: float
    freq_hz: float | None
    cfo_ppm: float
    handle: int


@dataclass
class _Radio:
    """The radio of a RollJam replay reported from an undecoded burst."""

    cfo_ppm: float
    duration_s: float
    freq_hz: float | None
    rx: str
    abs_t: float
    last_end: float
    identity: str | None
    first: dict      # where the replay was heard: {"capture", "t", ...}
    clipped: bool    # its burst was clipped (its fine CFO estimate is unreliable)


@dataclass
class _Attacker:
    """The radio of the first RollJam replay reported for a key."""

    cfo_ppm: float
    abs_t: float
    rx: str
    first: dict      # where the replay was heard: {"capture", "t", ...}
    freq_hz: float | None
    clipped: bool
    #: it sent on the key's own carrier (a raw-IQ replayer sends the fob's recorded carrier
    #: back): its carrier offset cannot tell its later codes from the key's own presses
    raw: bool = False


@dataclass
class _Heard:
    identity: str
    freq_hz: float | None
    cfo_ppm: float
    rx: str
    press_s: float   # first frame's start to last frame's end (s)
    clipped: bool = False
    te_us: float = float("nan")   # the press's base unit (µs)
    p_replay: float = float("nan")   # the burst classifier's replayer probability (nan: none)


#: a replayer verdict on the key's carrier counts when the burst classifier's replayer
#: probability is the likelier answer (>= this) and this far above that of every clear press of
#: the key on the same receiver (the classifier hears a different radio, not this fob's quirks)
_REPLAYER_SHIFT = 0.5


#: bursts of one radio this close (s) after its previous one are frames of the same press
_SAME_PRESS_S = 1.0


def _replayer_probability(press: Press, ctx: DetectionContext) -> float:
    """The burst classifier's raw + regenerated replay probability for ``press`` (nan without
    model or features: such a press is no genuine baseline)."""
    classes = press_classes(press, ctx)
    if classes is None:
        return float("nan")
    return classes.get("raw_replay", 0.0) + classes.get("regenerated_replay", 0.0)


def same_oscillator(cfo1: float, f1: float | None, cfo2: float, f2: float | None,
                    floor_ppm: float, clipped: bool = False) -> bool:
    """Two transmissions heard by one receiver come from one oscillator: their fine carrier
    offsets (ppm) are within ``floor_ppm``. When either was clipped its fine estimate can be
    pulled several ppm while the front end's burst carrier stays put: then carriers (absolute
    Hz) within the same floor also count."""
    if math.isfinite(cfo1) and math.isfinite(cfo2) and abs(cfo1 - cfo2) < floor_ppm:
        return True
    if not clipped or f1 is None or f2 is None or abs(f1) < 1e6:
        return False  # offsets from an unknown centre: ppm of what is not known
    return abs(f1 - f2) < floor_ppm * 1e-6 * abs(f1)


#: a clipped OOK frame's burst carrier can sit on one of its keying's spectral lines beside the
#: carrier: two presses of one fob 13 dB over full scale read burst carriers 1.3 kHz apart (lines
#: 833 Hz apart at KeeLoq's Te) while their fine offsets agreed within 0.64 ppm (development
#: jamming seed 395). Clipped carriers closer than this (Hz) tell two oscillators apart only
#: when the fine offsets disagree as well.
CLIPPED_CARRIER_SLACK_HZ = 2000.0


def other_oscillator(cfo1: float, f1: float | None, cfo2: float, f2: float | None,
                     floor_ppm: float, clipped: bool = False) -> bool:
    """Two transmissions heard by one receiver come from two oscillators: their fine carrier
    offsets (ppm) are ``floor_ppm`` or more apart, or, when either was clipped (its fine
    estimate can be pulled several ppm), their burst carriers (absolute Hz) are — by
    ``CLIPPED_CARRIER_SLACK_HZ`` at least, or by the floor with the fine offsets apart too.
    False when the measure needed is missing."""
    if clipped:
        if f1 is None or f2 is None or abs(f1) < 1e6:
            return False
        apart = abs(f1 - f2)
        if apart >= max(floor_ppm * 1e-6 * abs(f1), CLIPPED_CARRIER_SLACK_HZ):
            return True
        # closer than a keying line: the fine offsets, pulled as they may be, must differ too
        return bool(apart >= floor_ppm * 1e-6 * abs(f1)
                    and not (math.isfinite(cfo1) and math.isfinite(cfo2)
                             and abs(cfo1 - cfo2) < floor_ppm))
    return bool(math.isfinite(cfo1) and math.isfinite(cfo2) and abs(cfo1 - cfo2) >= floor_ppm)


def line_code_te(b: BurstInfo, ctx: DetectionContext) -> bool:
    """The burst's base unit (Te, µs) is a line code's (``jamming.data_te_us``): a frame, not
    a jammer's sweep or pulsing (jammers, noise and square-wave pulsing read < 40 µs or
    > 5 ms)."""
    te = b.features["te_us"] if b.features is not None else float("nan")
    lo, hi = ctx.config.jamming.data_te_us
    return bool(math.isfinite(te) and lo <= te <= hi)


#: the base unit of frames framed in a burst matches a key's when within this fraction of it
_TE_MATCH = 0.05


def framed_frames(obs: Observation) -> tuple[float, float] | None:
    """The median base unit (µs) and the span (s) of the ``unknown`` frames the decoder framed
    in the burst, or None. A raw-IQ replay transmits its recording's noise between the pulses:
    its burst's own run-width statistics are the noise's, while the decoder still frames the
    frames inside it at their line code's base unit."""
    pks = [p for p in obs.packets if p.protocol == "unknown"]
    tes = [float(p.fields.get("te_short_us", 0.0) or 0.0) for p in pks]
    tes = [t for t in tes if t > 0]
    if not tes:
        return None
    span = max(p.t_end for p in pks) - min(p.t for p in pks)
    return float(np.median(tes)), float(span)


def _near(f1: float | None, f2: float | None) -> bool:
    """Two carriers on one channel (either unknown counts as near)."""
    return f1 is None or f2 is None or abs(f1 - f2) <= _SAME_CHANNEL_HZ


class RollJamDetector(Detector):
    kinds = ("rolljam",)

    def __init__(self) -> None:
        self._bursts: deque[_Keyed] = deque()
        # identity -> the radio of its first RollJam replay
        self._attackers: dict[str, _Attacker] = {}
        # radios of RollJam replays (decoded or not), for the kept code sent undecoded later
        self._radios: list[_Radio] = []
        # the latest press heard per identity (carrier, offset, receiver)
        self._heard: deque[_Heard] = deque(maxlen=64)

    def observe_burst(self, obs: Observation, ctx: DetectionContext) -> list[Alert]:
        b = obs.burst
        if b is None or b.features is None:
            return []
        on, cfo = b.features["on_fraction"], b.features["cfo_ppm"]
        cap = ctx.capture
        # keyed (OOK data-like) bursts with a measured carrier: a fob, not a carrier or noise
        if math.isfinite(cfo) and math.isfinite(on) and 0.15 <= on <= 0.85:
            self._bursts.append(_Keyed(cap.abs_t(b.t), cap.abs_t(b.t_end), b.freq_hz,
                                       float(cfo), ctx.handle))
        while self._bursts and ctx.now - self._bursts[0].abs_end > _KEEP_S:
            self._bursts.popleft()
        if not math.isfinite(cfo) or not undecoded(obs):
            return []
        return self._undecoded_replay(b, float(cfo), ctx, framed_frames(obs))

    # RollJam with neither side decoded ------------------------------------------------------
    def _undecoded_replay(self, b: BurstInfo, cfo: float, ctx: DetectionContext,
                          framed: tuple[float, float] | None = None) -> list[Alert]:
        """An undecoded frame-length burst right after jamming, on the channel of the keyed
        bursts heard under the jammer, from another oscillator: the replay of a jammed code
        (clipped replayers and regenerating radios often do not decode). Or, later, one from the
        oscillator of such a replay: the kept second code."""
        cfg = ctx.config.replay
        floor = ctx.config.fingerprint.cfo_floor_ppm
        if not cfg.rolljam_burst_min_s <= b.duration_s <= cfg.rolljam_burst_max_s:
            return []
        cap = ctx.capture
        a, z = cap.abs_t(b.t), cap.abs_t(b.t_end)
        rx = receiver_key(cap.receiver, cap.name)
        self._radios = [r for r in self._radios if a - r.abs_t <= cfg.rolljam_followup_s]
        # frames of a replay already reported (a replayer sends several) add nothing
        for r in self._radios:
            if r.rx == rx and a - r.last_end <= _SAME_PRESS_S and _near(b.freq_hz, r.freq_hz):
                r.last_end = max(r.last_end, z)
                return []
        for r in self._radios:
            if (r.rx == rx and same_oscillator(cfo, b.freq_hz, r.cfo_ppm, r.freq_hz, floor,
                                               clipped(b.features.values) or r.clipped)
                    and _near(b.freq_hz, r.freq_hz)
                    and abs(b.duration_s - r.duration_s)
                    <= cfg.rolljam_followup_duration_tol * r.duration_s
                    and a - r.abs_t <= cfg.rolljam_followup_s):
                r.last_end = z
                return [self._undecoded_followup(b, cfo, r, a, ctx)]
        # a replayed frame carries a line code: its base unit is a data rate's (jammers, noise
        # and square-wave pulsing measure Te < 40 µs or > 5 ms); a pulsed or swept jammer's
        # burst, not yet in the jamming log, is not a replay
        lo, hi = ctx.config.jamming.data_te_us
        framed_te = framed is not None and lo <= framed[0] <= hi
        if not (line_code_te(b, ctx) or framed_te):
            return []
        after = cfg.rolljam_after_jam_s
        if _still_jammed(a, z, cfg, ctx):
            return []
        spans = [s for s in ctx.jams.overlapping(a - after, a)
                 if s.abs_end <= a + cfg.rolljam_overlap_margin_s and not s.earlier_run]
        if not spans:
            return []
        span = max(spans, key=lambda s: s.abs_end)
        # keyed bursts on this channel under any of the jammers (away from that jammer's own
        # carrier): what the owner's fob sent while it was jammed
        victims = [k for k in self._bursts
                   if k.handle == ctx.handle and _near(k.freq_hz, b.freq_hz)
                   and any(s.abs_t <= k.abs_t <= s.abs_end
                           and (k.freq_hz is None or s.freq_hz is None
                                or abs(k.freq_hz - s.freq_hz) >= _OFF_JAMMER_HZ)
                           for s in spans)]
        # keys heard on this channel before (outside jamming): the owner's own fob
        heard = [h for h in self._heard if h.rx == rx and _near(h.freq_hz, b.freq_hz)]
        # the channel must have been denied: keyed bursts under the jammer, or a jammer beside
        # the channel of a key heard here (RollJam jams next to the fob's channel so that the
        # car's wide filter is blocked and the attacker's narrow one is not)
        over = any(s.freq_hz is None or b.freq_hz is None
                   or abs(s.freq_hz - b.freq_hz) <= cfg.rolljam_max_offset_hz for s in spans)
        if not victims and not (heard and over):
            return []
        # the frames the decoder framed in it carry the base unit of the key heard here: the
        # key's frames, whatever the burst's own statistics say (a raw-IQ replay's noise floor)
        keys_te = framed_te and any(
            math.isfinite(h.te_us) and abs(framed[0] - h.te_us) <= _TE_MATCH * h.te_us
            for h in heard)
        # its frames' length: a raw-IQ replay's burst also holds its recording's lead-in and tail
        length = framed[1] if keys_te else b.duration_s
        if heard and length > heard[-1].press_s * (1.0 + cfg.rolljam_followup_duration_tol):
            return []  # longer than the key's press: not its frames sent again
        ref = float(np.median([k.cfo_ppm for k in victims])) if victims else heard[-1].cfo_ppm
        # a raw-IQ replay carries the fob's own carrier offset: the classifier judges it
        classes = burst_classes(b, ctx)
        if classes is not None and not keys_te and \
                classes.get("jammer", 0.0) >= ctx.config.jamming.jammer_probability:
            return []  # the jammer itself (a swept or pulsed one), not a replayed frame
        p_replay = 0.0 if classes is None else (
            classes.get("raw_replay", 0.0) + classes.get("regenerated_replay", 0.0))
        replayer = p_replay >= cfg.rolljam_replay_probability
        # the fob itself, pressed again after the jamming, or another transmitter heard on
        # this channel before (a frame of the owner's fob that failed to decode)
        if not replayer and (abs(cfo - ref) < floor
                             or any(abs(cfo - h.cfo_ppm) < floor for h in heard)):
            return []
        identity = heard[-1].identity if heard else None
        gap = a - span.abs_end
        ev = {"reason": "undecoded_foreign_burst_right_after_jamming", "decoded": False,
              "method": "bursts_under_jamming" if victims else "key_heard_before",
              "bursts_under_jamming": len(victims),
              "their_cfo_ppm": ref, "burst_cfo_ppm": cfo, "cfo_shift_ppm": cfo - ref,
              "burst": {"capture": cap.name, "t": b.t, "t_end": b.t_end, "freq_hz": b.freq_hz,
                        "rssi_db": b.rssi_db}, "jamming": span.where(), "after_jamming_s": gap,
              "identity_guess": identity, "burst_class": classes,
              "classifier_says_replayer": replayer}
        if keys_te:
            ev["framed_te_us"] = framed[0]
            ev["framed_span_s"] = framed[1]
        who = identity or "a key"
        how = (f"the burst classifier calls it a replay (P = {p_replay:.2f})" if replayer else
               f"its carrier offset is {cfo - ref:+.1f} ppm from the key's")
        summary = (f"Right after jamming ({fmt_s(max(gap, 0.0))} after it stopped) a transmission "
                   f"on the channel of {who}, which was jammed, came from another radio ({how}); "
                   "it did not decode: the RollJam pattern (jam the owner's presses, replay a "
                   "captured code).")
        alert = make_alert("rolljam", cap, b.t, b.t_end, "critical", 0.8, summary, identity, ev)
        self._radios.append(_Radio(cfo, b.duration_s, b.freq_hz, rx, a, z, identity,
                                   {"capture": cap.name, "t": b.t}, clipped(b.features.values)))
        if identity is not None and identity not in self._attackers:
            # the key was hit by RollJam: its kept code may come later, decoded
            self._attackers[identity] = self._attacker(
                identity, cfo, a, rx, {"capture": cap.name, "t": b.t}, b.freq_hz,
                clipped(b.features.values), floor)
        return [alert]

    def _remember_replayer(self, press: Press, vec, ctx: DetectionContext) -> None:
        if vec is None or not math.isfinite(vec[_CFO]):
            return
        cfg = ctx.config.replay
        spans = [s for s in ctx.jams.overlapping(press.abs_t - cfg.rolljam_after_jam_s,
                                                 press.abs_t)
                 if s.abs_end <= press.abs_t + cfg.rolljam_overlap_margin_s]
        if spans:
            rx = receiver_key(press.capture.receiver, press.capture.name)
            known = self._attackers[press.identity] = self._attacker(
                press.identity, float(vec[_CFO]), press.abs_t, rx, press.where(), press.freq_hz,
                clipped(vec), ctx.config.fingerprint.cfo_floor_ppm)
            if not known.raw:
                self._radios.append(_Radio(known.cfo_ppm, press.abs_end - press.abs_t,
                                           press.freq_hz, rx, press.abs_t, press.abs_end,
                                           press.identity, press.where(), known.clipped))

    def _attacker(self, identity: str, cfo: float, abs_t: float, rx: str, first: dict,
                  freq_hz: float | None, is_clipped: bool, floor: float,
                  raw: bool = False) -> _Attacker:
        """A RollJam replayer's record; ``raw`` also when it sent on the carrier of a press of
        the key this receiver heard clear of jamming."""
        raw = raw or any(h.identity == identity and h.rx == rx
                         and same_oscillator(cfo, freq_hz, h.cfo_ppm, h.freq_hz, floor,
                                             is_clipped or h.clipped) for h in self._heard)
        return _Attacker(cfo, abs_t, rx, first, freq_hz, is_clipped, raw)

    @staticmethod
    def _undecoded_followup(b: BurstInfo, cfo: float, r: "_Radio", a: float,
                            ctx: DetectionContext) -> Alert:
        cap = ctx.capture
        ev = {"reason": "same_radio_as_earlier_rolljam_replay", "decoded": False,
              "burst": {"capture": cap.name, "t": b.t, "t_end": b.t_end, "freq_hz": b.freq_hz},
              "burst_cfo_ppm": cfo, "attacker_cfo_ppm": r.cfo_ppm,
              "burst_duration_s": b.duration_s, "replay_duration_s": r.duration_s,
              "first_replay": r.first,
              "since_first_replay_s": a - r.abs_t}
        who = r.identity or "the jammed key"
        summary = (f"The radio that replayed a jammed code of {who} {fmt_s(a - r.abs_t)} earlier "
                   "sent again (same carrier offset, same frame length): the second code RollJam "
                   "kept is being used.")
        return make_alert("rolljam", cap, b.t, b.t_end, "critical", 0.8, summary, r.identity, ev)

    def observe_press(self, press: Press, ctx: DetectionContext) -> list[Alert]:
        # an identity learned on the fly is shared by every transmitter of its kind (a sensor
        # right after jamming is "another radio" of it): its frames count as undecoded bursts
        if press.identity is None or press.fixed_code or learned_identity(press):
            return []
        vec = press_fingerprint(press)
        if "old" in press.flags:
            # old codes: the replay detector decides (it sees jamming by code); an old code
            # sent right after jamming is a RollJam replay whose radio may send the kept code
            # later without decoding
            self._remember_replayer(press, vec, ctx)
            return []
        if vec is None or not math.isfinite(vec[_CFO]):
            return self._followup_unmeasured(press, ctx)
        out = self._judge(press, vec, ctx)
        if not out and not press.flags & {"foreign", "relayed", "rolljam"} \
                and not heard_through_jamming(press.abs_t, press.abs_end, press.rssi_db, ctx):
            # what the owner's fob sounds like here (a jammed press's carrier is the jammer's)
            self._heard.append(_Heard(press.identity, press.freq_hz, float(vec[_CFO]),
                                      receiver_key(press.capture.receiver, press.capture.name),
                                      press.abs_end - press.abs_t, clipped(vec),
                                      float(vec[_TE]), _replayer_probability(press, ctx)))
        return out

    def _judge(self, press: Press, vec: np.ndarray, ctx: DetectionContext) -> list[Alert]:
        cfg = ctx.config.replay
        floor = ctx.config.fingerprint.cfo_floor_ppm
        cfo = float(vec[_CFO])
        rx = receiver_key(press.capture.receiver, press.capture.name)
        known = self._attackers.get(press.identity)
        if known is not None and known.rx == rx \
                and press.abs_t - known.abs_t <= cfg.rolljam_followup_s:
            if known.raw:
                # the replayer sent the key's own carrier: only its trace tells it from the key
                trace = CloneDetector.replayer_trace(press, vec, ctx)
                if trace is not None:
                    press.flags.add("rolljam")
                    return [self._followup(press, known, trace=trace)]
            elif same_oscillator(cfo, press.freq_hz, known.cfo_ppm, known.freq_hz, floor,
                                 clipped(vec) or known.clipped):
                press.flags.add("rolljam")
                return [self._followup(press, known)]
            # RollJam keeps a code for later: a fresh code of this key from a radio that is not
            # the key is that code being spent, whatever radio sends it (the replayer's own
            # carrier may not have been measured: its first replay decoded only on an image)
            foreign = self._foreign(press, vec, ctx, ctx.fingerprints.compare(
                press.identity, vec, press.capture))
            if foreign is not None:
                press.flags.add("rolljam")
                return [self._followup(press, known, foreign)]
        after = cfg.rolljam_after_jam_s
        if _still_jammed(press.abs_t, press.abs_end, cfg, ctx):
            return []
        spans = [s for s in ctx.jams.overlapping(press.abs_t - after, press.abs_t)
                 if s.abs_end <= press.abs_t + cfg.rolljam_overlap_margin_s
                 and not s.earlier_run]
        if not spans:
            return []
        span = max(spans, key=lambda s: s.abs_end)
        # keyed bursts on the press's channel under any of the jammers, away from that jammer's
        # own carrier (a jammer seen at several offsets is several spans)
        victims = [k for k in self._bursts
                   if k.handle == press.handle and not (press.abs_t <= k.abs_t <= press.abs_end)
                   and _near(k.freq_hz, press.freq_hz)
                   and any(s.abs_t <= k.abs_t <= s.abs_end
                           and (k.freq_hz is None or s.freq_hz is None
                                or abs(k.freq_hz - s.freq_hz) >= _OFF_JAMMER_HZ)
                           for s in spans)]
        # a raw-IQ replayer sends the fob's own carrier back: the classifier judges the radio
        classes = press_classes(press, ctx)
        p_raw = 0.0 if classes is None else classes.get("raw_replay", 0.0)
        p_replay = p_raw + (0.0 if classes is None else classes.get("regenerated_replay", 0.0))
        replayer = p_replay >= cfg.rolljam_replay_probability
        # a radio whose carrier and fingerprint match the fob's is the fob or a raw-IQ replay
        # of it: a regenerating replayer has its own crystal, clock and edges. Where they match,
        # only a raw-replay verdict speaks for a replayer (an idealised fob is no attacker)
        raw_replayer = p_raw >= cfg.rolljam_replay_probability
        # ... or a replayer verdict far above the one for every clear press of this key on this
        # receiver: the radio changed, not the way the classifier sees this fob (a regenerating
        # replayer's crystal can sit within a ppm of the fob's; an idealised fob is called a
        # replayer on every press, so it never has a genuine baseline; nan is no baseline)
        own_p = [h.p_replay for h in self._heard if h.identity == press.identity and h.rx == rx]
        changed = p_replay >= _REPLAYER_SHIFT and bool(own_p) \
            and all(p_replay - p >= _REPLAYER_SHIFT for p in own_p)
        raw_replayer = raw_replayer or changed
        basis = None
        if victims:
            ref = float(np.median([k.cfo_ppm for k in victims]))
            # bursts under a jammer carry a carrier the jammer pulled (and some are the
            # jammer's own fragments): where this key was heard clear of jamming on this
            # receiver and the press sits on that carrier, it is the fob itself
            own = [h.cfo_ppm for h in self._heard if h.identity == press.identity and h.rx == rx]
            if raw_replayer or not (abs(cfo - ref) < floor
                                    or own and abs(cfo - float(np.median(own))) < floor):
                basis = {"method": "bursts_under_jamming", "bursts_under_jamming": len(victims),
                         "their_cfo_ppm": ref, "press_cfo_ppm": cfo, "cfo_shift_ppm": cfo - ref}
        else:
            cmp = ctx.fingerprints.compare(press.identity, vec, press.capture)
            foreign = self._foreign(press, vec, ctx, cmp)
            if foreign is not None or raw_replayer or (replayer and cmp is None):
                basis = foreign or {"method": "identity_fingerprint",
                                    "fingerprint": None if cmp is None else cmp.evidence()}
        trace = None
        if basis is None:
            # on the fob's own carrier: the fob pressed again after the jamming, or a raw-IQ
            # replayer (a recording sent back by the SDR that made it reproduces the fob's
            # carrier exactly), which leaves its own trace in the press's gaps (its LO leakage,
            # the recording's noise floor) that the key's earlier presses do not carry
            trace = CloneDetector.replayer_trace(press, vec, ctx)
            if trace is None:
                return []
            basis = {"method": "replayer_trace", "trace": trace[0], "detail": trace[1],
                     "press_cfo_ppm": cfo}
        if replayer:
            basis = dict(basis, classifier_says_replayer=True, burst_class=classes)
        press.flags.add("rolljam")
        alert = self._alert(press, span, basis)
        known = self._attackers[press.identity] = self._attacker(
            press.identity, cfo, press.abs_t, rx, {"capture": alert.capture, "t": alert.t},
            press.freq_hz, clipped(vec), floor, raw=trace is not None)
        if not known.raw:
            # (a raw-IQ replayer's carrier is the key's: the key's own bursts would match it)
            self._radios.append(_Radio(cfo, press.abs_end - press.abs_t, press.freq_hz, rx,
                                       press.abs_t, press.abs_end, press.identity,
                                       {"capture": alert.capture, "t": alert.t}, clipped(vec)))
        return [alert]

    def _foreign(self, press: Press, vec: np.ndarray, ctx: DetectionContext,
                 cmp: Comparison | None) -> dict | None:
        """Evidence that ``press`` came from another radio than its key, or None: its
        fingerprint does not match the identity's reference (``cmp``, the comparison with it),
        or its oscillator is not the one of every press of the key this receiver heard clear of
        jamming (carrier offset, or the burst carrier when either was clipped)."""
        if cmp is not None and cmp.mismatch:
            return {"method": "identity_fingerprint", "fingerprint": cmp.evidence()}
        rx = receiver_key(press.capture.receiver, press.capture.name)
        own = [h for h in self._heard if h.identity == press.identity and h.rx == rx]
        floor = ctx.config.fingerprint.cfo_floor_ppm
        cfo = float(vec[_CFO])
        if own and all(other_oscillator(cfo, press.freq_hz, h.cfo_ppm, h.freq_hz, floor,
                                        h.clipped or clipped(vec)) for h in own):
            return {"method": "key_heard_before", "key_presses": len(own),
                    "key_cfo_ppm": float(np.median([h.cfo_ppm for h in own])),
                    "key_freq_hz": own[-1].freq_hz, "press_cfo_ppm": cfo,
                    "press_freq_hz": press.freq_hz, "clipped": clipped(vec)
                    or any(h.clipped for h in own),
                    "fingerprint": None if cmp is None else cmp.evidence()}
        return None

    def _followup_unmeasured(self, press: Press, ctx: DetectionContext) -> list[Alert]:
        """A decoded press of a key RollJam hit that has no fingerprint (its frames fill under
        half of their burst, or every burst's base unit failed): its bursts' own carrier offset
        still tells whether the radio that replayed the jammed code sent it, as for an
        undecoded burst (development RollJam seed 414: the kept code, 10 s after the first
        replay, decoded one clipped frame of three)."""
        known = self._attackers.get(press.identity)
        rx = receiver_key(press.capture.receiver, press.capture.name)
        if known is None or known.raw or known.rx != rx or \
                press.abs_t - known.abs_t > ctx.config.replay.rolljam_followup_s:
            return []  # (a raw replayer's carrier is the key's: it tells nothing)
        measured = [b for b in press.bursts if b.features is not None]
        vec = press_vector(measured)
        if vec is None or not math.isfinite(vec[_CFO]):
            return []
        cfo = float(vec[_CFO])
        if not same_oscillator(cfo, press.freq_hz, known.cfo_ppm, known.freq_hz,
                               ctx.config.fingerprint.cfo_floor_ppm,
                               known.clipped or any(clipped(b.features.values) for b in measured
                                               if math.isfinite(b.features["cfo_ppm"]))):
            return []
        press.flags.add("rolljam")
        return [self._followup(press, known, press_cfo_ppm=cfo)]

    @staticmethod
    def _followup(p: Press, known: _Attacker, foreign: dict | None = None,
                  press_cfo_ppm: float | None = None,
                  trace: tuple[str, dict] | None = None) -> Alert:
        """``press_cfo_ppm``: the press's carrier offset when its fingerprint has none;
        ``trace``: the raw-IQ replayer's trace found on the press (:meth:`CloneDetector.
        replayer_trace`), when the replayer sent the key's own carrier."""
        if press_cfo_ppm is None:
            press_cfo_ppm = p.notes["_vector"][_CFO]
        cfo, at, first = known.cfo_ppm, known.abs_t, known.first
        ev = {"reason": "same_radio_as_earlier_rolljam_replay" if foreign is None
              else "foreign_radio_after_earlier_rolljam_replay", "code": p.code,
              "protocol": p.protocol, "press": p.where(), "press_cfo_ppm": press_cfo_ppm,
              "attacker_cfo_ppm": cfo, "first_replay": first,
              "since_first_replay_s": p.abs_t - at}
        if foreign is not None:
            ev["not_the_key"] = foreign
            summary = (f"{p.identity} sent a fresh code from a radio that is not the key, "
                       f"{fmt_s(p.abs_t - at)} after a RollJam replay of its jammed code: the "
                       "second code RollJam kept is being used.")
            return make_alert("rolljam", p.capture, p.t, p.t_end, "critical", 0.85, summary,
                              p.identity, ev)
        if trace is not None:
            ev["replayer_trace"] = {"trace": trace[0], "detail": trace[1]}
            summary = (f"{p.identity} sent a fresh code carrying the trace of the raw-IQ "
                       f"replayer ({trace[0].replace('_', ' ')}) that replayed its jammed code "
                       f"{fmt_s(p.abs_t - at)} earlier: the second code RollJam kept is being "
                       "used.")
            return make_alert("rolljam", p.capture, p.t, p.t_end, "critical", 0.85, summary,
                              p.identity, ev)
        summary = (f"{p.identity} was heard again from the radio that replayed its jammed code "
                   f"{fmt_s(p.abs_t - at)} earlier: the second code RollJam kept is being used.")
        return make_alert("rolljam", p.capture, p.t, p.t_end, "critical", 0.9, summary,
                          p.identity, ev)

    @staticmethod
    def _alert(p: Press, span: JamSpan, basis: dict) -> Alert:
        gap = p.abs_t - span.abs_end
        ev = dict(basis, reason="foreign_radio_right_after_jamming", code=p.code,
                  protocol=p.protocol, press=p.where(), jamming=span.where(),
                  after_jamming_s=gap)
        if basis["method"] == "replayer_trace":
            summary = (f"{p.identity} was heard {fmt_s(max(gap, 0.0))} after jamming stopped, "
                       "on the key's own carrier but carrying a raw-IQ replayer's trace "
                       f"({basis['trace'].replace('_', ' ')}) that the key's earlier presses do "
                       "not: the RollJam pattern (jam the owner's presses, replay a captured "
                       "code).")
        else:
            summary = (f"{p.identity} was heard from a radio that is not the fob jammed moments "
                       f"before, {fmt_s(max(gap, 0.0))} after the jamming stopped: the RollJam "
                       "pattern (jam the owner's presses, replay a captured code).")
        conf = 0.9 if basis["method"] == "bursts_under_jamming" else 0.85
        return make_alert("rolljam", p.capture, p.t, p.t_end, "critical", conf, summary,
                          p.identity, ev)
