"""The radio channel between a transmitter and a receiver at 433 MHz.

- Path loss: log-distance model referenced to free space at 1 m,
  PL(d) = FSPL(1 m, f) + 10·n·log10(d / 1 m) + X, with X a per-link log-normal shadowing draw.
  At 433.92 MHz FSPL(1 m) = 25.2 dB; n ≈ 2 in the open, 2.5–3.5 around cars and buildings.
- Small-scale fading: block fading (one draw per press or per burst), Rician with a K factor
  (line of sight beside the car) or Rayleigh (K = −inf dB, no line of sight).
- Multipath: a tapped delay line with an exponential power-delay profile of a given RMS delay
  spread (tens to a few hundred ns outdoors). At RTL-SDR rates (≥ 417 ns per sample) such a
  channel is nearly flat; the taps are applied with fractional-delay filters so the small
  frequency selectivity is still there.

All gains here are power ratios in dB or complex amplitude factors; the simulator carries signal
amplitudes in √mW so that |x|² is power in mW at the receiver input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.signal import oaconvolve

from keyguard.errors import ScenarioError

C_M_S = 299_792_458.0

#: Fractional-delay filter half length (taps on each side); 16 keeps the delay error < 0.1 % up to
#: 80 % of the band.
FD_HALF = 16


def free_space_loss_db(distance_m: float, freq_hz: float) -> float:
    """Free-space path loss (dB) between isotropic antennas: 20·log10(4πd/λ)."""
    return 20.0 * math.log10(4.0 * math.pi * max(distance_m, 1e-3) * freq_hz / C_M_S)


def path_loss_db(distance_m: float, freq_hz: float = 433.92e6, exponent: float = 2.7,
                 ref_m: float = 1.0) -> float:
    """Log-distance path loss (dB), free space up to ``ref_m`` then ``exponent``·10 dB/decade.

    Distances below 0.1 m are taken as 0.1 m (near field: the model does not hold there).
    """
    d = max(float(distance_m), 0.1)
    if d <= ref_m:
        return free_space_loss_db(d, freq_hz)
    return free_space_loss_db(ref_m, freq_hz) + 10.0 * exponent * math.log10(d / ref_m)


@dataclass(frozen=True)
class ChannelModel:
    """Propagation settings shared by every link of a scenario.

    path_loss_exponent: n of the log-distance model. shadowing_db: σ of the per-link log-normal
    shadowing (dB). k_factor_db: Rician K (dB); None for Rayleigh, math.inf for no fading at all.
    delay_spread_ns: RMS delay spread of the exponential power-delay profile (ns); 0 = flat.
    n_taps: taps of the delay line (the first carries the line-of-sight component).
    """

    path_loss_exponent: float = 2.7
    shadowing_db: float = 3.0
    k_factor_db: float | None = 6.0
    delay_spread_ns: float = 100.0
    n_taps: int = 6

    def __post_init__(self) -> None:
        if not 1.5 <= self.path_loss_exponent <= 6.0:
            raise ScenarioError(f"path_loss_exponent {self.path_loss_exponent} is outside 1.5..6")
        if self.shadowing_db < 0 or self.delay_spread_ns < 0 or self.n_taps < 1:
            raise ScenarioError("shadowing_db and delay_spread_ns must be >= 0 and n_taps >= 1")

    def link(self, tx_pos, rx_pos, freq_hz: float, rng: np.random.Generator) -> "Link":
        """The link between two positions (m): distance, mean path loss and its shadowing draw."""
        d = float(np.linalg.norm(np.asarray(tx_pos, float) - np.asarray(rx_pos, float)))
        shadow = float(rng.normal(0.0, self.shadowing_db)) if self.shadowing_db else 0.0
        pl = path_loss_db(d, freq_hz, self.path_loss_exponent) + shadow
        return Link(distance_m=d, loss_db=pl, model=self, shadowing_db=shadow)


@dataclass
class Fading:
    """One block-fading realisation: complex tap gains at delays (s). Mean power gain is 1."""

    gains: np.ndarray
    delays_s: np.ndarray

    @property
    def power_gain(self) -> float:
        return float(np.sum(np.abs(self.gains) ** 2))

    def apply(self, x: np.ndarray, sample_rate: float) -> np.ndarray:
        """Pass a burst through the delay line; output is as long as the input, not shifted."""
        if self.gains.size == 1 and self.delays_s[0] == 0.0:
            return (x * np.complex64(self.gains[0])).astype(np.complex64)
        h = np.zeros(2 * FD_HALF + 1 + int(math.ceil(self.delays_s.max() * sample_rate)), np.complex128)
        for g, tau in zip(self.gains, self.delays_s):
            h += g * _fd_taps(tau * sample_rate, h.size)
        y = oaconvolve(x.astype(np.complex128), h)[FD_HALF:FD_HALF + x.size]
        return y.astype(np.complex64)


@dataclass
class Link:
    """A transmitter→receiver link: distance (m) and mean path loss (dB, shadowing included)."""

    distance_m: float
    loss_db: float
    model: ChannelModel = field(default_factory=ChannelModel)
    shadowing_db: float = 0.0

    def amplitude(self, tx_power_dbm: float) -> float:
        """Mean received carrier amplitude (√mW) for a transmit power (dBm)."""
        return 10.0 ** ((tx_power_dbm - self.loss_db) / 20.0)

    def rx_power_dbm(self, tx_power_dbm: float) -> float:
        return tx_power_dbm - self.loss_db

    def fading(self, rng: np.random.Generator, flat: bool = False) -> Fading:
        """Draw one block-fading realisation (flat: a single tap, e.g. for long jammer signals)."""
        m = self.model
        if m.k_factor_db is not None and math.isinf(m.k_factor_db):
            return Fading(np.array([1.0 + 0j]), np.zeros(1))
        k = 0.0 if m.k_factor_db is None else 10.0 ** (m.k_factor_db / 10.0)
        n = 1 if (flat or m.delay_spread_ns <= 0) else m.n_taps
        tau = m.delay_spread_ns * 1e-9
        delays = np.arange(n) * (tau / 2.0) if n > 1 else np.zeros(1)
        pdp = np.exp(-delays / tau) if n > 1 else np.ones(1)
        pdp = pdp / pdp.sum()
        scatter = np.sqrt(pdp / (k + 1.0) / 2.0) * (rng.standard_normal(n) + 1j * rng.standard_normal(n))
        los = math.sqrt(k / (k + 1.0)) * np.exp(1j * rng.uniform(0.0, 2.0 * math.pi))
        scatter[0] += los
        return Fading(scatter, delays)


def _fd_taps(delay_samples: float, length: int) -> np.ndarray:
    """Windowed-sinc taps delaying by ``delay_samples`` (centre at FD_HALF), ``length`` long."""
    m = np.arange(length, dtype=np.float64) - FD_HALF - delay_samples
    w = np.kaiser(2 * FD_HALF + 1, 6.0)
    win = np.interp(m, np.arange(-FD_HALF, FD_HALF + 1), w, left=0.0, right=0.0)
    return np.sinc(m) * win


def fractional_delay(x: np.ndarray, delay_s: float, sample_rate: float) -> np.ndarray:
    """Delay a burst by any non-negative time (s) with a windowed-sinc filter; same length.

    Whole samples move by shifting, the remaining fraction by the filter, so long delays (ms
    latencies of a relay) cost the same as short ones.
    """
    if delay_s < 0:
        raise ValueError("delay must be non-negative")
    d = delay_s * sample_rate
    whole = int(math.floor(d))
    frac = d - whole
    y = np.zeros_like(x, dtype=np.complex64)
    if whole >= x.size:
        return y
    src = x[: x.size - whole]
    if frac > 1e-9:
        h = _fd_taps(frac, 2 * FD_HALF + 2)
        src = oaconvolve(src.astype(np.complex128), h)[FD_HALF:FD_HALF + src.size]
    y[whole:] = src
    return y
