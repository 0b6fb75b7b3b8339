"""Per-device RF fingerprints: what makes one transmitter's bursts different from another's.

A :class:`Fingerprint` holds the analogue imperfections of one radio — crystal offset, edge
rise/fall times, oscillator phase noise and turn-on chirp, amplitude droop over a frame, OOK
extinction (carrier leakage while "off"), FSK deviation error, bit-clock (Te) error and timing
jitter — and :func:`render_burst` renders a pulse train through them. Fingerprints are drawn
from a seeded RNG by device class (:func:`draw_fingerprint`), so a scenario's fob is the same
radio every time it is rendered with the same seed.

Device classes and where their numbers come from (ranges, drawn uniformly unless noted):

- ``fob``: keyed SAW/crystal oscillator, HCS-style RC bit clock. Crystal offset N(0, 12) ppm
  clipped to ±30 ppm (the issue's fob range); Te error N(0, 3 %) clipped to ±10 % (HCS parts
  specify their internal oscillator to ±10 % over voltage and temperature); each pulse restarts the
  oscillator, so its phase is new per pulse and it pulls a few kHz at turn-on.
- ``cc1101``: PLL synthesiser with a 26 MHz crystal (±15 ppm), PA ramping (1–3 µs edges),
  phase-continuous, accurate bit clock (±0.2 %). Flipper Zero and most DIY attack boards.
- ``hackrf``: SDR transmitter (±20 ppm), replays raw IQ; carries LO leakage and an IQ image.
- ``sensor``: cheap SAW transmitter of weather sensors/doorbells (±100 ppm, ±5 % clock).
- ``tpms``: tyre sensor, crystal FSK (±20 ppm).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from keyguard.pulse_train import PulseTrain
from keyguard.sim.render import DEFAULT_FSK_DEVIATION_HZ, burst_envelope

DEVICE_CLASSES = ("fob", "cc1101", "hackrf", "sensor", "tpms")


@dataclass(frozen=True)
class Fingerprint:
    """The analogue signature of one transmitter.

    ppm: carrier (crystal) offset, parts per million of the carrier frequency.
    rise_time_us / fall_time_us: 0→100 % raised-cosine edge durations (µs).
    phase_noise_hz: Lorentzian linewidth of the oscillator (Hz); Wiener phase noise.
    chirp_hz / chirp_tau_us: frequency pulling at each turn-on, decaying with this time constant.
    phase_continuous: False for keyed oscillators (each OOK pulse starts at a random phase).
    droop_db: amplitude lost from the start to the end of a frame (dB, battery sag).
    extinction_db: on/off carrier ratio for OOK (dB); the leakage is present within a frame.
    fsk_dev_error: fractional error of the FSK deviation (0.05 = 5 % wide).
    clock_error: fractional bit-clock error; every duration is scaled by (1 + clock_error).
    jitter_us: standard deviation of the per-run timing jitter (µs).
    tx_power_dbm: radiated power (EIRP, dBm) when the carrier is on.
    repeats: frames sent per press, or None to keep what the encoder gives.
    lo_leak_dbc / image_dbc: SDR transmitters' carrier leakage at the LO and IQ image level (dBc);
    None for radios without them.
    """

    ppm: float = 0.0
    rise_time_us: float = 0.0
    fall_time_us: float = 0.0
    phase_noise_hz: float = 0.0
    chirp_hz: float = 0.0
    chirp_tau_us: float = 10.0
    phase_continuous: bool = True
    droop_db: float = 0.0
    extinction_db: float = 60.0
    fsk_dev_error: float = 0.0
    clock_error: float = 0.0
    jitter_us: float = 0.0
    tx_power_dbm: float = -10.0
    repeats: int | None = None
    lo_leak_dbc: float | None = None
    image_dbc: float | None = None

    def carrier_hz(self, nominal_hz: float) -> float:
        """The carrier this radio really sends when told to send ``nominal_hz``."""
        return nominal_hz * (1.0 + self.ppm * 1e-6)

    def with_overrides(self, overrides: dict) -> "Fingerprint":
        """A copy with some fields replaced (unknown names raise ValueError)."""
        known = {f.name for f in fields(self)}
        bad = sorted(set(overrides) - known)
        if bad:
            raise ValueError(f"unknown fingerprint field(s) {', '.join(bad)}; known: {', '.join(sorted(known))}")
        return replace(self, **overrides)

    def to_dict(self) -> dict:
        return asdict(self)

    def retime(self, pt: PulseTrain, rng: np.random.Generator) -> PulseTrain:
        """The pulse train as this radio's bit clock times it: scaled by the clock error, jittered."""
        d = pt.durations_us * (1.0 + self.clock_error)
        if self.jitter_us > 0 and d.size:
            # jitter moves edges, not run lengths independently: a late edge lengthens one run and
            # shortens the next, so the frame length does not random-walk
            e = np.concatenate([[0.0], np.cumsum(d)])
            e[1:-1] += rng.normal(0.0, self.jitter_us, e.size - 2)
            e = np.maximum.accumulate(e)
            d = np.diff(e)
        return replace(pt, durations_us=np.maximum(d, 0.0), levels=pt.levels.copy(), meta=dict(pt.meta))


