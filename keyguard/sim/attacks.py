"""Attack devices: jammers, replayers, RollJam, RollBack, clones, code scanners and relays.

Every attack is a dataclass that a scenario lists. Planning happens in two steps, driven by
:class:`keyguard.sim.scenario.PlanContext`:

1. ``victim_presses(ctx)``: the genuine presses the attack involves (RollJam jams two presses of
   the owner; a relay triggers the fob's answer). The scenario numbers every press of a device in
   time order, so each one gets a real, increasing counter.
2. ``plan(ctx, presses)``: the emissions (what the receiver will hear) and the ground-truth
   events, using the contract's alert kinds.

Each attack radio has its own fingerprint, drawn from the seed under the attack's name. Three
ways to replay a captured press, as real tools do it:

- ``cc1101``: demodulate, then regenerate the bits at the protocol's nominal timing with the
  radio's own (accurate) bit clock and clean, fast edges (rfcat, CC1101 boards);
- ``flipper``: record the pulse timings (with the victim's clock error and jitter, biased and
  quantised by the recorder's demodulator) and play them back through a CC1101;
- ``hackrf``: record raw IQ and transmit it back: the recording's noise floor, its DC spike and
  IQ image go out with it for the whole recording, not only during pulses. The same crystal
  tunes both directions, so the fob's own carrier offset survives the replay.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from keyguard.errors import ScenarioError
from keyguard.sim.channel import fractional_delay
from keyguard.sim.emission import StreamEmission
from keyguard.sim.fingerprint import add_tx_impairments
from keyguard.sim.jammer import WAVEFORMS, JammerSignal
from keyguard.sim.noise import block_noise, rng_for
from keyguard.sim.scene import TimedFrame, frames_span

if TYPE_CHECKING:  # pragma: no cover - typing only
    from keyguard.sim.scenario import PlanContext, Press

REPLAYERS = ("cc1101", "flipper", "hackrf")


@dataclass
class Captured:
    """A press as an attacker captured it.

    fields: the code (protocol fields, ``counter`` for rolling codes). nominal: the protocol's
    frames for it (what a bit-regenerating replayer rebuilds). timed: the frames as the victim's
    clock sent them (what a recorder hears), times in s. transmitter: the victim radio.
    rf_tag: the key of the victim's RF realisation, so a raw recording is the very waveform sent.
    t: when the press happened in this capture, or None when it predates the recording.
    """

    fields: dict
    nominal: list
    timed: list
    transmitter: object
    rf_tag: tuple
    t: float | None = None


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise ScenarioError(msg)


def _pos(p) -> tuple:
    t = tuple(float(v) for v in p)
    if len(t) == 2:
        t = (*t, 1.0)
    _check(len(t) == 3, f"a position is [x, y] or [x, y, z] in metres, not {list(p)!r}")
    return t


class Attack(ABC):
    """Base of the attack dataclasses: ``victim_presses`` (the genuine presses the attack
    causes; none by default) and ``plan`` (emissions and truth), see the module docstring."""

    def victim_presses(self, ctx: "PlanContext") -> list["Press"]:
        return []

    @abstractmethod
    def plan(self, ctx: "PlanContext", presses: list["Press"]) -> None:
        """Emit the attack's emissions and ground truth (``presses``: its victim presses)."""


