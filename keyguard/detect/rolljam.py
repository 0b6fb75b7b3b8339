"""RollJam when the jammed presses could not be decoded: a foreign radio right after jamming.

The replay detector catches RollJam by code when the receiver decoded the owner's presses
through the jammer. When it could not (the jammer sits in the fob's channel, or is too strong),
the presses still left bursts — keyed, at the fob's carrier, weaker than the jammer — and those
carry the fob's carrier offset. RollJam then replays a captured code from another radio within
seconds of switching the jammer off. This detector remembers the keyed bursts heard under each
jamming span and, for a press that starts within ``rolljam_after_jam_s`` after jamming stopped,
compares its carrier offset with theirs (same receiver, same capture: no calibration needed);
when no burst was heard under the jammer it falls back to the identity's reference fingerprint.
A press from a different oscillator is reported as ``rolljam``. RollJam keeps the second code
for later: a later fresh code of the same identity from that same foreign oscillator (its
carrier offset within the CFO floor) within ``rolljam_followup_s`` is reported as ``rolljam``
too.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from keyguard.detect.base import DetectionContext, Detector, fmt_s, make_alert
from keyguard.detect.fingerprint import press_fingerprint, receiver_key
from keyguard.detect.jamlog import JamSpan
from keyguard.detect.observation import Observation
from keyguard.detect.presses import Press
from keyguard.events import Alert
from keyguard.features.vector import FEATURE_NAMES

_CFO = FEATURE_NAMES.index("cfo_ppm")
#: bursts remembered for this long (s) after they end
_KEEP_S = 120.0
#: a keyed burst this far (Hz) from a jammer's carrier is not part of the jammer
_OFF_JAMMER_HZ = 20e3
#: ... and this close (Hz) to a press's carrier is on its channel
_SAME_CHANNEL_HZ = 30e3


@dataclass
class _Keyed:
    abs_t: float
    abs_end: float
    freq_hz: float | None
    cfo_ppm: float
    handle: int


class RollJamDetector(Detector):
    kinds = ("rolljam",)

    def __init__(self) -> None:
        self._bursts: deque[_Keyed] = deque()
        # identity -> (attacker's CFO ppm, timeline time, receiver key, first RollJam alert)
        self._attackers: dict[str, tuple[float, float, str, Alert]] = {}

    def observe_burst(self, obs: Observation, ctx: DetectionContext) -> list[Alert]:
        b = obs.burst
        if b is None or b.features is None:
            return []
        on, cfo = b.features["on_fraction"], b.features["cfo_ppm"]
        # keyed (OOK data-like) bursts with a measured carrier: a fob, not a carrier or noise
        if math.isfinite(cfo) and math.isfinite(on) and 0.15 <= on <= 0.85:
            cap = ctx.capture
            self._bursts.append(_Keyed(cap.abs_t(b.t), cap.abs_t(b.t_end), b.freq_hz,
                                       float(cfo), ctx.handle))
        while self._bursts and ctx.now - self._bursts[0].abs_end > _KEEP_S:
            self._bursts.popleft()
        return []

    def observe_press(self, press: Press, ctx: DetectionContext) -> list[Alert]:
        if press.identity is None or press.fixed_code or "old" in press.flags:
            return []  # old codes: the replay detector decides (it sees jamming by code)
        vec = press_fingerprint(press)
        if vec is None or not math.isfinite(vec[_CFO]):
            return []
        cfg = ctx.config.replay
        floor = ctx.config.fingerprint.cfo_floor_ppm
        cfo = float(vec[_CFO])
        rx = receiver_key(press.capture.receiver, press.capture.name)
        known = self._attackers.get(press.identity)
        if known is not None and known[2] == rx and abs(cfo - known[0]) < floor \
                and press.abs_t - known[1] <= cfg.rolljam_followup_s:
            press.flags.add("rolljam")
            return [self._followup(press, known)]
        after = cfg.rolljam_after_jam_s
        spans = [s for s in ctx.jams.overlapping(press.abs_t - after, press.abs_t)
                 if s.abs_end <= press.abs_t + cfg.rolljam_overlap_margin_s
                 and not s.earlier_run]
        if not spans:
            return []
        span = max(spans, key=lambda s: s.abs_end)
        victims = [k for k in self._bursts
                   if k.handle == press.handle and span.abs_t <= k.abs_t <= span.abs_end
                   and not (press.abs_t <= k.abs_t <= press.abs_end)
                   and (k.freq_hz is None or press.freq_hz is None
                        or abs(k.freq_hz - press.freq_hz) <= _SAME_CHANNEL_HZ)
                   and (k.freq_hz is None or span.freq_hz is None
                        or abs(k.freq_hz - span.freq_hz) >= _OFF_JAMMER_HZ)]
        if victims:
            ref = float(np.median([k.cfo_ppm for k in victims]))
            if abs(cfo - ref) < floor:
                return []  # the fob itself, pressed again after the jamming
            basis = {"method": "bursts_under_jamming", "bursts_under_jamming": len(victims),
                     "their_cfo_ppm": ref, "press_cfo_ppm": cfo, "cfo_shift_ppm": cfo - ref}
        else:
            cmp = ctx.fingerprints.compare(press.identity, vec, press.capture)
            if cmp is None or not cmp.mismatch:
                return []
            basis = {"method": "identity_fingerprint", "fingerprint": cmp.evidence()}
        press.flags.add("rolljam")
        alert = self._alert(press, span, basis)
        self._attackers[press.identity] = (cfo, press.abs_t, rx, alert)
        return [alert]

    @staticmethod
    def _followup(p: Press, known: tuple) -> Alert:
        cfo, at, _rx, first = known
        ev = {"reason": "same_radio_as_earlier_rolljam_replay", "code": p.code,
              "protocol": p.protocol, "press": p.where(), "press_cfo_ppm": p.notes["_vector"][_CFO],
              "attacker_cfo_ppm": cfo, "first_replay": {"capture": first.capture, "t": first.t},
              "since_first_replay_s": p.abs_t - at}
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
        summary = (f"{p.identity} was heard from a radio that is not the fob jammed moments "
                   f"before, {fmt_s(max(gap, 0.0))} after the jamming stopped: the RollJam "
                   "pattern (jam the owner's presses, replay a captured code).")
        conf = 0.9 if basis["method"] == "bursts_under_jamming" else 0.85
        return make_alert("rolljam", p.capture, p.t, p.t_end, "critical", conf, summary,
                          p.identity, ev)
