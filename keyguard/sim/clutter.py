"""Benign clutter: the everyday 433 MHz traffic that must not raise alarms.

Weather sensors, tyre-pressure sensors and doorbells are generated from generic line codes with
the timings such devices use (they are not car-fob protocols, so they need no firmware profile):

- weather sensor: OOK pulse-position code, 36 bits (id 8, flags 4, temperature 12, humidity 8,
  spare 4): 500 µs pulses, 1000 µs gap for 0, 2000 µs for 1, frames repeated 10 times with a
  4000 µs gap, one transmission every 30–60 s (Nexus/Prologue-style sensors);
- TPMS: 2-FSK Manchester at 19.2 kbit/s (26 µs half-bits), ±35 kHz, 16-bit 0101 preamble then a
  64-bit frame (id 32, pressure 8, temperature 8, flags 8, checksum 8), twice, once a minute;
- doorbell / gate remote: OOK PWM with a 24-bit fixed code (EV1527-style: Te ≈ 300 µs,
  1 = 3 Te on + 1 Te off, 0 = 1 Te on + 3 Te off, sync 1 Te on + 31 Te off), 20 repeats.

Other people's fobs are ordinary scenario devices with presses (:class:`OtherFobs` creates a
handful with random serials and press times). Held buttons and double presses are options of a
press (``hold_s``, ``double``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from keyguard.errors import ScenarioError
from keyguard.pulse_train import PulseTrain
from keyguard.sim.noise import rng_for
from keyguard.sim.scene import frames_span

if TYPE_CHECKING:  # pragma: no cover
    from keyguard.sim.scenario import PlanContext


def _bits(value: int, n: int) -> np.ndarray:
    """MSB-first bits of ``value``."""
    return ((int(value) >> np.arange(n - 1, -1, -1)) & 1).astype(np.int8)


def ppm_frame(bits: np.ndarray, pulse_us: float, gap0_us: float, gap1_us: float) -> PulseTrain:
    """Pulse-position code: every bit is a pulse followed by a short (0) or long (1) gap."""
    d = np.empty(2 * bits.size)
    d[0::2] = pulse_us
    d[1::2] = np.where(bits == 1, gap1_us, gap0_us)
    lv = np.tile(np.array([1, 0], np.int8), bits.size)
    return PulseTrain(d[:-1], lv[:-1])  # the last gap is the inter-frame gap


def pwm_frame(bits: np.ndarray, te_us: float, sync: tuple[int, int] = (1, 31)) -> PulseTrain:
    """Pulse-width code, 1 = 3 Te on + 1 Te off, 0 = 1 Te on + 3 Te off, led by a sync."""
    on = np.where(bits == 1, 3.0, 1.0) * te_us
    off = np.where(bits == 1, 1.0, 3.0) * te_us
    d = np.concatenate([[sync[0] * te_us, sync[1] * te_us], np.ravel(np.column_stack([on, off]))])
    lv = np.tile(np.array([1, 0], np.int8), d.size // 2)
    return PulseTrain(d, lv).trimmed()


def manchester_frame(bits: np.ndarray, half_us: float) -> PulseTrain:
    """Manchester (IEEE 802.3): 1 = low→high, 0 = high→low; levels are FSK mark/space."""
    lv = np.empty(2 * bits.size, np.int8)
    lv[0::2] = 1 - bits
    lv[1::2] = bits
    return PulseTrain(np.full(lv.size, half_us), lv, modulation="FSK")


def repeat_frames(frame: PulseTrain, count: int, gap_us: float) -> list[PulseTrain]:
    """``count`` copies of a frame, each ``gap_us`` after the previous one ends (t in s)."""
    period = (frame.duration_us + gap_us) * 1e-6
    return [PulseTrain(frame.durations_us, frame.levels, t=i * period, modulation=frame.modulation,
                       fsk_deviation_hz=frame.fsk_deviation_hz) for i in range(count)]


def _times(rng: np.random.Generator, t0: float, t_end: float, lo: float, hi: float) -> list[float]:
    out, t = [], t0 + rng.uniform(0.0, hi)
    while t < t_end:
        out.append(float(t))
        t += rng.uniform(lo, hi)
    return out


@dataclass
class _Clutter:
    """Common part: name, position (m), nominal carrier (Hz), active span (s)."""

    name: str = "clutter"
    position: tuple = (15.0, 10.0, 2.0)
    freq_hz: float = 433.92e6
    t: float = 0.0
    t_end: float | None = None
    device_class: str = "sensor"

    def frames(self, rng: np.random.Generator) -> list[PulseTrain]:
        """The frames of one transmission (t = s from its start); each device class defines it."""
        raise NotImplementedError(type(self).__name__)

    def times(self, rng: np.random.Generator, duration_s: float) -> list[float]:
        """When it transmits within the capture (s); each device class defines it."""
        raise NotImplementedError(type(self).__name__)

    def plan(self, ctx: "PlanContext") -> None:
        rng = rng_for(ctx.seed, "clutter", self.name)
        tx = ctx.radio(self.name, self.device_class, tuple(self.position), self.freq_hz)
        end = ctx.duration_s if self.t_end is None else min(self.t_end, ctx.duration_s)
        for k, t in enumerate(self.times(rng, end)):
            frames = self.frames(rng)
            tag = (self.name, k)
            timed = ctx.scene.timed_frames(tx, frames, t, tag)
            ctx.emit_many(ctx.scene.emit_frames(tx, timed, tag, source=self.name))
            lo, hi = frames_span(timed)
            ctx.truth("benign", lo, hi, None, self.name,
                      {"device": type(self).__name__.lower(), "freq_hz": tx.carrier_hz,
                       "baseband_offset_hz": ctx.scene.offset_hz(tx),
                       "rx_power_dbm": ctx.scene.link(tx).rx_power_dbm(tx.fingerprint.tx_power_dbm)})


@dataclass
class WeatherSensor(_Clutter):
    """A weather station sensor sending every ``period_s`` (s range)."""

    sensor_id: int | None = None
    period_s: tuple = (30.0, 60.0)

    def times(self, rng, duration_s):
        return _times(rng, self.t, duration_s, *self.period_s)

    def frames(self, rng):
        sid = self.sensor_id if self.sensor_id is not None else int(rng_for(self.name, "id").integers(256))
        temp = int(np.clip(rng.normal(150, 80), -400, 600)) & 0xFFF
        hum = int(rng.integers(20, 95))
        bits = np.concatenate([_bits(sid, 8), _bits(0b1000, 4), _bits(temp, 12), _bits(0xF, 4), _bits(hum, 8)])
        return repeat_frames(ppm_frame(bits, 500.0, 1000.0, 2000.0), 10, 4000.0)


@dataclass
class Tpms(_Clutter):
    """A tyre-pressure sensor (of a car parked nearby) sending every ``period_s``."""

    sensor_id: int | None = None
    period_s: tuple = (55.0, 65.0)
    deviation_hz: float = 35e3
    device_class: str = "tpms"

    def times(self, rng, duration_s):
        return _times(rng, self.t, duration_s, *self.period_s)

    def frames(self, rng):
        sid = self.sensor_id if self.sensor_id is not None else int(rng_for(self.name, "id").integers(1 << 32))
        body = [sid >> 24, (sid >> 16) & 255, (sid >> 8) & 255, sid & 255,
                int(rng.integers(90, 110)), int(rng.integers(60, 90)), 0x02]
        body.append(sum(body) & 0xFF)
        bits = np.concatenate([_bits(0x5555, 16), *[_bits(b, 8) for b in body]])
        f = manchester_frame(bits, 26.0)
        f.fsk_deviation_hz = self.deviation_hz
        return repeat_frames(f, 2, 10_000.0)


@dataclass
class Doorbell(_Clutter):
    """A doorbell (or any fixed-code remote) pressed at ``presses`` (s) or ``rate_per_min``."""

    code: int | None = None
    te_us: float = 300.0
    repeats: int = 20
    presses: list = field(default_factory=list)
    rate_per_min: float = 0.0

    def times(self, rng, duration_s):
        if self.presses:
            return [float(t) for t in self.presses if t < duration_s]
        if self.rate_per_min <= 0:
            return []
        mean = 60.0 / self.rate_per_min
        return _times(rng, self.t, duration_s, 0.2 * mean, 1.8 * mean)

    def frames(self, rng):
        code = self.code if self.code is not None else int(rng_for(self.name, "code").integers(1 << 24))
        bits = _bits(code, 24)
        # frames follow each other with no pause: the gap is the last bit's own off run
        return repeat_frames(pwm_frame(bits, self.te_us), self.repeats,
                             (1.0 if bits[-1] else 3.0) * self.te_us)


@dataclass
class OtherFobs:
    """``count`` fobs of other people (protocol ``protocol``) passing by: random serials, each
    pressed ``presses_each`` times at random moments, 15–60 m away."""

    protocol: str = "keeloq"
    count: int = 2
    presses_each: int = 1
    name: str = "passer-by"
    freq_hz: float = 433.92e6

    def plan(self, ctx: "PlanContext") -> None:
        rng = rng_for(ctx.seed, "others", self.name)
        for k in range(self.count):
            dist = rng.uniform(15.0, 60.0)
            ang = rng.uniform(0, 2 * np.pi)
            dev_id = f"{self.name}-{k}"
            ctx.add_device(dev_id, self.protocol, serial=int(rng.integers(1, 1 << 28)),
                           key=int(rng.integers(1, 1 << 63)), counter=int(rng.integers(0, 60000)),
                           position=(dist * np.cos(ang), dist * np.sin(ang), 1.0), freq_hz=self.freq_hz)
            for _ in range(self.presses_each):
                ctx.add_press(dev_id, float(rng.uniform(0.0, max(ctx.duration_s - 2.0, 0.1))),
                              by=self.name)


CLUTTER = {"weather": WeatherSensor, "tpms": Tpms, "doorbell": Doorbell, "fobs": OtherFobs}


def make_clutter(spec: dict):
    """A clutter object from a TOML table with ``type`` = weather, tpms, doorbell or fobs."""
    spec = dict(spec)
    kind = spec.pop("type", None)
    if kind not in CLUTTER:
        raise ScenarioError(f"clutter type {kind!r} is not one of {', '.join(CLUTTER)}")
    try:
        obj = CLUTTER[kind](**spec)
    except TypeError as e:
        raise ScenarioError(f"clutter {kind}: {e}") from None
    if hasattr(obj, "position"):
        obj.position = tuple(float(v) for v in obj.position) + ((1.0,) if len(obj.position) == 2 else ())
    return obj