# ---------------------------------------------------------------------------------------------
# jamming
# ---------------------------------------------------------------------------------------------
@dataclass
class Jam(Attack):
    """A jammer from ``t`` to ``t_end`` (s).

    target: the device whose channel is jammed: the jammer sits at its nominal carrier plus
    ``offset_hz`` and ``jsr_db`` is set against that device's mean received power at the
    receiver (set ``power_dbm`` instead for an absolute transmit power). waveform: cw, noise,
    pulsed or swept (see :mod:`keyguard.sim.jammer`). J/S uses the jammer's power while on.
    """

    t: float
    t_end: float
    target: str | None = None
    offset_hz: float = -70e3
    jsr_db: float | None = 20.0
    power_dbm: float | None = None
    waveform: str = "cw"
    bandwidth_hz: float = 200e3
    period_s: float = 10e-3
    duty: float = 0.5
    sweep_span_hz: float = 400e3
    sweep_period_s: float = 5e-3
    freq_hz: float | None = None
    position: tuple = (3.0, 2.0, 1.0)
    radio: str = "cc1101"
    name: str = "jammer"
    report: bool = True

    def __post_init__(self) -> None:
        _check(self.waveform in WAVEFORMS,
               f"jammer waveform {self.waveform!r} is not one of {', '.join(WAVEFORMS)}")
        _check(self.t_end > self.t, f"jammer {self.name}: t_end must be after t")
        _check(self.jsr_db is not None or self.power_dbm is not None,
               f"jammer {self.name}: give jsr_db (with a target) or power_dbm")
        _check(0 < self.duty <= 1, f"jammer {self.name}: duty must be within (0, 1]")
        self.position = _pos(self.position)

    def plan(self, ctx: "PlanContext", presses: list["Press"]) -> None:
        fs = ctx.scene.sample_rate
        nominal = self.freq_hz
        if nominal is None:
            nominal = ctx.device(self.target).freq_hz if self.target else ctx.scene.receiver.center_freq
        tx = ctx.radio(self.name, self.radio, self.position, nominal + self.offset_hz)
        link = ctx.scene.link(tx)
        if self.power_dbm is not None:
            rx_dbm = link.rx_power_dbm(self.power_dbm)
        else:
            _check(self.target is not None, f"jammer {self.name}: jsr_db needs a target device")
            rx_dbm = ctx.rx_power_dbm(self.target) + self.jsr_db
        fad = link.fading(rng_for(ctx.seed, "fading", self.name), flat=True)
        amp = 10.0 ** (rx_dbm / 20.0) * complex(fad.gains[0])
        start, stop = int(round(self.t * fs)), int(round(self.t_end * fs))
        sig = JammerSignal(self.waveform, fs, start, stop, ctx.scene.offset_hz(tx), 1.0,
                           (ctx.seed, "jam", self.name), bandwidth_hz=self.bandwidth_hz,
                           period_s=self.period_s, duty=self.duty, sweep_span_hz=self.sweep_span_hz,
                           sweep_period_s=self.sweep_period_s,
                           phase_noise_hz=tx.fingerprint.phase_noise_hz)
        ctx.emit(StreamEmission(start, stop, source=self.name,
                                gen=lambda a, b: (sig(a, b) * np.complex64(amp))))
        if self.report:
            params = {"waveform": self.waveform, "offset_hz": self.offset_hz,
                      "freq_hz": tx.carrier_hz, "baseband_offset_hz": ctx.scene.offset_hz(tx),
                      "rx_power_dbm": rx_dbm, "target": self.target}
            if self.target:
                params["jsr_db"] = rx_dbm - ctx.rx_power_dbm(self.target)
            if self.waveform == "noise":
                params["bandwidth_hz"] = self.bandwidth_hz
            if self.waveform == "pulsed":
                params.update(period_s=self.period_s, duty=self.duty)
            if self.waveform == "swept":
                params.update(sweep_span_hz=self.sweep_span_hz, sweep_period_s=self.sweep_period_s)
            ctx.truth("jamming", self.t, self.t_end, None, self.name, params)


