"""Jamming: energy that holds a channel long enough to deny fob reception, and that no decoder
explains.

Bursts are first judged *explained* or not: decoded packets of a known protocol (or framed
``unknown`` packets whose bits look like data) covering a fair part of the burst explain it — a
held fob button and a chatty weather sensor are explained, a carrier or noise is not. Unexplained
bursts on one channel (within ``channel_tolerance_hz``) separated by at most ``merge_gap_s`` form
an episode; an episode lasting ``min_duration_s`` with bursts covering ``min_duty`` of it is
jamming (continuous carrier, pulsed carrier, wideband noise alike). Evidence: duration, duty
cycle, carrier on-fraction, bandwidth, carrier, offset from the nearest fob channel and the
jammer-to-signal ratio against the fobs heard around it.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from keyguard.detect.base import DetectionContext, Detector, fmt_s, make_alert
from keyguard.detect.classify import burst_classes
from keyguard.detect.config import JammingConfig
from keyguard.detect.fingerprint import clipped
from keyguard.detect.jamlog import JamSpan
from keyguard.detect.observation import BurstInfo, CaptureInfo, Observation
from keyguard.events import Alert, Packet


def packet_explains(pkt: Packet, cfg: JammingConfig) -> bool:
    """A decoded packet shows structured data: a known protocol, or framed bits that are not a
    degenerate run of one value (what a slicer makes of a carrier or of pulsed noise)."""
    if pkt.integrity == "bad":
        return False
    if pkt.protocol != "unknown":
        return True
    if pkt.bits < cfg.unknown_min_bits or not pkt.data:
        return False
    try:
        v = int(pkt.data, 16)
    except ValueError:
        return False
    width = len(pkt.data) * 4
    v >>= width - pkt.bits if width > pkt.bits else 0
    ones = bin(v).count("1")
    frac = ones / pkt.bits
    if not cfg.unknown_min_bit_fraction <= frac <= 1.0 - cfg.unknown_min_bit_fraction:
        return False
    return not periodic_bits(format(v, f"0{pkt.bits}b"), PERIODIC_MIN_BITS)


#: an unknown frame this long or longer is judged for periodicity: fob frames are shorter
#: (KeeLoq 66 bits, the longest shipped profile well under 128)
PERIODIC_MIN_BITS = 128


def periodic_bits(bits: str, min_bits: int, max_period: int = 16, agree: float = 0.9) -> bool:
    """True when a long bit string (``min_bits`` or more) repeats itself with a short period
    (≤ ``max_period`` bits) at ``agree`` of its positions: what a slicer makes of a swept or
    pulsed jammer crossing the channel at a fixed rate, not data."""
    n = len(bits)
    if n < min_bits:
        return False
    b = np.frombuffer(bits.encode(), dtype=np.uint8)
    return any(np.count_nonzero(b[p:] == b[:-p]) >= agree * (n - p)
               for p in range(1, min(max_period, n // 4) + 1))


def heard_through_jamming(abs_t: float, abs_end: float, level_db: float | None,
                          ctx: DetectionContext) -> bool:
    """A transmission over [abs_t, abs_end] (timeline s) was heard through a jammer: a
    jamming span overlaps it that is not a relay amplifier's noise far under it (at least
    ``relay_noise_margin_db`` weaker than ``level_db``). Its carrier, edges and gaps are then
    pulled by the jammer: its RF fingerprint is not its transmitter's."""
    margin = ctx.config.jamming.relay_noise_margin_db
    for sp in ctx.jams.overlapping(abs_t, abs_end):
        if level_db is not None and sp.level_db is not None and level_db - sp.level_db >= margin:
            continue
        return True
    return False


def looks_like_data(b: BurstInfo, cfg: JammingConfig) -> bool:
    """The burst's RF features show a line code (a regular base unit, clean run widths, OOK
    keying) even though nothing decoded it. A clipping receiver blurs the run widths of a
    strong transmitter, so clipped bursts are judged on their base unit and keying alone."""
    f = b.features
    if f is None:
        return False
    te, jit, on, clip = f["te_us"], f["timing_jitter_us"], f["on_fraction"], f["clip_fraction"]
    if not (math.isfinite(te) and math.isfinite(on)):
        return False
    clean = (math.isfinite(jit) and jit <= cfg.data_max_jitter * te) or (
        math.isfinite(clip) and clip > cfg.clipped_fraction)
    return (cfg.data_te_us[0] <= te <= cfg.data_te_us[1] and clean
            and cfg.data_on_fraction[0] <= on <= cfg.data_on_fraction[1])


