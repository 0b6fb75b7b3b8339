"""Relay: a transmission whose RF evidence says it was forwarded rather than sent by the fob at
the car.

An RTL-SDR cannot time the car's LF challenge, so the evidence is what forwarding does to the
UHF answer (domain notes, PKES relays):

- the trained burst classifier's probability that the burst was relayed (when a model is loaded);
- level: far weaker than the identity has ever been heard (the fob answered from afar: an
  LF-only relay) — ``relay_level_drop_db`` below its weakest reference press, or
  ``relay_level_alone_db`` below the weakest press the same receiver heard (then alone
  enough, from one such press on);
- amplifier noise: the power in the frame's gaps well above the noise outside the burst, or a
  band of noise switched on around the frame and far weaker than it (the relay's amplifier,
  on only while it forwards);
- delayed copies: a secondary peak in the edge autocorrelation (µs-scale echo);
- frequency translation: a carrier shifted 1–8 ppm from the identity's own while the bit clock
  is the fob's (an up/down-converting relay forwards the fob's waveform; a replayer or a clone
  would bring its own clock).

Only passive-entry answers are judged where the profile tells them from button presses
(``[passive_entry]``, KeeLoq: button status 0): a relay forwards the fob's answer to the car's
LF challenge, and an owner's button press, weak from afar or loud from beside the receiver, is
none. Presses of other profiles are all judged.

Presses of one key judged relayed within ``relay_episode_gap_s`` of each other (a double press,
a car asking twice) are one episode: one alert. A relay's answer that nobody could decode (a DF
relay's regenerated frames, an AF relay's clipped copy) is still judged by the classifier: an
undecoded frame-length burst outside jamming with P(relayed) ≥ ``relay_burst_probability``
raises one alert per episode, without an identity (a clipped one from
``relay_clipped_burst_probability``; one whose pulses were not cut apart only under a relay
amplifier's noise, :func:`amplifier_like`), unless its envelope beats like two transmitters
keyed at once (``fingerprint.beating``). Presses heard through a jammer are not
judged (their RF evidence is the jammer's), nor presses of identities learned on the fly from
unprofiled frames (several transmitters share one), nor presses that collided with another
transmitter (``clone.CloneDetector.collided``).

Each rule gives a score in 0..1. One rule alone does not make a relay, except a level drop with
the fob's own fingerprint and an amplifier's noise band around the frame; the press score is the
larger of that and the classifier's probability once that reaches ``relay_press_probability``.
An undecoded burst right after a decoded frame on its carrier is a frame of that press that
failed to decode (judged with the press, not alone); so are undecoded bursts just before a
decoded frame, and copies starting inside one, when that decoded frame does not itself look
relayed (an undecoded burst's alert waits for them). Presses already reported (replays,
RollJam) are left alone.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from keyguard.detect.base import DetectionContext, Detector, make_alert
from keyguard.detect.classify import burst_classes, press_classes
from keyguard.detect.config import FingerprintConfig
from keyguard.detect.fingerprint import beating, clipped, leak_filled, learned_identity, \
    press_fingerprint, receiver_key
from keyguard.detect.jamming import heard_through_jamming
from keyguard.detect.observation import BurstInfo, Observation
from keyguard.detect.presses import Press
from keyguard.events import Alert
from keyguard.features.vector import FEATURE_NAMES

_IX = {n: i for i, n in enumerate(FEATURE_NAMES)}
#: long undecoded emissions are remembered this long (s) after they end
_HELD_KEEP_S = 10.0


def _ramp(x: float, lo: float, hi: float) -> float:
    """0 below ``lo``, 1 above ``hi``, linear between (NaN → 0)."""
    if not math.isfinite(x):
        return 0.0
    return float(min(1.0, max(0.0, (x - lo) / (hi - lo))))


def _te_far_off(te_us: np.ndarray, lo_us: float, hi_us: float) -> np.ndarray:
    """Measured base units (µs) three or more times off the range [lo_us, hi_us]: an envelope
    not cut into its pulses (NaN: never)."""
    return (te_us >= 3.0 * hi_us) | (te_us <= lo_us / 3.0)


def unsegmented(press: Press, ctx: DetectionContext) -> bool:
    """The press's frames measured a base unit three or more times off its profile's: their
    envelope was not cut into its pulses (a fob 25 dB over full scale whose carrier leak filled
    the gaps: Te read 5,000–15,600 µs against 400), so every envelope feature, and the burst
    classifier's verdict on them, describes the clipping, not the transmitter."""
    te = ctx.profiles.facts(press.protocol).te_us if press.protocol else None
    if not te or not press.features:
        return False
    vals = np.array([f["te_us"] for f in press.features], dtype=np.float64)
    vals = vals[np.isfinite(vals)]
    return bool(vals.size) and bool(np.all(_te_far_off(vals, te, te)))