# ---------------------------------------------------------------------------------------------
# replaying captured presses
# ---------------------------------------------------------------------------------------------
@dataclass
class Replayer:
    """How captured presses go back on air: ``kind`` cc1101, flipper or hackrf (module doc),
    from ``position`` (m) with transmit power ``power_dbm`` (default: the radio's).

    record_snr_db: SNR of a hackrf recording (its noise floor is replayed with it).
    pad_s: recording margin kept before and after a press by a raw replay (s).
    tune_offset_hz: where the hackrf was tuned relative to the fob's nominal carrier (Hz).
    """

    kind: str = "cc1101"
    position: tuple = (3.0, 2.0, 1.0)
    power_dbm: float | None = None
    record_snr_db: float = 30.0
    pad_s: float = 0.02
    tune_offset_hz: float = 0.0

    def __post_init__(self) -> None:
        _check(self.kind in REPLAYERS, f"replayer {self.kind!r} is not one of {', '.join(REPLAYERS)}")
        self.position = _pos(self.position)

    @classmethod
    def of(cls, spec) -> "Replayer":
        if isinstance(spec, Replayer):
            return spec
        if isinstance(spec, str):
            return cls(kind=spec)
        if isinstance(spec, dict):
            try:
                return cls(**spec)
            except TypeError as e:
                raise ScenarioError(f"bad replayer settings {spec!r}: {e}") from None
        raise ScenarioError(f"a replayer is a name ({', '.join(REPLAYERS)}) or a table, not {spec!r}")


def replay_press(ctx: "PlanContext", name: str, replayer: Replayer, victim_id: str,
                 captured: "Captured", t: float, tag: tuple) -> tuple[float, float, dict]:
    """Put one captured press back on air at time ``t`` (s); returns (t, t_end, truth params)."""
    dev = ctx.device(victim_id)
    radio_class = "hackrf" if replayer.kind == "hackrf" else "cc1101"
    tx = ctx.radio(name, radio_class, replayer.position, dev.freq_hz)
    scene = ctx.scene
    params = {"replayer": replayer.kind, "freq_hz": tx.carrier_hz,
              "baseband_offset_hz": scene.offset_hz(tx), "position": list(replayer.position)}
    params["code"] = ctx.describe(victim_id, captured.nominal).get("code")
    original = captured.timed
    if replayer.kind == "hackrf":
        return _raw_replay(ctx, name, replayer, victim_id, captured, t, tag, params)
    t0 = original[0].t if original else 0.0
    if replayer.kind == "cc1101":
        timed = scene.timed_frames(tx, captured.nominal, t, tag)
    else:  # flipper: the recorded timings, biased and quantised by the recorder, replayed
        rng = rng_for(ctx.seed, "flipper-rec", *tag)
        bias = rng.uniform(-20.0, 60.0)  # µs: threshold demodulators lengthen pulses
        timed = []
        for i, tf in enumerate(original):
            d = tf.frame.durations_us.copy()
            on = tf.frame.levels == 1
            d = d + np.where(on, bias, -bias) + rng.normal(0.0, 8.0, d.size)
            d = np.maximum(np.rint(d), 1.0)
            rec = replace(tf.frame, durations_us=d, levels=tf.frame.levels.copy(), t=0.0, meta={})
            play = tx.fingerprint.retime(rec, rng_for(ctx.seed, "timing", *tag, i))
            timed.append(TimedFrame(t + (tf.t - t0), play))
    ctx.emit_many(scene.emit_frames(tx, timed, tag, power_dbm=replayer.power_dbm, source=name))
    lo, hi = frames_span(timed)
    params["frames"] = len(timed)
    return lo, hi, params


