"""Spectral shape of a burst: occupied bandwidth, flatness, spurs, asymmetry, tones in the gaps.

One averaged periodogram (Hann, 50 % overlap, at most 1024 points) of the burst's frame; the
noise floor (given, or the spectrum's 10th percentile) is removed before the 99 % bandwidth so
that noise spread over the channel does not count as the transmitter's bandwidth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import signal


@dataclass
class SpectralFeatures:
    occupied_bw_hz: float = math.nan
    flatness: float = math.nan
    spur_db: float = math.nan
    asymmetry_db: float = math.nan


def psd(x: np.ndarray, fs: float, nfft: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided averaged periodogram: frequencies (Hz, ascending) and power per bin."""
    n = int(min(nfft, 1 << int(math.floor(math.log2(max(x.size, 16))))))
    f, p = signal.welch(x, fs=fs, window="hann", nperseg=n, noverlap=n // 2, detrend=False,
                        return_onesided=False, scaling="spectrum")
    return np.fft.fftshift(f), np.fft.fftshift(p)


def spectral_features(x: np.ndarray, fs: float, carrier_hz: float,
                      noise_power: float | None = None) -> SpectralFeatures:
    """Features of ``x`` (the frame's IQ) around ``carrier_hz`` (Hz, within the IQ);
    ``noise_power``: mean |x|² of the noise alone, when known."""
    if x.size < 32:
        return SpectralFeatures()
    f, p = psd(x, fs)
    p = np.maximum(p, 1e-30)
    # "spectrum" scaling: white noise of power σ² gives σ²/nbins in every bin
    floor = noise_power / f.size if noise_power is not None else float(np.percentile(p, 10))
    clean = np.maximum(p - floor, 0.0)
    tot = clean.sum()
    bw = math.nan
    if tot > 0:
        c = np.cumsum(clean) / tot
        lo = f[np.searchsorted(c, 0.005)]
        hi = f[min(np.searchsorted(c, 0.995), f.size - 1)]
        bin_hz = fs / f.size
        bw = float(max(hi - lo, bin_hz))
    flat = float(np.exp(np.mean(np.log(p))) / np.mean(p))
    pk = int(np.argmin(np.abs(f - carrier_hz)))
    bin_hz = fs / f.size
    guard = max(3, int(math.ceil((0.5 * (bw if math.isfinite(bw) else 0.0)) / bin_hz)))
    away = np.ones(f.size, bool)
    away[max(0, pk - guard):pk + guard + 1] = False
    spur = math.nan
    if away.sum() >= 8:
        spur = float(10 * np.log10(np.max(p[away]) / np.median(p[away])))
    half = guard
    up = clean[pk + 1:pk + 1 + half].sum()
    dn = clean[max(0, pk - half):pk].sum()
    asym = float(10 * np.log10((up + 1e-30) / (dn + 1e-30))) if (up + dn) > 0 else math.nan
    return SpectralFeatures(occupied_bw_hz=bw, flatness=flat, spur_db=spur, asymmetry_db=asym)


def gap_tone_db(gaps: np.ndarray, fs: float) -> float:
    """Strongest spectral line in the concatenated gap samples over their median spectrum (dB).

    A transmitter that is truly off leaves white noise (≈ 8–10 dB peak-to-median over a few
    hundred bins); a raw-IQ replayer's LO leakage or the recording's DC spike stays on through
    the gaps and stands out as a line."""
    if gaps.size < 64:
        return math.nan
    _f, p = psd(gaps, fs, nfft=256)
    p = np.maximum(p, 1e-30)
    return float(10 * np.log10(np.max(p) / np.median(p)))
