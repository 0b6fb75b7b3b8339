"""The RTL-SDR front end that records a scenario.

Signal path, in the order the hardware applies it:

1. the antenna sum of every emission (amplitudes in √mW at the receiver input);
2. thermal noise kTB·NF over the sampled band: −174 dBm/Hz + 10·log10(fs) + NF;
3. the tuner LO sits at ``center_freq·(1 + ppm·1e-6)``: every signal lands shifted by the tuner's
   error (applied where emissions are placed, see :meth:`RtlSdr.offset_hz`);
4. gain: full scale (a complex tone of amplitude 1.0) corresponds to
   ``full_scale_dbm_at_0db − gain_db`` at the input;
5. IQ gain/phase imbalance: ``y = μ·x + ν·conj(x)``, which mirrors every signal at −f with image
   rejection |μ|²/|ν|²;
6. DC offset (the DC spike at the centre of every RTL-SDR spectrum);
7. the 8-bit ADC: I and Q rounded to ``(code − 127.5)/127.5`` and clipped at code 0 and 255.

Samples leave as complex64 ADC values in full scale ±1, exactly representable as cu8 bytes.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from keyguard.errors import ScenarioError
from keyguard.sim.noise import block_noise

#: Sample-rate ranges the RTL2832U accepts (Hz): 225–300 kHz and 900 kHz–3.2 MHz.
RTL_RATE_RANGES = ((225_001.0, 300_000.0), (900_001.0, 3_200_000.0))

#: Thermal noise density at 290 K (dBm/Hz).
KT_DBM_HZ = -174.0



@dataclass(frozen=True)
class RtlSdr:
    """An RTL-SDR (R820T-class tuner) with its imperfections.

    center_freq: tuned centre (Hz). sample_rate: Hz, within the RTL2832U's ranges.
    ppm: tuner crystal error (ppm); positive = LO above the nominal centre.
    gain_db: tuner gain (dB). noise_figure_db: front-end noise figure (dB).
    full_scale_dbm_at_0db: input power (dBm) of a full-scale tone at 0 dB gain; −50 dBm puts the
    thermal floor of a 250 ksps capture 14 dB below full scale at the top gain (49.6 dB: a noise
    of about ±10 codes per component, as the rtl_433 test captures show) and 44 dB below at
    20 dB. The 8-bit ADC leaves ≈ 45 dB between that floor and clipping, as on real dongles.
    dc_offset: complex DC added before the ADC (full-scale units).
    iq_gain_db / iq_phase_deg: amplitude and phase mismatch between the I and Q paths.
    adc_bits: 8 for the RTL2832U; None skips quantisation (ideal receiver, for research).
    position: antenna position (m).
    """

    center_freq: float = 433.92e6
    sample_rate: float = 1.024e6
    ppm: float = 0.0
    gain_db: float = 30.0
    noise_figure_db: float = 6.0
    full_scale_dbm_at_0db: float = -50.0
    dc_offset: complex = 0j
    iq_gain_db: float = 0.0
    iq_phase_deg: float = 0.0
    adc_bits: int | None = 8
    position: tuple = (0.0, 0.0, 1.0)

    def __post_init__(self) -> None:
        fs = float(self.sample_rate)
        if not any(lo <= fs <= hi for lo, hi in RTL_RATE_RANGES):
            raise ScenarioError(f"sample rate {fs:g} Hz is not one an RTL-SDR can run at",
                                hint="use 225–300 ksps or 0.9–3.2 Msps, e.g. 250000 or 1024000")
        if not 24e6 <= self.center_freq <= 1.766e9:
            raise ScenarioError(f"centre frequency {self.center_freq:g} Hz is outside the R820T's range",
                                hint="24 MHz–1.766 GHz")
        if self.adc_bits is not None and not 1 <= self.adc_bits <= 16:
            raise ScenarioError("adc_bits must be 1..16 or absent")

    # frequency ------------------------------------------------------------------------------
    @property
    def lo_hz(self) -> float:
        """Where the tuner really sits (Hz)."""
        return self.center_freq * (1.0 + self.ppm * 1e-6)

    def offset_hz(self, carrier_hz: float) -> float:
        """Where a carrier at ``carrier_hz`` appears in this receiver's baseband (Hz)."""
        return carrier_hz - self.lo_hz

    # levels ---------------------------------------------------------------------------------
    @property
    def full_scale_dbm(self) -> float:
        """Input power (dBm) of a full-scale complex tone at the set gain."""
        return self.full_scale_dbm_at_0db - self.gain_db

    @property
    def noise_dbm(self) -> float:
        """Thermal noise power over the sampled band at the input (dBm)."""
        return KT_DBM_HZ + 10.0 * math.log10(self.sample_rate) + self.noise_figure_db

    @property
    def input_scale(self) -> float:
        """Multiply an input amplitude (√mW) by this to get full-scale units."""
        return 10.0 ** (-self.full_scale_dbm / 20.0)  # amplitude² in mW, 1 mW = 0 dBm

    def thermal_noise(self, start: int, stop: int, seed: int) -> np.ndarray:
        """Input-referred thermal noise (√mW units) for samples [start, stop), seed-stable per block."""
        power_mw = 10.0 ** (self.noise_dbm / 10.0)
        return block_noise(("rx-noise", seed), start, stop, power_mw)

    # digitiser ------------------------------------------------------------------------------
    @property
    def iq_coefficients(self) -> tuple[complex, complex]:
        """(μ, ν) of the imbalance model y = μx + νconj(x)."""
        g = 10.0 ** (self.iq_gain_db / 20.0)
        phi = math.radians(self.iq_phase_deg)
        mu = (1.0 + g * complex(math.cos(phi), -math.sin(phi))) / 2.0
        nu = (1.0 - g * complex(math.cos(phi), math.sin(phi))) / 2.0
        return mu, nu

    @property
    def image_rejection_db(self) -> float:
        mu, nu = self.iq_coefficients
        return math.inf if abs(nu) == 0 else 20.0 * math.log10(abs(mu) / abs(nu))

    def digitise(self, x_in: np.ndarray) -> np.ndarray:
        """Input amplitude (√mW, noise included) → ADC output in full-scale units (complex64)."""
        x = x_in.astype(np.complex64) * np.float32(self.input_scale)
        mu, nu = self.iq_coefficients
        if nu != 0:
            x = np.complex64(mu) * x + np.complex64(nu) * np.conj(x)
        if self.dc_offset:
            x = x + np.complex64(self.dc_offset)
        if self.adc_bits is None:
            return x.astype(np.complex64)
        half = (2 ** self.adc_bits - 1) / 2.0  # 127.5 for 8 bits
        top = 2 ** self.adc_bits - 1
        i = np.clip(np.rint(x.real * half + half), 0, top)
        q = np.clip(np.rint(x.imag * half + half), 0, top)
        out = np.empty(x.size, np.complex64)
        out.real = (i - half) / half
        out.imag = (q - half) / half
        return out

    def to_dict(self) -> dict:
        d = asdict(self)
        d["dc_offset"] = [float(np.real(self.dc_offset)), float(np.imag(self.dc_offset))]
        d["position"] = list(self.position)
        return d


def draw_rtl_sdr(rng: np.random.Generator, **fixed) -> RtlSdr:
    """A random dongle: tuner error 30 ± 20 ppm with a random sign, DC offset of 0.5–3 LSB,
    IQ mismatch 0.05–0.5 dB / 0.3–3° (image rejection ≈ 30–45 dB). ``fixed`` overrides any field."""
    ppm = float(np.clip(rng.normal(30.0, 20.0), 0.0, 90.0)) * (1 if rng.random() < 0.5 else -1)
    dc = rng.uniform(0.5, 3.0) / 127.5 * np.exp(1j * rng.uniform(0, 2 * math.pi))
    vals = dict(ppm=ppm, dc_offset=complex(dc), iq_gain_db=float(rng.uniform(0.05, 0.5)),
                iq_phase_deg=float(rng.uniform(0.3, 3.0)) * (1 if rng.random() < 0.5 else -1))
    vals.update(fixed)
    return RtlSdr(**vals)