def _raw_replay(ctx, name, replayer, victim_id, captured, t, tag, params):
    """HackRF-style replay: the recording (victim frames + the recorder's noise floor, DC and
    image, the whole padded span) is transmitted back."""
    scene = ctx.scene
    fs = scene.sample_rate
    original = captured.timed
    vtx = captured.transmitter
    rtx = ctx.radio(name, "hackrf", replayer.position, ctx.device(victim_id).freq_hz + replayer.tune_offset_hz)
    t0, t1 = frames_span(original)
    pad = replayer.pad_s
    dur = (t1 - t0) + 2 * pad
    power = rtx.fingerprint.tx_power_dbm if replayer.power_dbm is None else replayer.power_dbm
    amp = scene.link(rtx).amplitude(power)
    fad = scene.fading(rtx, tag)
    # the hackrf's LO sits where it was tuned, with its crystal error: its DC spike, LO leakage
    # and image are centred there; the replayed fob carrier lands where the fob put it
    lo_off = scene.receiver.offset_hz(rtx.carrier_hz)
    rec_noise = 10.0 ** (-replayer.record_snr_db / 10.0)

    def make(lead, tail):
        n = int(math.ceil((lead + dur + tail) * fs)) + 1
        x = np.zeros(n, np.complex64)
        for i, tf in enumerate(original):
            # the very waveform the fob sent (same RF realisation as the genuine burst)
            w = scene.tx_waveform(vtx, tf.frame, 0.0, 0.0, (*captured.rf_tag, i), amplitude=1.0)
            k = (tf.t - t0 + pad + lead) * fs
            k0 = int(math.floor(k))
            w = fractional_delay(np.concatenate([w, np.zeros(2, np.complex64)]), (k - k0) / fs, fs)
            hi = min(n, k0 + w.size)
            x[k0:hi] += w[:hi - k0]
        # recorder noise over the whole recording (it is transmitted back with the bursts)
        start = int(round((lead) * fs))
        stop = int(round((lead + dur) * fs))
        x[start:stop] += block_noise((ctx.seed, "rec-noise", *tag), 0, stop - start, rec_noise)
        x = add_tx_impairments(x, rtx.fingerprint, lo_off, fs, rng_for(ctx.seed, "hackrf-iq", *tag))
        gate = np.zeros(n, np.float32)
        gate[start:stop] = 1.0
        return fad.apply(x * gate * np.float32(amp), fs)

    ctx.emit(scene.burst(t - pad, dur, make, name))
    params.update(record_snr_db=replayer.record_snr_db, lo_offset_hz=lo_off,
                  lo_leak_dbc=rtx.fingerprint.lo_leak_dbc, image_dbc=rtx.fingerprint.image_dbc,
                  recording_s=dur, frames=len(original))
    return t, t + (t1 - t0), params


# ---------------------------------------------------------------------------------------------
# attacks on rolling codes
# ---------------------------------------------------------------------------------------------
@dataclass
class RollJam(Attack):
    """Jam and capture two presses of ``victim`` (at ``presses`` s), replay code 1 right after
    press 2 (``replay_delay_s`` after it ends, 0.5–1.5 s in the original attack) so the owner
    notices nothing, and replay code 2 later at ``replay2_t`` (None: never in this capture).

    The jammer runs from ``jam_lead_s`` before press 1 until press 2's last frame ends.
    """

    victim: str
    presses: tuple = (5.0, 9.0)
    replay_delay_s: float = 1.0
    replay2_t: float | None = None
    button: int | None = None
    jam: dict = field(default_factory=dict)
    jam_lead_s: float = 1.0
    replayer: object = "cc1101"
    position: tuple = (3.0, 2.0, 1.0)
    name: str = "rolljam"

    def __post_init__(self) -> None:
        _check(len(self.presses) == 2 and self.presses[1] > self.presses[0],
               f"{self.name}: presses must be two increasing times")
        _check(self.replay_delay_s >= 0, f"{self.name}: replay_delay_s must be >= 0")
        self.position = _pos(self.position)
        self.replayer = Replayer.of(self.replayer)

    def victim_presses(self, ctx):
        return [ctx.new_press(self.victim, t, self.button, by=self.name, jammed=True)
                for t in self.presses]

    def plan(self, ctx, presses):
        p1, p2 = presses
        t_end2 = frames_span(ctx.timed(p2))[1]
        jam = dict(dict(offset_hz=-70e3, jsr_db=20.0, waveform="cw", position=self.position), **self.jam)
        jam_t, jam_end = self.presses[0] - self.jam_lead_s, t_end2 + 0.05
        try:
            Jam(t=jam_t, t_end=jam_end, target=self.victim, name=f"{self.name}.jammer",
                **jam).plan(ctx, [])
        except TypeError as e:
            raise ScenarioError(f"{self.name}: bad jam settings: {e}") from None
        when = [t_end2 + self.replay_delay_s, self.replay2_t]
        for k, (p, t) in enumerate(zip((p1, p2), when), start=1):
            if t is None:
                continue
            cap = ctx.captured(p)
            lo, hi, params = replay_press(ctx, f"{self.name}.replayer", self.replayer, self.victim,
                                          cap, t, (self.name, "replay", k))
            params.update(replay_index=k, original_t=p.t, counter=cap.fields.get("counter"),
                          jam_t=jam_t, jam_t_end=jam_end)
            ctx.truth("rolljam", lo, hi, ctx.identity(self.victim), self.name, params)