def unsegmented_burst(b: BurstInfo, ctx: DetectionContext) -> bool:
    """An undecoded burst whose envelope was not cut into its pulses: it measured a base unit
    three or more times off every known protocol's (beyond a third of the shortest or three
    times the longest), or its gaps were filled by its carrier leak
    (:func:`~keyguard.detect.fingerprint.leak_filled`). As for :func:`unsegmented`, its
    envelope features then describe a receiver swamped by a transmitter beside it (Te
    3,600–16,500 µs, or on 90 % with three 92 ms pulses for a KeeLoq press's three frames and
    a Te read 2,413 µs off their edges), so the classifier's verdict counts only under a relay
    amplifier's noise (``relay_noise_*``)."""
    if leak_filled(b.features.values):
        return True
    known = ctx.profiles.te_range_us()
    return known is not None and bool(_te_far_off(np.float64(b.features["te_us"]), *known))


def amplifier_like(b: BurstInfo, cfg: FingerprintConfig) -> bool:
    """A held, wide, steady emission (``relay_noise_min_s``, ``relay_noise_min_bw_hz``,
    ``relay_noise_min_on``), as a relay amplifier's noise looks to the front end (cut into
    segments of at most a second): development AF relays 250–520 kHz wide, on 78–100 % of the
    time; sensors' and doorbells' long transmissions are 48–72 kHz wide and keyed 25–40 %."""
    return (b.duration_s >= cfg.relay_noise_min_s and b.bandwidth_hz is not None
            and b.bandwidth_hz >= cfg.relay_noise_min_bw_hz and b.on_fraction is not None
            and b.on_fraction >= cfg.relay_noise_min_on)


def undecoded(obs: Observation) -> bool:
    """No packet of the burst names a transmitter (nothing, or only ``unknown`` frames)."""
    return not any(p.identity is not None and p.protocol != "unknown" for p in obs.packets)


class _Frame(NamedTuple):
    """A decoded frame as the undecoded-burst rule remembers it."""

    start: float    # timeline (s)
    end: float
    freq_hz: float
    protocol: str
    genuine: bool   # the classifier gave it P(relayed) under ``relay_burst_probability``


@dataclass
class _Waiting:
    """An undecoded relayed burst's alert, waiting for the frames that could speak for it."""

    alert: Alert
    start: float                # timeline start of the burst (s)
    end: float                  # and its end
    freq_hz: float | None
    before: tuple | None        # the relay episode before this one began
    last_end: float             # end of the episode's latest undecoded burst
    episode_start: bool = True  # the current episode began with this alert