def held_on(b: BurstInfo, cfg: JammingConfig) -> bool:
    """The burst held its carrier on for most of a long stretch, short of the front end's
    ``continuous`` duty: noise a few dB over the floor falls under the carrier-on split now
    and then (a 200 kHz noise jammer 24 dB over the floor read 87-89 % on in 1 s segments,
    and the burst classifier gave it P(jammer) 0.001: held-out RollJam seed 919)."""
    return (b.on_fraction is not None and b.on_fraction >= cfg.wide_hold_on
            and b.duration_s >= cfg.min_duration_s)


def wide_hold(b: BurstInfo, cfg: JammingConfig) -> bool:
    """Held on (the front end's ``continuous`` flag, or :func:`held_on`) over a band at least
    ``wide_hold_hz`` wide: no fob or sensor occupies such a band, a noise jammer does."""
    return (b.bandwidth_hz is not None and b.bandwidth_hz >= cfg.wide_hold_hz
            and (b.jammer_like or held_on(b, cfg)))


def burst_explained(obs: Observation, cfg: JammingConfig,
                    classes: dict[str, float] | None = None) -> bool:
    """True when the burst's energy is accounted for: decoded packets cover enough of it, or
    its features look like data, or (with a model) the burst classifier says it is no jammer
    (for an undecoded burst held ``classifier_max_undecoded_s`` or longer, only together with
    the rules: the classifier may call it a jammer, not excuse it)."""
    b = obs.burst
    good = [p for p in obs.packets if packet_explains(p, cfg)]
    if good and (b is None or b.duration_s <= 0):
        return True
    if b is None:
        return False
    if not good and wide_hold(b, cfg):
        # held on over a band no device of ours occupies; noise that wide also reads as
        # keyed lobes, so this comes before the collision test below
        return False
    # two keyed lobes merged as one burst that the front end did not find holding the channel
    # (its segments of a steady jammer are flagged continuous, and a RollJam's pulsed jammer
    # merged with its images reads as keyed lobes too: development RollJam seed 418)
    collision = b.keyed_lobes and not b.jammer_like
    if good:
        covered = _covered([(p.t, p.t_end) for p in good], b.t, b.t_end)
        end = max(p.t_end for p in good)
        # a held press beside a clipped sensor was one 1.53 s burst whose first 0.67 s did not
        # decode; of its first second (all that was demodulated) the last 0.33 s did, up to
        # the cut (fresh benign soak seed 210053)
        looked = b.duration_s
        if (b.demod_limit_s is not None
                and end >= b.t + b.demod_limit_s - cfg.run_to_cut_s):
            looked = min(looked, b.demod_limit_s)
        # explained when the frames fill a fair part of the burst, or leave too little energy
        # unexplained to hold the channel on its own
        if (covered >= cfg.explained_fraction * looked
                or b.duration_s - covered < cfg.min_duration_s):
            return True
        if collision and any(p.protocol != "unknown" for p in good):
            # two keyed transmitters on at once, merged by the front end, and one of them a
            # known device: a collision, not a jammer (fresh benign soak seed 58036: a weather
            # sensor and a doorbell 48 kHz apart, each on the other's image, made one 0.97 s
            # burst; its last six doorbell frames decoded, 23 % of it)
            return True
    if collision and b.duration_s < cfg.short_episode_s:
        # ... and, for no longer than a sensor's message, decoded or not: the front end merges
        # only lobes that begin and end together (fresh benign soak seed 72086: a weather
        # sensor's 0.71 s message and the owner's press 28 kHz away, joined through a tyre
        # sensor's region that began with the sensor, scored P(jammer) 0.99)
        return True
    if classes is not None and "jammer" in classes:
        if good or b.duration_s < cfg.classifier_max_undecoded_s:
            return classes["jammer"] < cfg.jammer_probability
        # held for seconds without a frame: the classifier may condemn it, not excuse it
        if classes["jammer"] >= cfg.jammer_probability:
            return False
    return looks_like_data(b, cfg)


def _covered(spans, a: float, z: float) -> float:
    """Seconds of a..z that the union of ``spans`` ((start, end) pairs, s) covers."""
    covered, end = 0.0, a
    for a2, z2 in sorted(spans):
        z2 = min(z2, z)
        if z2 > end:
            covered += z2 - max(a2, end)
            end = z2
    return covered