@dataclass
class RollBack(Attack):
    """Replay ``n_codes`` (2–5) old consecutive codes of ``victim`` in quick succession at ``t``.

    source: ``earlier`` takes the victim's last presses before ``t`` in this capture (so their
    first sighting is in it); ``unseen`` uses codes captured before the recording started
    (counters below every press in it). gap_s: time between replayed presses (s).
    """

    victim: str
    t: float = 20.0
    n_codes: int = 3
    gap_s: float = 0.4
    source: str = "unseen"
    button: int | None = None
    replayer: object = "cc1101"
    name: str = "rollback"

    def __post_init__(self) -> None:
        _check(2 <= self.n_codes <= 5, f"{self.name}: n_codes must be 2..5 (RollBack replays 2–5 codes)")
        _check(self.source in ("earlier", "unseen"), f"{self.name}: source must be 'earlier' or 'unseen'")
        self.replayer = Replayer.of(self.replayer)

    def plan(self, ctx, presses):
        if self.source == "earlier":
            old = [p for p in ctx.presses_of(self.victim) if p.t < self.t][-self.n_codes:]
            _check(len(old) == self.n_codes,
                   f"{self.name}: needs {self.n_codes} presses of {self.victim} before t={self.t}")
            codes = [ctx.captured(p) for p in old]
        else:
            first = ctx.first_counter(self.victim)
            codes = [ctx.virtual_capture(self.victim, first - 40 + k, self.button, (self.name, "old", k))
                     for k in range(self.n_codes)]
        t = self.t
        lo0 = None
        sent = []
        for k, cap in enumerate(codes):
            lo, hi, params = replay_press(ctx, f"{self.name}.replayer", self.replayer, self.victim,
                                          cap, t, (self.name, k))
            lo0 = lo if lo0 is None else lo0
            sent.append(params.pop("code"))
            last = (hi, params)
            t = hi + self.gap_s
        params = last[1]
        params.update(n_codes=self.n_codes, source=self.source, codes=sent,
                      counters=[c.fields.get("counter") for c in codes],
                      original_t=[c.t for c in codes])
        ctx.truth("rollback", lo0, last[0], ctx.identity(self.victim), self.name, params)


@dataclass
class Replay(Attack):
    """Replay one captured press of ``victim`` at ``t``.

    of: time of the press to replay (the nearest press of the victim in this capture), or None
    for a code captured before the recording (a fixed-code remote's only code, or an old
    rolling code).
    """

    victim: str
    t: float = 20.0
    of: float | None = None
    button: int | None = None
    replayer: object = "cc1101"
    name: str = "replay"

    def __post_init__(self) -> None:
        self.replayer = Replayer.of(self.replayer)

    def plan(self, ctx, presses):
        if self.of is not None:
            own = ctx.presses_of(self.victim)
            _check(bool(own), f"{self.name}: {self.victim} has no press to replay")
            p = min(own, key=lambda q: abs(q.t - self.of))
            cap = ctx.captured(p)
        else:
            cap = ctx.virtual_capture(self.victim, ctx.first_counter(self.victim) - 10, self.button,
                                      (self.name, "old"))
        lo, hi, params = replay_press(ctx, f"{self.name}.replayer", self.replayer, self.victim,
                                      cap, self.t, (self.name,))
        params.update(original_t=cap.t, counter=cap.fields.get("counter"))
        ctx.truth("replay", lo, hi, ctx.identity(self.victim), self.name, params)