def draw_fingerprint(rng: np.random.Generator, device_class: str = "fob") -> Fingerprint:
    """A random radio of a device class (see the module docstring for the ranges)."""
    u = rng.uniform
    if device_class == "fob":
        return Fingerprint(
            ppm=float(np.clip(rng.normal(0.0, 12.0), -30.0, 30.0)),
            rise_time_us=u(4.0, 20.0), fall_time_us=u(1.0, 8.0),
            phase_noise_hz=u(200.0, 3000.0), chirp_hz=u(-15e3, 15e3), chirp_tau_us=u(5.0, 40.0),
            phase_continuous=False, droop_db=u(0.1, 2.0), extinction_db=u(30.0, 55.0),
            fsk_dev_error=u(-0.15, 0.15), clock_error=float(np.clip(rng.normal(0.0, 0.03), -0.1, 0.1)),
            jitter_us=u(1.0, 5.0), tx_power_dbm=u(-22.0, -12.0))
    if device_class == "cc1101":
        return Fingerprint(
            ppm=u(-15.0, 15.0), rise_time_us=u(1.0, 3.0), fall_time_us=u(1.0, 3.0),
            phase_noise_hz=u(20.0, 200.0), chirp_hz=0.0, phase_continuous=True, droop_db=0.0,
            extinction_db=u(35.0, 50.0), fsk_dev_error=u(-0.02, 0.02),
            clock_error=float(rng.normal(0.0, 0.002)), jitter_us=u(0.3, 2.0), tx_power_dbm=u(0.0, 10.0))
    if device_class == "hackrf":
        return Fingerprint(
            ppm=u(-20.0, 20.0), rise_time_us=0.0, fall_time_us=0.0, phase_noise_hz=u(20.0, 150.0),
            phase_continuous=True, extinction_db=60.0, clock_error=float(rng.normal(0.0, 1e-5)),
            tx_power_dbm=u(-10.0, 10.0), lo_leak_dbc=u(-40.0, -25.0), image_dbc=u(-40.0, -25.0))
    if device_class == "sensor":
        return Fingerprint(
            ppm=u(-100.0, 100.0), rise_time_us=u(5.0, 25.0), fall_time_us=u(2.0, 10.0),
            phase_noise_hz=u(500.0, 5000.0), chirp_hz=u(-20e3, 20e3), chirp_tau_us=u(5.0, 50.0),
            phase_continuous=False, droop_db=u(0.0, 1.0), extinction_db=u(25.0, 45.0),
            clock_error=u(-0.05, 0.05), jitter_us=u(2.0, 8.0), tx_power_dbm=u(-20.0, -10.0))
    if device_class == "tpms":
        return Fingerprint(
            ppm=u(-20.0, 20.0), rise_time_us=u(2.0, 8.0), fall_time_us=u(2.0, 8.0),
            phase_noise_hz=u(50.0, 500.0), phase_continuous=True, fsk_dev_error=u(-0.1, 0.1),
            clock_error=u(-0.01, 0.01), jitter_us=u(0.2, 1.0), tx_power_dbm=u(-25.0, -15.0))
    raise ValueError(f"unknown device class {device_class!r}; known: {', '.join(DEVICE_CLASSES)}")