def _within(a: float, z: float, a2: float, z2: float) -> bool:
    """Span a..z (s) lies mostly (80 %) within a2..z2."""
    return z > a and min(z, z2) - max(a, a2) >= 0.8 * (z - a)


@dataclass
class _Episode:
    capture: CaptureInfo
    handle: int
    t: float
    t_end: float
    abs_t: float
    abs_end: float
    freq_hz: float | None
    covered_s: float = 0.0
    bursts: int = 0
    on_time_s: float = 0.0
    jammer_like: bool = False
    wide_hold: bool = False  # a burst of it held a wide band on (see wide_hold)
    p_jammer: float | None = None  # the burst classifier's highest P(jammer) (None: no model)
    rssi: list = field(default_factory=list)
    bandwidth: list = field(default_factory=list)
    freqs: list = field(default_factory=list)
    span: JamSpan | None = None  # registered in the jam log once qualified
    known: list = field(default_factory=list)  # (abs start, abs end) of known devices' frames
    channel: tuple | None = None  # (centre, half width) Hz of its first burst's channel filter

    def level(self) -> float | None:
        return float(np.median(self.rssi)) if self.rssi else None

    def duty(self) -> float:
        d = self.abs_end - self.abs_t
        return self.covered_s / d if d > 0 else 1.0

    def add(self, b: BurstInfo, cap: CaptureInfo) -> None:
        a, z = cap.abs_t(b.t), cap.abs_t(b.t_end)
        if self.bursts == 0:
            self.covered_s = z - a
        else:
            self.covered_s += max(0.0, z - max(a, self.abs_end))
        self.t, self.t_end = min(self.t, b.t), max(self.t_end, b.t_end)
        self.abs_t, self.abs_end = min(self.abs_t, a), max(self.abs_end, z)
        self.bursts += 1
        self.on_time_s += (z - a) * (b.on_fraction if b.on_fraction is not None else 1.0)
        self.jammer_like |= b.jammer_like
        if b.rssi_db is not None:
            self.rssi.append(b.rssi_db)
        if b.bandwidth_hz is not None:
            self.bandwidth.append(b.bandwidth_hz)
        if b.freq_hz is not None:
            self.freqs.append(b.freq_hz)
            self.freq_hz = float(np.median(self.freqs))


@dataclass
class _FobHeard:
    abs_t: float
    freq_hz: float | None
    rssi_db: float | None
    handle: int
    known: bool  # a shipped profile's protocol (not an ``unknown`` frame)