@dataclass
class Clone(Attack):
    """A foreign radio sends ``victim``'s identity with fresh valid codes (a cloned key, e.g.
    after the manufacturer key leaked): right codes, wrong fingerprint.

    radio: device class of the cloning radio (cc1101, or fob for a cloned aftermarket fob);
    power_dbm: its transmit power (default: the radio's). counter_ahead: how far ahead of the
    victim's counter the clone's counter starts.
    """

    victim: str
    t: float = 20.0
    presses: int = 1
    gap_s: float = 2.0
    button: int | None = None
    counter_ahead: int = 5
    radio: str = "cc1101"
    position: tuple = (3.0, 2.0, 1.0)
    power_dbm: float | None = None
    name: str = "clone"

    def __post_init__(self) -> None:
        self.position = _pos(self.position)
        _check(self.presses >= 1, f"{self.name}: presses must be >= 1")

    def plan(self, ctx, presses):
        dev = ctx.device(self.victim)
        tx = ctx.radio(self.name, self.radio, self.position, dev.freq_hz)
        base = ctx.last_counter(self.victim, self.t) + self.counter_ahead
        for k in range(self.presses):
            t = self.t + k * self.gap_s
            cap = ctx.virtual_capture(self.victim, base + k, self.button, (self.name, k))
            timed = ctx.scene.timed_frames(tx, cap.nominal, t, (self.name, k))
            ctx.emit_many(ctx.scene.emit_frames(tx, timed, (self.name, k), power_dbm=self.power_dbm,
                                                source=self.name))
            lo, hi = frames_span(timed)
            ctx.truth("clone", lo, hi, ctx.identity(self.victim), self.name,
                      {"radio": self.radio, "freq_hz": tx.carrier_hz,
                       "baseband_offset_hz": ctx.scene.offset_hz(tx),
                       "counter": cap.fields.get("counter"), "fingerprint": tx.fingerprint.to_dict()})


@dataclass
class BruteForce(Attack):
    """Code scanning of a fixed-code remote: ``n_codes`` consecutive codes from ``start_code``
    (default: random), each sent ``frames_per_code`` times, from ``t``.

    field: the protocol field that is scanned (``id`` for EV1527-style remotes). bits: its
    width (default: from the profile). power_dbm: the scanner's transmit power (default: the
    radio's).
    """

    victim: str
    t: float = 10.0
    n_codes: int = 64
    start_code: int | None = None
    field: str = "serial"
    frames_per_code: int = 2
    gap_s: float = 0.01
    bits: int | None = None
    radio: str = "cc1101"
    position: tuple = (5.0, 3.0, 1.0)
    power_dbm: float | None = None
    name: str = "bruteforce"

    def __post_init__(self) -> None:
        self.position = _pos(self.position)
        _check(self.n_codes >= 2, f"{self.name}: n_codes must be >= 2")
        _check(self.frames_per_code >= 1, f"{self.name}: frames_per_code must be >= 1")

    def plan(self, ctx, presses):
        dev = ctx.device(self.victim)
        tx = ctx.radio(self.name, self.radio, self.position, dev.freq_hz)
        rng = rng_for(ctx.seed, "bruteforce", self.name)
        width = self.bits or ctx.field_width(self.victim, self.field)
        start = self.start_code if self.start_code is not None else int(rng.integers(0, 1 << width))
        t = self.t
        t_first = None
        for k in range(self.n_codes):
            code = (start + k) % (1 << width)
            frames = ctx.frames_for(self.victim, {self.field: code}, repeats=self.frames_per_code)
            timed = ctx.scene.timed_frames(tx, frames, t, (self.name, k))
            ctx.emit_many(ctx.scene.emit_frames(tx, timed, (self.name, k), power_dbm=self.power_dbm,
                                                source=self.name))
            lo, hi = frames_span(timed)
            t_first = lo if t_first is None else t_first
            t = hi + self.gap_s
            if t >= ctx.duration_s:
                break
        ctx.truth("bruteforce", t_first, hi, None, self.name,
                  {"protocol": dev.protocol, "field": self.field, "start_code": start,
                   "n_codes": k + 1, "radio": self.radio, "freq_hz": tx.carrier_hz})