def render_burst(pt: PulseTrain, fp: Fingerprint, sample_rate: float, *, freq_offset_hz: float,
                 amplitude: float, rng: np.random.Generator, lead_s: float = 0.0,
                 tail_s: float = 0.0, fsk_deviation_hz: float | None = None,
                 retime: bool = True) -> np.ndarray:
    """Render one frame through a radio's fingerprint (complex64, no noise, no channel).

    freq_offset_hz: where the carrier lands relative to the receiver's centre (Hz), crystal
    offset already included (see :meth:`Fingerprint.carrier_hz`). amplitude: carrier amplitude
    when on. rng: drives jitter, phase noise and per-pulse phases. retime: apply the clock error
    and jitter (False when the caller already did, e.g. to keep the same timing for two renders).
    Sample 0 is ``lead_s`` before the first run.
    """
    if retime:
        pt = fp.retime(pt, rng)
    fs = float(sample_rate)
    dev = fsk_deviation_hz if fsk_deviation_hz is not None else (
        pt.fsk_deviation_hz if pt.fsk_deviation_hz is not None else DEFAULT_FSK_DEVIATION_HZ)
    dev *= 1.0 + fp.fsk_dev_error
    env, freq = burst_envelope(pt, fs, rise_time_us=fp.rise_time_us, fall_time_us=fp.fall_time_us,
                               lead_s=lead_s, tail_s=tail_s, fsk_deviation_hz=dev)
    n = env.size
    if n == 0:
        return np.zeros(0, np.complex64)
    idx = np.arange(n, dtype=np.float64)
    edges = lead_s * fs + np.concatenate([[0.0], np.cumsum(pt.durations_us)]) * (1e-6 * fs)
    frame_lo = edges[0]
    frame_hi = edges[-1]
    is_fsk = freq is not None
    if is_fsk:
        rising = edges[:1]  # one turn-on for the whole FSK burst
    else:
        rising = edges[:-1][pt.levels == 1]
        # carrier leakage inside the frame: the oscillator/PA is never fully off between pulses
        leak = 10.0 ** (-fp.extinction_db / 20.0)
        if leak > 0 and rising.size:
            inside = (idx + 1.0 > rising[0]) & (idx < frame_hi)
            env = np.where(inside, leak + (1.0 - leak) * env, env)
    # droop over the frame, linear in dB
    if fp.droop_db:
        u = np.clip((idx - frame_lo) / max(frame_hi - frame_lo, 1.0), 0.0, 1.0)
        env = env * 10.0 ** (-fp.droop_db * u / 20.0)

    ph = (2.0 * math.pi * freq_offset_hz / fs) * idx + rng.uniform(0.0, 2.0 * math.pi)
    if is_fsk:
        acc = np.cumsum(freq)
        ph[1:] += acc[:-1] * (2.0 * math.pi / fs)
    if rising.size and (fp.chirp_hz or not fp.phase_continuous):
        # index of the last turn-on at or before each sample
        j = np.searchsorted(rising, idx + 0.5, side="right") - 1
        has = j >= 0
        if fp.chirp_hz:
            tau = max(fp.chirp_tau_us, 1e-3) * 1e-6
            dt = np.where(has, (idx + 0.5 - rising[np.maximum(j, 0)]) / fs, 0.0)
            ph += np.where(has, 2.0 * math.pi * fp.chirp_hz * tau * (1.0 - np.exp(-dt / tau)), 0.0)
        if not fp.phase_continuous:
            jumps = rng.uniform(0.0, 2.0 * math.pi, rising.size)
            ph += np.where(has, jumps[np.maximum(j, 0)], 0.0)
    if fp.phase_noise_hz > 0:
        step = math.sqrt(2.0 * math.pi * fp.phase_noise_hz / fs)
        ph += np.cumsum(rng.normal(0.0, step, n))
    return (amplitude * env * np.exp(1j * ph)).astype(np.complex64)


def add_tx_impairments(x: np.ndarray, fp: Fingerprint, lo_offset_hz: float, sample_rate: float,
                       rng: np.random.Generator) -> np.ndarray:
    """An SDR transmitter's LO leakage and IQ image around its LO at ``lo_offset_hz`` (Hz).

    The waveform ``x`` is in receiver baseband; the SDR's own baseband is ``x`` shifted down by
    its LO offset, where the IQ image is the mirror (conjugate) and the leakage a constant.
    """
    if fp.lo_leak_dbc is None and fp.image_dbc is None:
        return x
    n = x.size
    rot = np.exp(2j * math.pi * lo_offset_hz / sample_rate * np.arange(n)).astype(np.complex64)
    base = x * np.conj(rot)
    mag2 = np.abs(x) ** 2
    # dBc relative to the carrier-on power (samples above half the peak amplitude)
    p = float(mag2[mag2 > 0.25 * mag2.max()].mean()) if n and mag2.max() > 0 else 0.0
    out = base.astype(np.complex64)
    if fp.image_dbc is not None:
        out = out + np.complex64(10.0 ** (fp.image_dbc / 20.0) * np.exp(1j * rng.uniform(0, 2 * math.pi))) \
            * np.conj(base)
    if fp.lo_leak_dbc is not None and p > 0:
        out = out + np.complex64(math.sqrt(p) * 10.0 ** (fp.lo_leak_dbc / 20.0))
    return (out * rot).astype(np.complex64)
