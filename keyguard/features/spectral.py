"""Spectral shape of a burst: occupied bandwidth, flatness, spurs, asymmetry, tones in the gaps.

One averaged periodogram (Hann, 50 % overlap, at most 1024 points) of the burst's frame; the
noise floor (given, or the spectrum's 10th percentile) is removed before the 99 % bandwidth so
that noise spread over the channel does not count as the transmitter's bandwidth.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import scipy.fft
from scipy import signal

from keyguard.features.quantiles import median, percentile


@dataclass
class SpectralFeatures:
    occupied_bw_hz: float = math.nan
    flatness: float = math.nan
    spur_db: float = math.nan
    asymmetry_db: float = math.nan


def psd(x: np.ndarray, fs: float, nfft: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided averaged periodogram: frequencies (Hz, ascending) and power per bin.

    Welch's method (periodic Hann, 50 % overlap, no detrending, "spectrum" scaling: a tone of
    power P gives P in its bin): the values of ``scipy.signal.welch`` with those options (bit for
    bit on complex64 input), but with the segments in batched FFTs: welch transforms one
    segment per call, which was most of a long burst's feature cost. (Single-precision FFTs
    would halve the time but change the flatness by up to 27 %: a channelised burst's stopband
    is numerically empty, and its bins would hold single-precision rounding instead.)"""
    x = np.ascontiguousarray(x)
    n = int(min(nfft, 1 << int(math.floor(math.log2(max(x.size, 16))))))
    if x.size < n:
        raise ValueError(f"psd needs at least {n} samples, got {x.size}")
    hop = n - n // 2
    n_seg = (x.size - n // 2) // hop
    win, scale = _hann(n)
    segs = np.lib.stride_tricks.as_strided(x, shape=(n_seg, n),
                                           strides=(x.strides[0] * hop, x.strides[0]),
                                           writeable=False)
    acc = np.zeros(n)
    for i in range(0, n_seg, _PSD_BATCH):  # bounded scratch memory for long inputs
        spec = scipy.fft.fft(segs[i:i + _PSD_BATCH] * win, axis=1, overwrite_x=True)
        spec *= scale
        acc += (spec.real ** 2 + spec.imag ** 2).sum(axis=0)
    p = (acc / n_seg).astype(np.result_type(x.dtype, np.complex64)).real
    # fftshift as two slices: the same values without fftshift's general-axis machinery
    return _shifted_freqs(n, float(fs)), np.concatenate([p[n - n // 2:], p[:n - n // 2]])


#: segments per batched FFT in :func:`psd` (256 × 1024 complex128: 4 MB of scratch)
_PSD_BATCH = 256


@functools.lru_cache(maxsize=8)
def _hann(n: int) -> tuple[np.ndarray, float]:
    """The periodic Hann window welch uses, and the "spectrum" scaling of its FFT."""
    win = signal.get_window("hann", n)
    win.flags.writeable = False
    return win, 1.0 / abs(win.sum())


@functools.lru_cache(maxsize=32)
def _shifted_freqs(n: int, fs: float) -> np.ndarray:
    f = np.fft.fftshift(np.fft.fftfreq(n, 1.0 / fs))
    f.flags.writeable = False
    return f


def spectral_features(x: np.ndarray, fs: float, carrier_hz: float,
                      noise_power: float | None = None) -> SpectralFeatures:
    """Features of ``x`` (the frame's IQ) around ``carrier_hz`` (Hz, within the IQ);
    ``noise_power``: mean |x|² of the noise alone, when known."""
    if x.size < 32:
        return SpectralFeatures()
    f, p = psd(x, fs)
    p = np.maximum(p, 1e-30)
    # "spectrum" scaling: white noise of power σ² gives σ²/nbins in every bin
    floor = noise_power / f.size if noise_power is not None else percentile(p, 10)
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
        spur = float(10 * np.log10(np.max(p[away]) / median(p[away])))
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
    return float(10 * np.log10(np.max(p) / median(p)))


#: a line this close (Hz) to the carrier or to the receiver's own DC is theirs, not a leak
GAP_LINE_GUARD_HZ = 1000.0
#: the carrier's own residue in the gaps is read within this many Hz of it, and a line's
#: sharpness is the share of the power within this many Hz of it ...
GAP_LINE_CARRIER_HZ = 300.0
#: ... that lies within this many Hz (at least one bin): a LO with tens of Hz of phase noise
GAP_LINE_CORE_HZ = 30.0


def gap_line(x: np.ndarray, gaps: np.ndarray, fs: float, carrier_hz: float,
             dc_hz: float | None = None) -> tuple[float, float, float]:
    """The strongest line in a burst's gaps away from its carrier: (its power over the
    carrier's own residue in the gaps, dB; its offset from the carrier, Hz; its sharpness,
    the share of the power within ``GAP_LINE_CARRIER_HZ`` of it that lies within
    ``GAP_LINE_CORE_HZ``).

    x: the frame's IQ; gaps: mask of its gap samples; carrier_hz and dc_hz (the receiver's
    centre, whose DC offset leaves a line of its own) in the IQ's baseband. One spectrum of the
    whole frame with everything but the gaps zeroed: a line that runs through every gap keeps
    its phase from gap to gap and gathers in one bin (tens of Hz wide), while noise spreads
    over all of them. The search covers the channel filter's passband (within 0.4·fs of the
    IQ's centre); lines within ``GAP_LINE_GUARD_HZ`` of the carrier or the DC are left out;
    the carrier's residue is the strongest bin within ``GAP_LINE_CARRIER_HZ`` of it. A remote's
    oscillator, switched off, leaves at most its own carrier there; a raw-IQ replayer (a
    HackRF) tuned near, not on, the remote transmits its LO leakage through the gaps, a steady
    line kHz from the carrier, while the recorded remote's own residue lies under the
    recording's noise. A steady carrier stays within tens of Hz (sharpness 0.6–0.85 for the
    simulator's HackRF leaks, through the gating of the gaps); a neighbour keyed across the
    gaps at random phases, or a noise peak, spreads (0.14, and 0.28 at most on development
    remote presses). NaN without gaps or when the band holds no bin for either."""
    nan3 = math.nan, math.nan, math.nan
    if x.size < 64 or np.count_nonzero(gaps) < 64:
        return nan3
    n = scipy.fft.next_fast_len(x.size)
    y = np.zeros(n, np.complex64)
    np.copyto(y[: x.size], x, where=gaps)
    spec = scipy.fft.fft(y, workers=1, overwrite_x=True)
    p = spec.real * spec.real + spec.imag * spec.imag
    df = fs / n

    def bins(centre_hz: float, half_hz: float) -> np.ndarray:
        k = round(centre_hz / df)
        h = int(half_hz / df)
        return np.arange(k - h, k + h + 1) % n

    near = bins(carrier_hz, GAP_LINE_CARRIER_HZ)
    ref = float(p[near].max())
    total = p.copy()
    # the band the channel filter passes (within 0.4 fs of the IQ's centre) but the guards
    edge = int(math.ceil(0.4 * n))
    p[edge: n - edge + 1] = -1.0
    p[bins(carrier_hz, GAP_LINE_GUARD_HZ)] = -1.0
    if dc_hz is not None:
        p[bins(dc_hz, GAP_LINE_GUARD_HZ)] = -1.0
    i = int(np.argmax(p))
    if ref <= 0 or p[i] < 0:
        return nan3
    f = (i if i < (n + 1) // 2 else i - n) * df
    around = float(total[bins(f, GAP_LINE_CARRIER_HZ)].sum())
    core = float(total[bins(f, max(GAP_LINE_CORE_HZ, df))].sum())
    return (float(10 * np.log10(max(float(p[i]), 1e-30) / ref)), float(f - carrier_hz),
            core / around if around > 0 else math.nan)