# ---------------------------------------------------------------------------------------------
# relays
# ---------------------------------------------------------------------------------------------
@dataclass
class Relay(Attack):
    """A relay attack on a passive-entry car: the owner's fob, far away at ``fob_position``,
    answers a challenge relayed to it; its UHF answer reaches the car either directly (weak,
    ``mode = "lf"``: only the LF challenge was relayed), through an amplify-and-forward relay
    (``"af"``) or a demodulate-and-forward one (``"df"``). The answer carries the profile's
    passive-entry button status (KeeLoq: 0, no button) unless ``button`` is given.

    AF: relay station A (``near_fob_position``) picks the answer up and B (``position``, by the
    car) re-radiates it ``gain_db`` louder, ``delay_s`` later (cable/link: 120–160 ns for 30 m),
    with the translation error ``translation_error_hz`` of its up/down conversion, its amplifier
    compressing above ``p1db_dbm`` and adding its input noise (noise figure ``noise_figure_db``
    over ``bandwidth_hz``) for the whole time it is switched on (``t_on``, ``t_off``).
    DF: B regenerates the demodulated frames with its own radio (``radio`` class, transmit
    power ``power_dbm``, default the radio's) after ``latency_s``.
    """

    victim: str
    t: float = 10.0
    mode: str = "af"
    fob_position: tuple = (40.0, 0.0, 1.0)
    near_fob_position: tuple | None = None
    position: tuple = (2.0, 1.0, 1.0)
    button: int | None = None
    gain_db: float = 60.0
    delay_s: float = 140e-9
    translation_error_hz: float = 800.0
    p1db_dbm: float = 10.0
    noise_figure_db: float = 8.0
    bandwidth_hz: float = 500e3
    t_on: float | None = None
    t_off: float | None = None
    latency_s: float = 1e-3
    radio: str = "cc1101"
    power_dbm: float | None = None
    name: str = "relay"

    def __post_init__(self) -> None:
        _check(self.mode in ("af", "df", "lf"), f"{self.name}: mode must be af, df or lf")
        self.fob_position = _pos(self.fob_position)
        self.position = _pos(self.position)
        if self.near_fob_position is None:
            f = self.fob_position
            self.near_fob_position = (f[0] - 1.5, f[1], f[2])
        self.near_fob_position = _pos(self.near_fob_position)
        _check(self.delay_s >= 0 and self.latency_s >= 0, f"{self.name}: delays must be >= 0")

    def victim_presses(self, ctx):
        # the fob answers the car's (relayed) LF challenge: a passive-entry answer, not a
        # button press, where its profile tells the two apart
        button = self.button if self.button is not None else ctx.passive_entry_button(self.victim)
        return [ctx.new_press(self.victim, self.t, button, by=self.name,
                              position=self.fob_position)]

    def plan(self, ctx, presses):
        (p,) = presses
        scene = ctx.scene
        fs = scene.sample_rate
        timed = ctx.timed(p)
        lo, hi = frames_span(timed)
        dev = ctx.device(self.victim)
        fob = ctx.transmitter(self.victim, position=self.fob_position)
        params = {"mode": self.mode, "fob_distance_m": scene.link(fob).distance_m,
                  "fob_rx_power_dbm": scene.link(fob).rx_power_dbm(fob.fingerprint.tx_power_dbm)}
        if self.mode == "lf":
            params["lf_only"] = True
            ctx.truth("relay", lo, hi, ctx.identity(self.victim), self.name, params)
            return
        if self.mode == "df":
            tx = ctx.radio(f"{self.name}.B", self.radio, self.position, dev.freq_hz)
            t0 = timed[0].t + self.latency_s
            out = scene.timed_frames(tx, ctx.captured(p).nominal, t0, (self.name, "df"))
            ctx.emit_many(scene.emit_frames(tx, out, (self.name, "df"), power_dbm=self.power_dbm,
                                            source=self.name))
            olo, ohi = frames_span(out)
            params.update(latency_s=self.latency_s, radio=self.radio, freq_hz=tx.carrier_hz,
                          baseband_offset_hz=scene.offset_hz(tx))
            ctx.truth("relay", olo, ohi, ctx.identity(self.victim), self.name, params)
            return
        # amplify-and-forward
        a_link = scene.link(fob, rx_pos=self.near_fob_position)
        b_tx = ctx.radio(f"{self.name}.B", "cc1101", self.position, dev.freq_hz)
        b_link = scene.link(b_tx)
        in_amp = a_link.amplitude(fob.fingerprint.tx_power_dbm)
        g = 10.0 ** (self.gain_db / 20.0)
        sat = 10.0 ** (self.p1db_dbm / 20.0) * 1.26  # Rapp p=2: output 1 dB down at ≈ 0.8·A_sat
        out_scale = b_link.amplitude(0.0)  # √mW at the receiver per √mW radiated by B
        fad = b_link.fading(rng_for(ctx.seed, "fading", self.name, p.t))
        df = self.translation_error_hz
        t_on = lo - 0.5 if self.t_on is None else self.t_on
        t_off = hi + 0.5 if self.t_off is None else self.t_off

        def relayed(x: np.ndarray) -> np.ndarray:
            # x: the fob's frame at the receiver's baseband with unit amplitude; at A it has in_amp
            y = x * np.float32(in_amp * g)
            r = np.abs(y)
            comp = 1.0 / (1.0 + (r / sat) ** 4) ** 0.25  # Rapp AM/AM, smoothness 2
            ampm = np.exp(1j * np.deg2rad(8.0) * (r / sat) ** 2 / (1.0 + (r / sat) ** 2))
            y = y * comp * ampm
            n = np.arange(y.size)
            y = y * np.exp(2j * math.pi * df * n / fs)
            y = fractional_delay(y.astype(np.complex64), self.delay_s, fs)
            return fad.apply(y * np.float32(out_scale), fs)

        for i, tf in enumerate(timed):
            def make(lead, tail, tf=tf, i=i):
                x = scene.tx_waveform(fob, tf.frame, lead, tail, (*ctx.press_tag(p), i), amplitude=1.0)
                return relayed(x)
            ctx.emit(scene.burst(tf.t, tf.frame.duration_us * 1e-6, make, self.name))
        # the relay's own input noise, amplified, for as long as it is switched on
        noise_in_dbm = -174.0 + 10.0 * math.log10(self.bandwidth_hz) + self.noise_figure_db
        noise_rx_dbm = noise_in_dbm + self.gain_db + 20.0 * math.log10(out_scale)
        start, stop = int(round(t_on * fs)), int(round(t_off * fs))
        sig = JammerSignal("noise", fs, start, stop, scene.offset_hz(fob) + df, 1.0,
                           (ctx.seed, "relay-noise", self.name), bandwidth_hz=self.bandwidth_hz)
        namp = np.complex64(10.0 ** (noise_rx_dbm / 20.0))
        ctx.emit(StreamEmission(start, stop, source=self.name, gen=lambda a, b: sig(a, b) * namp))
        relay_rx_dbm = 20.0 * math.log10(min(in_amp * g, sat) * out_scale)
        params.update(delay_s=self.delay_s, gain_db=self.gain_db, translation_error_hz=df,
                      p1db_dbm=self.p1db_dbm, relay_rx_power_dbm=relay_rx_dbm,
                      relay_noise_rx_dbm=noise_rx_dbm, t_on=t_on, t_off=t_off,
                      relay_distance_m=b_link.distance_m)
        ctx.truth("relay", lo, hi, ctx.identity(self.victim), self.name, params)


ATTACKS = {"jam": Jam, "rolljam": RollJam, "rollback": RollBack, "replay": Replay,
           "clone": Clone, "bruteforce": BruteForce, "relay": Relay}
