"""The fixed, named RF-fingerprint feature vector of one burst.

Every burst gives the same features in the same order (``FEATURE_NAMES``), so vectors stack into
a matrix for the models and compare between bursts of one identity. A feature that cannot be
measured on a burst (FSK deviation of an OOK burst, the extinction of a burst without gaps) is
NaN; consumers skip or impute it, they never see a made-up value. Units are in the names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

#: name → meaning (units). The order is the vector's order; append new features at the end and
#: bump ``FEATURE_SET_VERSION`` (stored fingerprints are only compared within one set). Only
#: appending keeps a model trained on an earlier set usable: it reads its prefix of the vector.
FEATURES: dict[str, str] = {
    "cfo_hz": "carrier offset from the protocol's nominal frequency (Hz), receiver error included",
    "cfo_ppm": "the same in parts per million of the nominal frequency",
    "chirp_hz": "mean frequency in the first µs of each pulse minus the steady frequency (Hz)",
    "freq_jitter_hz": "std of the instantaneous frequency inside pulses (Hz): phase noise",
    "fsk_deviation_hz": "half the mark/space separation (Hz); NaN for OOK",
    "rise_time_us": "10-90 % rise time of the envelope, median over pulses (µs)",
    "fall_time_us": "90-10 % fall time of the envelope, median over pulses (µs)",
    "overshoot": "peak of a pulse's first quarter over the on-level, minus 1",
    "droop_db": "on-level lost from the first to the last pulse of the burst (dB)",
    "on_level_cv": "std / mean of the envelope inside pulses",
    "extinction_db": "on-level over the level inside the burst's gaps (dB); NaN without gaps",
    "noise_excess_db": "power inside the burst's gaps over the noise outside the burst (dB)",
    "gap_tone_db": "strongest spectral line in the burst's gaps over their median (dB): LO leakage",
    "te_us": "base unit: median width of the shortest run cluster (µs)",
    "te_error": "te_us over the profile's short width, minus 1; NaN without a profile",
    "timing_jitter_us": "std of run widths around their nearest multiple of te_us (µs)",
    "occupied_bw_hz": "bandwidth holding 99 % of the burst's power (Hz)",
    "spectral_flatness": "geometric over arithmetic mean of the burst's power spectrum (0..1)",
    "spur_db": "strongest spectral peak away from the carrier over the median spectrum (dB)",
    "sideband_asymmetry_db": "power above over power below the carrier within the channel (dB)",
    "preamble_mean": "mean of the envelope over the preamble, on-level = 1 (Wang et al. 2022)",
    "preamble_std": "its standard deviation",
    "preamble_skew": "its skewness",
    "preamble_kurtosis": "its excess kurtosis",
    "echo_ratio": "largest edge-autocorrelation at lags ≥ 2 samples over lag 0: delayed copies",
    "echo_lag_us": "the lag of that peak (µs)",
    "papr_db": "peak over mean power inside pulses (dB): amplifier compression lowers it",
    "clip_fraction": "fraction of samples with I or Q at full scale",
    "on_fraction": "fraction of the frame with carrier on",
    "snr_db": "burst power over the noise outside it (dB)",
    "rssi_db": "mean power while the carrier is on (dBFS)",
    "duration_ms": "first rising to last falling edge (ms)",
    "floor_rise_db": "noise outside the frame (the IQ's margins) over the front end's long-term "
                     "channel floor (dB): an amplify-and-forward relay's amplifier noise, switched "
                     "on around the frame, lifts it; NaN without that floor",
    "margin_balance_db": "power in the margin before the frame over the margin after it (dB): a "
                         "transmission overlapping one side (a demodulate-and-forward relay's "
                         "copy of the key's own frame, ms apart)",
    "channel_bw_hz": "bandwidth of the front end's channel filter the burst was measured "
                     "through (Hz; it also sets the channel's sample rate): edges and turn-on "
                     "chirp are shaped by it, so they compare only between similar filters; "
                     "NaN when unknown",
    "pulse_phase_z": "Rayleigh statistic n·R² of the carrier phase's steps from pulse to pulse "
                     "(R: mean resultant length of the n steps): ≈ 1 for a keyed oscillator "
                     "that starts each pulse at a random phase (a fob), ≫ 1 for a synthesizer "
                     "that runs between pulses (a regenerating replayer); the median over "
                     "blocks of 24 steps for a burst of 48 or more; NaN for FSK or fewer than "
                     "9 pulses",
    "gap_line_db": "strongest steady line in the gaps ≥ 1 kHz from the carrier and the "
                   "receiver's DC, over the carrier's own residue there (dB; one spectrum of "
                   "the frame with the pulses zeroed): a raw-IQ replayer's LO leakage",
    "gap_line_hz": "that line's offset from the carrier (Hz)",
    "gap_line_sharpness": "share of the power within 300 Hz of that line that lies within 30 "
                          "Hz: a steady carrier ≈ 0.6–0.85, a neighbour keyed across the gaps "
                          "or a noise peak ≈ 0.1–0.3",
    "beat_depth": "90th percentile over the pulses of the ripple of the envelope (smoothed over "
                  "40 µs) inside each pulse, over its level: a second carrier keyed over the "
                  "burst beats with it in the pulses the two share (≈ 0.15–0.4); NaN for FSK "
                  "or fewer than 4 measurable pulses",
    "beat_floor": "the same at the 25th percentile: the ripple of the pulses nobody else "
                  "shared (a lone transmitter ≈ 0.005–0.02, receiver noise raises it)",
}
FEATURE_NAMES: tuple[str, ...] = tuple(FEATURES)
FEATURE_SET_VERSION = 5
_INDEX = {n: i for i, n in enumerate(FEATURE_NAMES)}

#: features that describe the transmitter rather than the channel or the receiver, and that
#: stay put from 10 to 35 dB SNR: what clone detection compares. Level, SNR and duration depend
#: on distance and on how long a button is held; overshoot, extinction and jitter are noise-
#: limited at moderate SNR; noise and spectral-line features describe replayers (classifier
#: input, not identity).
FINGERPRINT_FEATURES: tuple[str, ...] = (
    "cfo_ppm", "te_us", "rise_time_us", "fall_time_us", "droop_db", "chirp_hz",
    "fsk_deviation_hz")


#: fingerprint features that describe the envelope's shape: a clipping receiver rewrites them
#: (flattened tops, splatter in the gaps, distorted turn-on), so clipped bursts leave them out
SHAPE_FEATURES: tuple[str, ...] = ("rise_time_us", "fall_time_us", "droop_db", "chirp_hz")

#: a burst with more than this fraction of its channel samples at full scale is clipped
CLIPPED_FRACTION = 0.001

#: a burst whose carrier sits farther than this fraction of its channel filter's bandwidth from
#: the filter's centre had its edges and turn-on shaped by the filter's skirt: its shape
#: features are the filter's, not the transmitter's (a held press whose region took in a sensor
#: that followed it, centred 17.8 kHz off in a 44 kHz channel, read a 52 µs rise against its
#: usual 20 µs: benign soak seed 3023; centred presses sit within 0.07 of it). The turn-on
#: chirp is pulled by about a third of the carrier's offset: a doorbell ring whose region took
#: in a sensor 19 kHz away sat 0.15 off centre and read a chirp 4.9 kHz (4.7 spreads) from its
#: first ring's at 0.07 (fresh soak seed 6094)
OFF_CENTRE_FRACTION = 0.12


@dataclass(frozen=True)
class FeatureVector:
    """One burst's features: ``values`` (float64, NaN = not measurable) in ``FEATURE_NAMES``
    order."""

    values: np.ndarray

    def __post_init__(self) -> None:
        v = np.asarray(self.values, dtype=np.float64).ravel()
        if v.size != len(FEATURE_NAMES):
            raise ValueError(f"expected {len(FEATURE_NAMES)} features, got {v.size}")
        object.__setattr__(self, "values", v)

    @property
    def names(self) -> tuple[str, ...]:
        return FEATURE_NAMES

    def __getitem__(self, name: str) -> float:
        return float(self.values[_INDEX[name]])

    def as_dict(self) -> dict[str, float | None]:
        """name → value, None where not measurable (JSON evidence)."""
        return {n: (None if not np.isfinite(x) else float(x))
                for n, x in zip(FEATURE_NAMES, self.values)}

    @classmethod
    def from_dict(cls, d: Mapping[str, float | None]) -> "FeatureVector":
        """From name → value; missing names and None are NaN; unknown names raise KeyError."""
        v = np.full(len(FEATURE_NAMES), np.nan)
        for k, x in d.items():
            v[_INDEX[k]] = np.nan if x is None else float(x)
        return cls(v)

    def select(self, names: Iterable[str]) -> np.ndarray:
        return self.values[[_INDEX[n] for n in names]]


def feature_index(names: Iterable[str]) -> np.ndarray:
    """Column indices of ``names`` in a feature matrix."""
    return np.array([_INDEX[n] for n in names], dtype=np.intp)


def feature_matrix(vectors: Iterable[FeatureVector]) -> np.ndarray:
    """Stack vectors into an (n, len(FEATURE_NAMES)) float64 matrix."""
    rows = [v.values for v in vectors]
    if not rows:
        return np.zeros((0, len(FEATURE_NAMES)))
    return np.vstack(rows)