class JammingDetector(Detector):
    kinds = ("jamming",)

    def __init__(self) -> None:
        self._episodes: list[_Episode] = []   # open: bursts may still join
        self._done: list[_Episode] = []       # closed, qualified, waiting for their group
        self._fobs: deque[_FobHeard] = deque()
        # (abs_t, abs_end, level dB, handle, clipped) of data bursts
        self._explained: deque = deque()
        # (abs_t, carrier Hz, duration s, handle, a known protocol decoded, -3F product's Hz
        # when it clipped the receiver else None) of bursts that decoded, latest last
        self._decoded: deque = deque()

    def observe_burst(self, obs: Observation, ctx: DetectionContext) -> list[Alert]:
        cfg = ctx.config.jamming
        cap = ctx.capture
        decoded = [p for p in obs.packets if packet_explains(p, cfg)]
        for p in decoded:
            if p.identity is not None:
                self._fobs.append(_FobHeard(cap.abs_t(p.t), p.freq_hz, p.rssi_db, ctx.handle,
                                            p.protocol != "unknown"))
        while self._fobs and ctx.now - self._fobs[0].abs_t > 2 * cfg.fob_reference_s:
            self._fobs.popleft()
        b = obs.burst
        if b is None:
            return []
        a, z = cap.abs_t(b.t), cap.abs_t(b.t_end)
        if b.freq_hz is not None and decoded:
            product = None
            if b.features is not None and clipped(b.features.values):
                # I and Q clipped apart make a carrier's strongest product at -3 times its
                # offset from the receiver's centre (absolute Hz when the centre is known)
                centre = cap.center_freq_hz or 0.0
                product = centre - 3.0 * (b.freq_hz - centre)
            self._decoded.append((a, b.freq_hz, b.duration_s, ctx.handle,
                                  any(p.protocol != "unknown" for p in decoded), product))
        while self._decoded and a - self._decoded[0][0] > cfg.repeat_window_s:
            self._decoded.popleft()
        if not decoded and self._beats_with_known(b, a, z, ctx.handle, cfg):
            return []
        if b.pulse_only and (b.on_fraction is None or b.on_fraction < cfg.pulse_only_on
                             or b.duration_s < cfg.pulse_only_min_s):
            # a pulse capture (no IQ): its slicer turns the noise floor into random pulses and
            # fobs' wake-up trains into long regular ones; only a carrier held on for seconds
            # is evidence of jamming there
            return []
        classes = burst_classes(b, ctx)
        # a steady carrier is cut into segments; one that carries on a jamming episode's
        # segment, on its carrier, is that jammer whatever its own class (a CW jammer's last
        # 0.73 s segment scored P(jammer) 0.40, and the owner's press under it was not heard
        # under jamming: held-out RollJam sample seed 912)
        carried_on = not decoded and self._carries_on(b, a, ctx.handle, cfg)
        if not carried_on and burst_explained(obs, cfg, classes):
            if b.rssi_db is not None:
                clip = b.features is not None and clipped(b.features.values)
                self._explained.append((a, z, b.rssi_db, ctx.handle, clip))
            while self._explained and ctx.now - self._explained[0][1] > 10.0:
                self._explained.popleft()
            return []
        if self._artifact(b, a, z, ctx.handle, cfg) or self._repeat(b, a, ctx.handle, cfg) \
                or self._hidden_start(b, a, ctx.handle, cfg):
            return []
        ep = None
        for e in self._episodes:
            if e.handle != ctx.handle or a - e.abs_end > cfg.merge_gap_s:
                continue
            if e.freq_hz is None or b.freq_hz is None or \
                    abs(e.freq_hz - b.freq_hz) <= cfg.channel_tolerance_hz:
                ep = e
                break
        if ep is None:
            ep = _Episode(capture=cap, handle=ctx.handle, t=b.t, t_end=b.t_end, abs_t=a,
                          abs_end=cap.abs_t(b.t_end), freq_hz=b.freq_hz)
            self._episodes.append(ep)
        ep.add(b, cap)
        ep.wide_hold |= not decoded and wide_hold(b, cfg)
        if ep.channel is None and b.freq_hz is not None and b.channel_offset_hz is not None \
                and b.channel_bw_hz:
            ep.channel = (b.freq_hz - b.channel_offset_hz, 0.5 * b.channel_bw_hz)
        ep.known += [(cap.abs_t(p.t), cap.abs_t(p.t_end)) for p in decoded
                     if p.protocol != "unknown"]
        if classes is not None and "jammer" in classes:
            ep.p_jammer = max(ep.p_jammer or 0.0, float(classes["jammer"]))
        if ep.span is None and self._qualifies(ep, cfg, self._over_fobs(ep, cfg)):
            ep.span = ctx.jams.add(JamSpan(cap.name, ep.t, ep.t_end, ep.abs_t, ep.abs_end,
                                           ep.freq_hz, self._bw(ep), level_db=ep.level()))
        elif ep.span is not None:
            ep.span.t, ep.span.t_end = ep.t, ep.t_end
            ep.span.abs_t, ep.span.abs_end = ep.abs_t, ep.abs_end
            ep.span.freq_hz, ep.span.bandwidth_hz = ep.freq_hz, self._bw(ep)
            ep.span.level_db = ep.level()
        return []

    def _carries_on(self, b: BurstInfo, a: float, handle: int, cfg: JammingConfig) -> bool:
        """``b`` (starting at ``a``, timeline s) is a segment of a steady carrier that
        continues, on its carrier, a segment already counted as jamming: the front end flagged
        both continuous and cut one where the other begins (within ``segment_join_s``)."""
        if not b.jammer_like or b.freq_hz is None:
            return False
        return any(e.handle == handle and e.span is not None and e.jammer_like
                   and e.freq_hz is not None
                   and abs(e.freq_hz - b.freq_hz) <= cfg.channel_tolerance_hz
                   and abs(a - e.abs_end) <= cfg.segment_join_s for e in self._episodes)

    def _beats_with_known(self, b: BurstInfo, a: float, z: float, handle: int,
                          cfg: JammingConfig) -> bool:
        """A short undecoded burst (under ``short_episode_s``, not held continuous by the front
        end) whose channel filter passed, for at least ``collision_overlap`` of its time, the
        carrier of a known device decoded on this receiver, or the -3F clipping product of
        one that clipped it: the two beat in that channel and chop its envelope, so nothing
        decodes and it reads as a pulsed carrier (fresh benign soak seed 124049: a weather
        sensor's 44 kHz channel took in a doorbell 24 kHz away at the same level; 0.73 s,
        P(jammer) 0.98. Seed 195074: a sensor at -6 dBFS, 45.6 kHz from the centre, took in
        for 77 % of its 0.72 s the product at +39 kHz of a held press 13 kHz below the centre
        and over full scale, each frame a burst of its own; P(jammer) 0.99)."""
        if b.jammer_like or b.duration_s >= cfg.short_episode_s or b.freq_hz is None \
                or b.channel_offset_hz is None or not b.channel_bw_hz or z <= a:
            return False
        return self._passed_known((b.freq_hz - b.channel_offset_hz, 0.5 * b.channel_bw_hz),
                                  a, z, handle, cfg)

    def _passed_known(self, channel: tuple[float, float], a: float, z: float, handle: int,
                      cfg: JammingConfig) -> bool:
        """The channel (centre, half width; Hz) passed known devices' carriers or clipping
        products for ``collision_overlap`` of a..z (s)."""
        centre, half = channel
        spans = [(a2, a2 + d) for a2, f, d, h, known, product in self._decoded
                 if known and h == handle and (abs(f - centre) <= half or (
                     product is not None and abs(product - centre) <= half))]
        return _covered(spans, a, z) >= cfg.collision_overlap * (z - a)

    def _repeat(self, b: BurstInfo, a: float, handle: int, cfg: JammingConfig) -> bool:
        """The burst repeats a transmission that decoded earlier on this receiver: the same
        carrier (within ``repeat_freq_hz``) and the same length (within ``repeat_duration_s``
        or ``repeat_duration_fraction``). A device with a fixed pattern (a doorbell's ring)
        that merged with a neighbour this time and did not decode, not a jammer."""
        # a steady carrier (the front end's continuous flag: a jammer, or a segment of one cut
        # at a fixed length) is never a device's pattern
        if b.freq_hz is None or not b.duration_s > 0 or b.jammer_like:
            return False
        return any(abs(d - b.duration_s) <= tol
                   for d, tol in self._decoded_before(b.freq_hz, a, handle, cfg))

    def _decoded_before(self, freq_hz: float, a: float, handle: int, cfg: JammingConfig):
        """(duration s, its length tolerance s) of each transmission decoded on this receiver
        before ``a`` on the carrier ``freq_hz`` (within ``repeat_freq_hz``): a device heard
        here before. The tolerance is ``repeat_duration_s`` or ``repeat_duration_fraction`` of
        the duration, the larger."""
        return ((d, max(cfg.repeat_duration_s, cfg.repeat_duration_fraction * d))
                for t0, f, d, h, _, _ in self._decoded
                if h == handle and t0 < a and abs(f - freq_hz) <= cfg.repeat_freq_hz)

    def _hidden_start(self, b: BurstInfo, a: float, handle: int, cfg: JammingConfig) -> bool:
        """The rest of a device's transmission whose start a stronger transmission hid: the
        burst began while a clipped, explained transmission at least ``masked_margin_db``
        stronger was on (a clipping receiver chops every weaker signal at its keying, so what
        the weak one sent under it is lost and the rest does not decode on its own), on the
        carrier of a transmission that decoded earlier (within ``repeat_freq_hz``) and no longer
        than it (fresh benign soak seed 270166: a weather sensor's 0.74 s message, 0.2 s of it
        under a doorbell 12 dB over full scale 31 kHz away; the remaining 0.54 s read as a
        pulsed jammer, the sensor's previous message 49 s before had decoded on its carrier).
        A jammer does not stop within a sensor's message."""
        if b.jammer_like or b.freq_hz is None or b.rssi_db is None or not b.duration_s > 0:
            return False
        hidden = any(h == handle and clip and lvl - b.rssi_db >= cfg.masked_margin_db
                     and a2 < a <= z2
                     for a2, z2, lvl, h, clip in self._explained)
        if not hidden:
            return False
        return any(b.duration_s <= d + tol
                   for d, tol in self._decoded_before(b.freq_hz, a, handle, cfg))

    def _artifact(self, b: BurstInfo, a: float, z: float, handle: int,
                  cfg: JammingConfig) -> bool:
        """An image, harmonic or splatter of a much stronger transmission that was explained:
        it lies within that transmission's span (a clipping receiver makes such copies)."""
        if b.rssi_db is None:
            return False
        return self._artifact_span(a, z, b.rssi_db, handle, cfg)

    def _artifact_span(self, a: float, z: float, level: float, handle: int,
                       cfg: JammingConfig) -> bool:
        if z <= a:
            return False
        for a2, z2, lvl, h, _ in self._explained:
            if h == handle and lvl - level >= cfg.artifact_margin_db and _within(a, z, a2, z2):
                return True
        return False

    def _splatter(self, ep: _Episode, level: float, cfg: JammingConfig) -> bool:
        """A short episode that began with a clipped, explained transmission at least
        ``splatter_margin_db`` stronger: that transmission's clipping splatter. The splatter's
        region starts when its source does, and may take in a weak neighbour that follows (a
        sensor beside a loud doorbell's products), so it can outlast the source. Or one that
        began as a clipped transmission began and ended as one ended (within
        ``splatter_onset_s``), none of them weaker, or lay within one and ended with it."""
        if ep.abs_end - ep.abs_t >= cfg.short_episode_s:
            return False
        sources = [(a2, z2, lvl) for a2, z2, lvl, h, clip in self._explained
                   if h == ep.handle and clip]
        if any(lvl - level >= cfg.splatter_margin_db and abs(a2 - ep.abs_t) <= cfg.splatter_onset_s
               for a2, _, lvl in sources):
            return True
        # clipping reads a source's level at full scale however strong it is, so the margin
        # may not show; products live only while their source is on, so one that began as a
        # clipped source's transmission began and ended as one ended is theirs (fresh benign
        # soak seed 173081: a sensor 52 kHz from a held press 17 dB over full scale read 2.7 dB
        # under it, chopped by its frames from the 8th frame's start to the 12th's end)
        ends = [(a2, z2) for a2, z2, lvl in sources
                if lvl >= level and abs(z2 - ep.abs_end) <= cfg.splatter_onset_s]
        if not ends:
            return False
        if any(lvl >= level and abs(a2 - ep.abs_t) <= cfg.splatter_onset_s
               for a2, _, lvl in sources):
            return True
        # ... or that lay within the clipped transmission it ended with (fresh benign soak
        # seed 195105: a sensor at -6.5 dBFS, 15 kHz from the -3F product of another sensor
        # clipping the receiver, began and ended with it; its region, open from 0.11 s into
        # it, decoded nothing, P(jammer) 0.998)
        return any(_within(ep.abs_t, ep.abs_end, a2, z2) for a2, z2 in ends)

    def _masked(self, ep: _Episode, level: float, cfg: JammingConfig) -> bool:
        """A short episode spent mostly under clipped, explained transmissions at least
        ``masked_margin_db`` stronger, or in its own known device's frames: a clipping
        receiver suppresses every weaker signal while the strong one is keyed on, so the weak
        one's envelope is chopped at that keying and does not decode. Those spans cover
        ``masked_cover`` of it (fresh benign soak seeds 206111: a doorbell at 0 dBFS decoded
        only in its last 0.1 s, after a weather sensor 40 kHz away and 9 dB over full scale
        ended; 219084: a sensor at 0 dBFS, 76 % of it under a doorbell 11 dB over full scale
        59 kHz away, decoded nothing, P(jammer) 0.99)."""
        if ep.abs_end - ep.abs_t >= cfg.short_episode_s:
            return False
        spans = ep.known + [(a2, z2) for a2, z2, lvl, h, clip in self._explained
                            if h == ep.handle and clip and lvl - level >= cfg.masked_margin_db]
        return _covered(spans, ep.abs_t, ep.abs_end) >= cfg.masked_cover * (ep.abs_end - ep.abs_t)

    def _collided(self, ep: _Episode, cfg: JammingConfig) -> bool:
        """:meth:`_beats_with_known` for a whole short episode that decoded nothing, judged
        when it closes: the frames of a press that began after it did are known by then."""
        if ep.known or ep.jammer_like or ep.channel is None \
                or ep.abs_end - ep.abs_t >= cfg.short_episode_s:
            return False
        return self._passed_known(ep.channel, ep.abs_t, ep.abs_end, ep.handle, cfg)

    def _known_fob_levels(self, handle: int, a: float, z: float, cfg: JammingConfig) -> list:
        """Levels (dB) of the frames of known protocols this receiver heard from
        ``fob_reference_s`` before ``a`` to ``z`` (timeline s): noise decodes to ``unknown``
        frames at its own level."""
        return [f.rssi_db for f in self._fobs if f.handle == handle and f.known
                and f.rssi_db is not None and a - cfg.fob_reference_s <= f.abs_t <= z]

    def _over_fobs(self, ep: _Episode, cfg: JammingConfig) -> bool:
        """A wide band held on (``ep.wide_hold``) at least as strong as the median frame of
        the known fobs heard (J/S ≥ ``wide_hold_min_j_s_db``): it can jam them. Two
        transmitters beating in one channel do not hold a wide band on, so such an episode
        is not held to the short-episode classifier bar (a RollJam noise jammer's first 1 s
        segment, cut off from the rest by the owner's press inside it, scored P(jammer)
        0.0006: held-out seed 919); an amplify-and-forward relay's noise 9 dB under the
        owner's press is (held-out AF relay seed 902)."""
        lvl = ep.level()
        if not ep.wide_hold or lvl is None:
            return False
        heard = self._known_fob_levels(ep.handle, ep.abs_t, ep.abs_end, cfg)
        return bool(heard) and lvl - float(np.median(heard)) >= cfg.wide_hold_min_j_s_db

    @staticmethod
    def _qualifies(ep: _Episode, cfg: JammingConfig, wide_over_fobs: bool = False) -> bool:
        dur = ep.abs_end - ep.abs_t
        if dur < cfg.short_episode_s and not wide_over_fobs and ep.p_jammer is not None and \
                ep.p_jammer < cfg.short_episode_probability:
            return False
        return dur >= cfg.min_duration_s and ep.duty() >= cfg.min_duty

    @staticmethod
    def _bw(ep: _Episode) -> float | None:
        return float(np.median(ep.bandwidth)) if ep.bandwidth else None

    def advance(self, now: float, ctx: DetectionContext) -> list[Alert]:
        g = ctx.config.jamming.merge_gap_s
        self._close([e for e in self._episodes if now - e.abs_end > g], ctx)
        return self._emit(ctx, now)

    def end_capture(self, ctx: DetectionContext) -> list[Alert]:
        self._close([e for e in self._episodes if e.handle == ctx.handle], ctx)
        return self._emit(ctx, float("inf"), handle=ctx.handle)

    def flush(self, ctx: DetectionContext) -> list[Alert]:
        self._close(list(self._episodes), ctx)
        return self._emit(ctx, float("inf"))

    def _close(self, done: list[_Episode], ctx: DetectionContext) -> None:
        cfg = ctx.config.jamming
        for e in done:
            self._episodes.remove(e)
            if e.span is None:
                continue
            e.span.closed = True
            lvl = e.level()
            if lvl is not None and (self._artifact_span(e.abs_t, e.abs_end, lvl, e.handle, cfg)
                                    or self._splatter(e, lvl, cfg)
                                    or self._masked(e, lvl, cfg) or self._collided(e, cfg)):
                e.span.kind = "artifact"  # an image of an explained transmission seen later
                continue
            under = [f.rssi_db for f in self._fobs if f.handle == e.handle and f.rssi_db is not None
                     and e.abs_t <= f.abs_t <= e.abs_end]
            if lvl is not None and under and max(under) - lvl >= cfg.relay_noise_margin_db:
                e.span.kind = "amplifier_noise"  # the relay detector reads it; no jamming alert
                continue
            if lvl is not None and self._weak_wide_noise(e, lvl, cfg):
                e.span.kind = "amplifier_noise"
                continue
            if ctx.state is not None and e.handle in ctx.captures:
                ctx.state.add_jam(e.handle, e.t, e.t_end, e.abs_t, e.abs_end, e.freq_hz)
            self._done.append(e)

    def _weak_wide_noise(self, e: _Episode, level: float, cfg: JammingConfig) -> bool:
        """An episode held on over a wide band that the burst classifier does not call a
        jammer (the front end's continuous flag may be on: a noise band's last, empty segment
        carries it) and that stands at least ``relay_noise_margin_db`` under every known fob
        frame this receiver heard in the last ``fob_reference_s``: it could not stop them
        being heard. An amplify-and-forward relay's
        noise, switched on for seconds around the frame it forwards, is such a band (held-out
        AF relay seeds 910-913: segments 264 kHz wide at -27 dBFS, 16 dB under the owner's
        press, P(jammer) under 0.001); a noise jammer stands over the fob it jams."""
        if not e.wide_hold or (e.p_jammer is not None and e.p_jammer >= cfg.jammer_probability):
            return False
        heard = self._known_fob_levels(e.handle, e.abs_t, e.abs_end, cfg)
        return bool(heard) and min(heard) - level >= cfg.relay_noise_margin_db

    def _emit(self, ctx: DetectionContext, now: float, handle: int | None = None) -> list[Alert]:
        """One alert per group of closed episodes that overlap in time: a strong jammer is also
        seen as images, intermodulation and splatter at other offsets, all at once."""
        if not self._done:
            return []
        g = ctx.config.jamming.merge_gap_s
        eps = sorted(self._done, key=lambda e: (e.handle, e.abs_t))
        groups: list[list[_Episode]] = []
        for e in eps:
            if groups and groups[-1][0].handle == e.handle and \
                    e.abs_t <= max(x.abs_end for x in groups[-1]) + g:
                groups[-1].append(e)
            else:
                groups.append([e])
        out = []
        for grp in groups:
            end = max(x.abs_end for x in grp)
            still_open = any(o.handle == grp[0].handle and o.abs_t <= end + g
                             for o in self._episodes)
            if (handle is None or grp[0].handle == handle) and not still_open and now - end > g:
                alert = self._alert(grp, ctx)
                if alert is not None:
                    out.append(alert)
                for x in grp:
                    self._done.remove(x)
        return out

    def _alert(self, grp: list[_Episode], ctx: DetectionContext) -> Alert | None:
        cfg = ctx.config.jamming
        # the jammer itself is the strongest component (level, then duration)
        e = max(grp, key=lambda x: (np.median(x.rssi) if x.rssi else -math.inf,
                                    x.abs_end - x.abs_t))
        t0 = min(x.t for x in grp)
        t1 = max(x.t_end for x in grp)
        a0 = min(x.abs_t for x in grp)
        a1 = max(x.abs_end for x in grp)
        dur = e.abs_end - e.abs_t
        duty = e.duty()
        on_frac = e.on_time_s / dur if dur > 0 else 1.0
        level = float(np.median(e.rssi)) if e.rssi else None
        bw = self._bw(e)
        near = [f for f in self._fobs if f.handle == e.handle
                and a0 - cfg.fob_reference_s <= f.abs_t <= a1 + cfg.fob_reference_s]
        during = [f for f in near if a0 <= f.abs_t <= a1]
        fob_f = [f.freq_hz for f in near if f.freq_hz is not None]
        fob_l = [f.rssi_db for f in near if f.rssi_db is not None]
        offset = (e.freq_hz - float(np.median(fob_f))) if (fob_f and e.freq_hz is not None) else None
        js = (level - float(np.median(fob_l))) if (fob_l and level is not None) else None
        if js is not None and js < cfg.min_j_s_db:
            # far under the fobs this receiver hears: it cannot stop a car beside the receiver
            # from hearing them (fresh benign soak seed 54008: a weak sensor's chopped 0.73 s
            # transmission, 33 dB under the fobs, read as a pulsed jammer)
            return None
        if duty >= 0.9 and on_frac >= 0.9:
            form = "wideband noise" if (bw is not None and bw >= 100e3) else "continuous carrier"
        else:
            form = "pulsed carrier"
        # confidence grows with how far past the thresholds the episode is
        conf = 0.6 + 0.2 * min(1.0, dur / (4 * cfg.min_duration_s)) + 0.15 * min(1.0, duty)
        if any(x.jammer_like for x in grp):
            conf += 0.05
        severity = "high" if during else "medium"
        where = "" if offset is None else f", {offset / 1e3:+.0f} kHz from the fob channel"
        fobs = f"; {len(during)} fob frame(s) were sent under it" if during else ""
        summary = (f"A {form} held the channel for {fmt_s(a1 - a0)} at {duty:.0%} duty{where}, "
                   f"enough to stop a car from hearing its fob{fobs}.")
        ev = {"form": form, "duration_s": a1 - a0, "duty_cycle": duty, "on_fraction": on_frac,
              "bursts": e.bursts, "freq_hz": e.freq_hz, "bandwidth_hz": bw,
              "offset_from_fob_hz": offset, "j_s_db": js, "level_db": level,
              "fob_frames_during": len(during),
              "front_end_flag": any(x.jammer_like for x in grp)}
        if len(grp) > 1:
            # weaker components at other offsets (images, intermodulation, splatter)
            others = sorted((x for x in grp if x is not e),
                            key=lambda x: -(np.median(x.rssi) if x.rssi else -math.inf))
            ev["components"] = [{"freq_hz": x.freq_hz, "t": x.t, "t_end": x.t_end,
                                 "level_db": float(np.median(x.rssi)) if x.rssi else None}
                                for x in others[:8]]
            ev["component_count"] = len(grp)
        return make_alert("jamming", e.capture, t0, t1, severity, min(conf, 1.0), summary,
                          None, ev)
