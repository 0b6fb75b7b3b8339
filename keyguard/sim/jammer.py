"""Long-running interference signals: jammers and a relay's amplifier noise.

A :class:`JammerSignal` generates its samples for any span of the capture on demand (it backs a
:class:`~keyguard.sim.emission.StreamEmission`), identically however the capture is chunked:
noise comes from per-block seeded generators, phase noise is a Wiener process accumulated per
fixed block, and every deterministic part (carrier, gate, sweep) is a closed-form function of the
absolute sample index.

Waveforms:

- ``cw``: a carrier at ``offset_hz`` (a RollJam jammer sits a little off the fob channel, e.g.
  −70 kHz, so the attacker's own narrow receiver still hears the fob);
- ``noise``: band-limited Gaussian noise of ``bandwidth_hz`` centred on ``offset_hz``;
- ``pulsed``: the carrier gated on for ``duty`` of every ``period_s``;
- ``swept``: a sawtooth chirp over ``sweep_span_hz`` every ``sweep_period_s``.

``amplitude`` is the RMS amplitude while on (√mW at the receiver input).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.signal import firwin, lfilter

from keyguard.sim.noise import NOISE_BLOCK, block_noise, stable_entropy

WAVEFORMS = ("cw", "noise", "pulsed", "swept")

#: Turn-on/turn-off ramp of a jammer (s): a PA does not switch in zero time.
RAMP_S = 20e-6


@dataclass
class JammerSignal:
    """One jammer's waveform over samples [start, stop) at ``sample_rate`` (see module doc)."""

    waveform: str
    sample_rate: float
    start: int
    stop: int
    offset_hz: float
    amplitude: float
    key: tuple
    bandwidth_hz: float = 200e3
    period_s: float = 10e-3
    duty: float = 0.5
    sweep_span_hz: float = 400e3
    sweep_period_s: float = 5e-3
    phase_noise_hz: float = 0.0
    _taps: np.ndarray | None = field(default=None, repr=False)
    _phase_starts: list = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if self.waveform not in WAVEFORMS:
            raise ValueError(f"unknown jammer waveform {self.waveform!r}; known: {', '.join(WAVEFORMS)}")
        if self.waveform == "noise":
            cutoff = min(self.bandwidth_hz / 2.0, 0.49 * self.sample_rate)
            h = firwin(129, cutoff, fs=self.sample_rate)
            self._taps = h / math.sqrt(np.sum(h ** 2))  # unit power gain on white noise

    def __call__(self, a: int, b: int) -> np.ndarray:
        """Samples [a, b) (absolute capture indices) as complex64."""
        fs = self.sample_rate
        n = np.arange(a, b, dtype=np.int64)
        rel = (n - self.start).astype(np.float64)
        t = rel / fs
        # carrier phase from the absolute index so chunks join without a seam
        ph = 2.0 * math.pi * self.offset_hz * t + float(stable_entropy(self.key)[-1] % 6283) / 1000.0
        if self.waveform == "swept":
            u = np.mod(t / self.sweep_period_s, 1.0)
            ph = ph + 2.0 * math.pi * self.sweep_span_hz * self.sweep_period_s * (u * u / 2.0 - u / 2.0)
        if self.phase_noise_hz > 0:
            ph = ph + self._wiener(a, b)
        if self.waveform == "noise":
            L = self._taps.size
            w = block_noise((*self.key, "noise"), a - L + 1, b, 1.0)
            base = lfilter(self._taps, 1.0, w)[L - 1:]
            x = base * np.exp(1j * ph)
        else:
            x = np.exp(1j * ph)
        env = self._ramp(rel)
        if self.waveform == "pulsed":
            u = np.mod(t / self.period_s, 1.0)
            env = env * (u < self.duty)
        return (self.amplitude * env * x).astype(np.complex64)

    def on_fraction(self) -> float:
        """Fraction of the active time the jammer radiates (duty for pulsed, else 1)."""
        return self.duty if self.waveform == "pulsed" else 1.0

    # ------------------------------------------------------------------------------------------
    def _ramp(self, rel: np.ndarray) -> np.ndarray:
        r = RAMP_S * self.sample_rate
        up = np.clip(rel / r, 0.0, 1.0)
        down = np.clip((self.stop - self.start - rel) / r, 0.0, 1.0)
        return 0.5 * (1.0 - np.cos(np.pi * np.minimum(up, down)))

    def _wiener(self, a: int, b: int) -> np.ndarray:
        """Wiener phase noise at samples [a, b): per-block increments, block start phases cached."""
        step = math.sqrt(2.0 * math.pi * self.phase_noise_hz / self.sample_rate)
        first = self.start // NOISE_BLOCK
        b0, b1 = a // NOISE_BLOCK, (b - 1) // NOISE_BLOCK
        out = []
        for blk in range(b0, b1 + 1):
            inc = block_noise((*self.key, "phase"), blk * NOISE_BLOCK, (blk + 1) * NOISE_BLOCK, 2.0).real
            while len(self._phase_starts) <= blk - first:
                k = first + len(self._phase_starts)
                prev = self._phase_starts[-1] if self._phase_starts else 0.0
                tot = 0.0 if not self._phase_starts else float(np.sum(
                    block_noise((*self.key, "phase"), (k - 1) * NOISE_BLOCK, k * NOISE_BLOCK, 2.0).real,
                    dtype=np.float64)) * step
                self._phase_starts.append(prev + tot)
            start_phase = self._phase_starts[blk - first] if blk >= first else 0.0
            out.append(start_phase + np.cumsum(inc, dtype=np.float64) * step)
        ph = np.concatenate(out)
        lo = a - b0 * NOISE_BLOCK
        return ph[lo:lo + (b - a)]