class RelayDetector(Detector):
    kinds = ("relay",)

    def __init__(self) -> None:
        # the open undecoded relay episode: (timeline end of its last burst, receiver key)
        self._episode: tuple[float, str] | None = None
        # identity -> timeline end of its latest press judged relayed: presses of one key
        # within ``relay_episode_gap_s`` of it are the same relay episode (one alert)
        self._press_episode: dict[str, float] = {}
        # undecoded relayed bursts waiting until no decoded frame can still speak for them
        self._pending: list[_Waiting] = []
        # decoded frames of the last second, latest last: undecoded bursts on their carrier
        # just before, inside or just after one may be that press's own
        self._frames: deque[_Frame] = deque()
        # undecoded long emissions (timeline start, end, carrier, level, receiver key), latest
        # last: a relay amplifier's noise around the frames it forwards
        self._held: deque = deque()

    def observe_burst(self, obs: Observation, ctx: DetectionContext) -> list[Alert]:
        """A frame-length burst nothing decoded, outside jamming, that the classifier calls
        relayed: a relay's answer the front end could not read (a DF relay's regenerated frames,
        an AF relay's clipped or noise-buried copy). One alert per episode."""
        b = obs.burst
        model = ctx.models.get("burst")
        if b is None:
            return []
        cap = ctx.capture
        a, z = cap.abs_t(b.t), cap.abs_t(b.t_end)
        cfg = ctx.config.fingerprint
        nothing = undecoded(obs)
        if nothing and amplifier_like(b, cfg):
            # perhaps a relay amplifier's noise, switched on before the frame it forwards
            self._held.append((a, z, b.freq_hz, b.rssi_db, receiver_key(cap.receiver, cap.name)))
        while self._held and self._held[0][1] < a - _HELD_KEEP_S:
            self._held.popleft()
        if not nothing:
            known = next((p for p in obs.packets if p.identity is not None
                          and p.protocol != "unknown"), None)
            if known is not None and b.freq_hz is not None:
                classes = burst_classes(b, ctx) if model is not None else None
                genuine = classes is not None and (classes.get("relayed", 0.0)
                                                   < ctx.config.fingerprint.relay_burst_probability)
                frame = _Frame(a, z, b.freq_hz, known.protocol, genuine)
                self._drop_frames_of(frame, ctx)
                self._frames.append(frame)
            return []
        while self._frames and self._frames[0].end < a - 1.0:
            self._frames.popleft()
        if b.features is None or model is None:
            return []
        if not cfg.relay_burst_min_s <= b.duration_s <= cfg.relay_burst_max_s:
            return []
        if self.frame_of_press(b, a, ctx) or self.copy_of_frame(b, a, ctx):
            return []
        rx = receiver_key(cap.receiver, cap.name)
        if self._episode is not None and self._episode[1] == rx \
                and a - self._episode[0] <= cfg.relay_episode_gap_s:
            self._episode = (max(z, self._episode[0]), rx)
            for w in self._pending:
                if w.episode_start:  # the episode's alert is still waiting: it waits longer
                    w.last_end = max(w.last_end, z)
            return []
        # under a jammer the features are the jammer's: RollJam's business, not relay evidence
        if heard_through_jamming(a, z, b.rssi_db, ctx):
            return []
        # two transmitters keyed at once: the features describe their mix (filled gaps, edges
        # of both), not a relay (fresh benign soak seeds 38011, 41008: two passers-by's fobs)
        if beating(b.features.values, cfg):
            return []
        classes = burst_classes(b, ctx)
        p_rel = classes.get("relayed", 0.0)
        if p_rel < cfg.relay_burst_probability:
            return []
        clip = b.features["clip_fraction"]
        if math.isfinite(clip) and clip >= cfg.relay_clipped_burst_fraction \
                and p_rel < cfg.relay_clipped_burst_probability:
            return []
        noise = None
        if unsegmented_burst(b, ctx):
            noise = self._amplifier_before(b, a, rx, ctx)
            if noise is None:
                return []
        episode = self._episode
        self._episode = (z, rx)
        f = b.features
        summary = ("A transmission nobody could decode carried a relay's RF signature (the burst "
                   f"classifier gives P(relayed) = {p_rel:.2f}): a key's answer was probably "
                   "forwarded from a fob that is not at the car.")
        ev = {"reason": "undecoded_relayed_burst", "score": p_rel, "burst_class": classes,
              "burst": {"capture": cap.name, "t": b.t, "t_end": b.t_end, "freq_hz": b.freq_hz,
                        "bandwidth_hz": b.bandwidth_hz, "rssi_db": b.rssi_db},
              "facts": {k: (None if not math.isfinite(f[k]) else f[k])
                        for k in ("noise_excess_db", "echo_ratio", "clip_fraction",
                                  "occupied_bw_hz", "cfo_ppm")},
              "decoded": False}
        if noise is not None:
            ev["amplifier_noise"] = noise
        alert = make_alert("relay", cap, b.t, b.t_end, "critical", min(0.95, p_rel), summary,
                           None, ev)
        for w in self._pending:
            w.episode_start = False
        self._pending.append(_Waiting(alert, a, z, b.freq_hz, episode, z))
        return []

    def _amplifier_before(self, b: BurstInfo, a: float, rx: str, ctx: DetectionContext
                          ) -> dict | None:
        """The undecoded wide, held emission that a relay's amplifier would be (timeline start
        ``a`` of the burst): on this receiver, near the burst's carrier, on from at least
        ``relay_noise_lead_s`` before it and until at most ``relay_noise_gap_s`` before it,
        and much weaker; or None."""
        cfg = ctx.config.fingerprint
        margin = ctx.config.jamming.relay_noise_margin_db
        for h0, h1, f, lvl, key in self._held:
            if key != rx or h0 > a - cfg.relay_noise_lead_s or h1 < a - cfg.relay_noise_gap_s:
                continue
            if f is not None and b.freq_hz is not None \
                    and abs(f - b.freq_hz) > cfg.relay_noise_max_offset_hz:
                continue
            if lvl is None or b.rssi_db is None or b.rssi_db - lvl < margin:
                continue
            return {"level_db": lvl, "freq_hz": f, "on_before_s": a - h0,
                    "ended_before_s": max(0.0, a - h1)}
        return None

    def _drop_frames_of(self, frame: "_Frame", ctx: DetectionContext) -> None:
        """Forget the waiting undecoded bursts that a decoded frame (on their carrier within
        ``press.rejoin_freq_hz``) speaks for:

        * a burst that holds the frame's start is that press's own energy in a region that took
          in a neighbour (the owner's answer beside the car merged with a sensor that began
          0.16 s before it: P(relayed) 0.96, fresh benign soak seed 8028);
        * undecoded bursts that end within the protocol's inter-frame gap before it are frames
          of its press that failed to decode, when the decoded frame itself does not look
          relayed (P(relayed) under ``relay_burst_probability``): the owner's clipped answer
          beside the receiver, whose first two frames did not decode and scored P(relayed)
          0.98 and 0.97 while the third decoded, genuine (fresh benign soak seed 13008).

        Both are judged with their press, not alone."""
        tol = ctx.config.press.rejoin_freq_hz
        a = frame.start
        gap = max(ctx.profiles.press_gap_s(frame.protocol),
                  ctx.config.fingerprint.relay_owner_follow_s)
        keep = []
        for w in self._pending:
            near = w.freq_hz is not None and abs(w.freq_hz - frame.freq_hz) <= tol
            if near and (w.start <= a <= w.end
                         or (frame.genuine and -0.05 <= a - w.last_end <= gap)):
                if w.episode_start:
                    self._episode = w.before
                continue
            keep.append(w)
        self._pending = keep

    def _release(self, upto: float, hold_s: float) -> list[Alert]:
        """The waiting alerts whose episodes ended more than ``hold_s`` before timeline time
        ``upto`` (every burst that could speak for them has been seen)."""
        out = [w.alert for w in self._pending if w.last_end + hold_s < upto]
        self._pending = [w for w in self._pending if w.last_end + hold_s >= upto]
        return out

    def advance(self, now: float, ctx: DetectionContext) -> list[Alert]:
        return self._release(now, max(ctx.profiles.max_frame_gap_s(),
                                      ctx.config.fingerprint.relay_owner_follow_s))

    def end_capture(self, ctx: DetectionContext) -> list[Alert]:
        return self._release(math.inf, 0.0)

    def flush(self, ctx: DetectionContext) -> list[Alert]:
        return self._release(math.inf, 0.0)

    def frame_of_press(self, b: BurstInfo, a: float, ctx: DetectionContext) -> bool:
        """The undecoded burst (timeline start ``a``) follows a decoded frame on its carrier
        (within ``press.rejoin_freq_hz``) by no more than that protocol's inter-frame gap: a
        frame of the same press that failed to decode (a held button's clipped repeat). It is
        judged with its press (the press rule), not alone as a relay's unreadable answer."""
        if not self._frames or b.freq_hz is None:
            return False
        last = self._frames[-1]
        # from a little overlap (the front end's burst edges) to the press's inter-frame gap
        return (abs(b.freq_hz - last.freq_hz) <= ctx.config.press.rejoin_freq_hz
                and -0.05 <= a - last.end <= ctx.profiles.press_gap_s(last.protocol))

    def copy_of_frame(self, b: BurstInfo, a: float, ctx: DetectionContext) -> bool:
        """The undecoded burst (timeline start ``a``) starts inside a decoded frame on its
        carrier (within ``press.rejoin_freq_hz``) that the classifier does not call relayed:
        the same transmission seen through a second region of the front end, cut short so that
        it did not decode (the owner's clipped answer beside the receiver came through a wide
        and a narrow region; the wide one's first frame began 5 ms late, framed as unknown, and
        scored P(relayed) 0.93: fresh benign soak seed 12065). The decoded frame speaks for
        it. An AF relay's copy beside a decoded frame that itself looks relayed is still
        judged alone."""
        if b.freq_hz is None:
            return False
        tol = ctx.config.press.rejoin_freq_hz
        return any(f.genuine and f.start <= a <= f.end and abs(b.freq_hz - f.freq_hz) <= tol
                   for f in self._frames)

    def observe_press(self, press: Press, ctx: DetectionContext) -> list[Alert]:
        # relays attack passive-entry keys (rolling codes); a fixed-code remote has no LF side
        if press.identity is None or press.fixed_code or press.flags & {"old", "rolljam"}:
            return []
        # a relay forwards a fob's answer to the car's LF challenge; where the profile tells
        # such an answer from a button press, a button press is not judged: the owner pressed
        # it, wherever he stood (a weak press from afar, a loud one from beside the receiver)
        passive = ctx.profiles.passive_entry_answer(press.protocol, press.fields)
        if passive is False:
            return []
        # an identity learned on the fly is shared by every transmitter of its kind: its
        # presses differ in level and noise by design (its undecoded bursts are judged above)
        if learned_identity(press):
            return []
        # collided with another transmitter (the clone detector saw the neighbour's burst): its
        # gaps, edges and level are partly the neighbour's
        if "collided" in press.flags:
            return []
        # a press under a jammer carries the jammer in its gaps and edges: its RF evidence is
        # the jammer's (the RollJam victims), not a relay's
        if heard_through_jamming(press.abs_t, press.abs_end, press.rssi_db, ctx):
            return []
        vec = press_fingerprint(press)
        rules: dict[str, float] = {}
        facts: dict[str, float | None] = {}
        cfg = ctx.config.fingerprint
        mem = ctx.fingerprints
        # the same measurement as the reference's (features), the packets' level otherwise
        level = press.rssi_db
        if vec is not None and math.isfinite(vec[_IX["rssi_db"]]):
            level = float(vec[_IX["rssi_db"]])
        hist = mem.history(press.identity, "rssi_db")
        # heard at a level this receiver has heard the key at (from enough presses)
        usual_level = False
        if level is not None and hist.size >= cfg.relay_level_min_reference:
            weakest, strongest = float(np.min(hist)), float(np.max(hist))
            drop = weakest - level
            rise = level - strongest
            usual_level = max(drop, rise) <= cfg.relay_level_drop_db
            facts["level_db"] = level
            facts["weakest_reference_db"] = weakest
            facts["strongest_reference_db"] = strongest
            rules["level_drop"] = _ramp(drop, cfg.relay_level_drop_db,
                                        cfg.relay_level_drop_db + 10.0)
            # a relay station by the car re-radiates far louder than the fob ever was: not
            # decisive alone (the owner may stand closer than ever), one indicator among others;
            # none for a passive-entry answer, which always comes from beside the car (louder
            # than the button presses heard from across the street)
            if not passive:
                rules["level_rise"] = _ramp(rise, cfg.relay_level_drop_db,
                                            cfg.relay_level_drop_db + 10.0)
        # an LF-only relay from a single reference on: a level in dBFS is only comparable
        # within one receiver (its gain), so only that receiver's references count here
        rx = receiver_key(press.capture.receiver, press.capture.name)
        own = np.array([r.full[_IX["rssi_db"]] for r in mem.references(press.identity)
                        if r.receiver == rx and r.source == "seen"], dtype=np.float64)
        own = own[np.isfinite(own)]
        if level is not None and own.size >= cfg.relay_level_alone_min_reference:
            drop1 = float(np.min(own)) - level
            facts["drop_below_weakest_same_receiver_db"] = drop1
            if drop1 >= cfg.relay_level_alone_db:
                rules["level_drop"] = 1.0
        if vec is not None and not clipped(vec):
            # a clipping receiver splatters into the gaps and rings on the edges by itself
            ne = vec[_IX["noise_excess_db"]]
            facts["noise_excess_db"] = None if not math.isfinite(ne) else float(ne)
            rules["amplifier_noise"] = _ramp(ne, 2.0, 6.0)
            er = vec[_IX["echo_ratio"]]
            facts["echo_ratio"] = None if not math.isfinite(er) else float(er)
            rules["delayed_copy"] = _ramp(er, 0.15, 0.4)
        # a relay's amplifier noise, switched on around the frame it forwards, far weaker than it
        margin = ctx.config.jamming.relay_noise_margin_db
        plevel = press.rssi_db
        for sp in ctx.jams.overlapping(press.abs_t, press.abs_end, kind=None):
            weaker = (sp.kind == "amplifier_noise" or (
                plevel is not None and sp.level_db is not None and plevel - sp.level_db >= margin))
            # the noise must be seen to go on after the frames (the press is judged ≈ 1 s after
            # its end, so a relay's noise that outlasts it is already on record)
            outlasts = sp.abs_end >= press.abs_end + 0.2
            wide = sp.bandwidth_hz is not None and sp.bandwidth_hz >= 100e3  # an amplifier's band
            if weaker and wide and sp.abs_t <= press.abs_t + 0.05 and outlasts:
                rules["noise_around"] = 1.0
                facts["noise_span"] = sp.where()
                facts["noise_level_db"] = sp.level_db
                break
        fp = press.notes.get("fingerprint")
        if fp is not None and fp.get("cfo_shift_ppm") is not None:
            # a forwarded waveform keeps the fob's own bit clock while an up/down-converting
            # relay moves its carrier; a replayer or clone brings its own clock
            z = fp["z"]
            shift = abs(fp["cfo_shift_ppm"])
            facts["cfo_shift_ppm"] = fp["cfo_shift_ppm"]
            if "te_us" in z and z["te_us"] < 2.0 and shift <= cfg.relay_max_shift_ppm:
                rules["frequency_translation"] = _ramp(shift, 1.0, 2.0)
        # one indicator alone is not enough (a strong, clipping fob also fills its gaps): the
        # second strongest rule decides, except a level drop that comes with a fingerprint
        # otherwise the fob's own (LF-only relay) and a relay amplifier's noise around the frame
        vals = sorted(rules.values(), reverse=True)
        score = vals[1] if len(vals) > 1 else 0.0
        if fp is not None and not fp["mismatch"]:
            score = max(score, rules.get("level_drop", 0.0))
        score = max(score, rules.get("noise_around", 0.0))
        classes = press_classes(press, ctx)
        if classes is not None and unsegmented(press, ctx):
            facts["unsegmented"] = True
            classes = None
        # the classifier alone decides a decoded press from ``relay_press_probability`` on: a
        # fob close enough to clip the receiver splatters into its gaps and margins much as a
        # relay's amplifier does (benign soak: owner presses at 0.7–0.9). A clipped press with
        # the key's own fingerprint at a level this receiver has heard it at, that no rule
        # speaks against, is the owner's as far as the receiver can tell: the classifier alone
        # does not decide it unless ``relay_clipped_probability`` is set
        p_min = cfg.relay_press_probability
        if vec is not None and clipped(vec) and usual_level and fp is not None \
                and not fp["mismatch"] and max(rules.values(), default=0.0) < 0.5:
            p_min = (math.inf if cfg.relay_clipped_probability >= 1.0
                     else max(p_min, cfg.relay_clipped_probability))
            facts["clipped_at_usual_level"] = True
        if classes is not None and classes.get("relayed", 0.0) >= p_min:
            score = max(score, classes["relayed"])
        press.notes["relay_score"] = score
        if score < cfg.relay_score:
            return []
        press.flags.add("relayed")
        # a double press (or a car asking twice) forwarded in one go is one relay episode: the
        # press is not learned (flagged above) but raises no second alert
        last = self._press_episode.get(press.identity)
        self._press_episode[press.identity] = press.abs_end
        if last is not None and press.abs_t - last <= cfg.relay_episode_gap_s:
            return []
        why = [k for k, v in sorted(rules.items(), key=lambda kv: -kv[1]) if v > 0]
        if classes is not None and classes.get("relayed", 0.0) >= p_min:
            why.insert(0, "classifier")
        reasons = {"level_drop": "far weaker than this fob has ever been heard",
                   "noise_around": "a relay amplifier's noise rose around the frame",
                   "level_rise": "far louder than this fob has ever been heard",
                   "amplifier_noise": "amplifier noise fills the gaps of the frame",
                   "delayed_copy": "a delayed copy of the signal follows every edge",
                   "frequency_translation": "its carrier is shifted as by a frequency-converting "
                                            "relay", "classifier": "the burst classifier says so"}
        summary = (f"{press.identity} answered with RF evidence of relaying "
                   f"({reasons[why[0]]}): its signal was forwarded from a fob that is not at "
                   "the car.")
        ev = {"score": score, "rules": rules, "facts": facts, "press": press.where(),
              "code": press.code, "protocol": press.protocol}
        if classes is not None:
            ev["burst_class"] = classes
        if fp is not None:
            ev["fingerprint"] = fp
        return [make_alert("relay", press.capture, press.t, press.t_end, "critical",
                           min(0.99, score), summary, press.identity, ev)]
