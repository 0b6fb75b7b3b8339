"""Frequency features of a burst: carrier offset, turn-on chirp, phase noise, FSK deviation.

Frequencies come from the phase step between consecutive samples, ``angle(x[n+1]·conj(x[n]))``.
The carrier is the angle of the *sum* of those steps over the steady part of every pulse, which
weights by power and ignores the random phase a keyed oscillator starts each pulse with.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import scipy.fft

from keyguard.features.envelope import otsu_split, span_indices, steady_spans
from keyguard.features.quantiles import median


@dataclass
class FrequencyFeatures:
    """Hz: ``carrier`` residual offset of the burst within its IQ; ``chirp`` turn-on pull;
    ``jitter`` std of the instantaneous frequency inside pulses; ``deviation`` FSK half
    separation (NaN for OOK); ``phase_z`` the pulse-to-pulse phase continuity of an OOK burst
    (:func:`pulse_phase_z`; NaN for FSK or too few pulses)."""

    carrier: float = math.nan
    chirp: float = math.nan
    jitter: float = math.nan
    deviation: float = math.nan
    phase_z: float = math.nan


#: fewest pulse-to-pulse phase steps for ``phase_z``: with fewer, one chance alignment of random
#: phases already reads as continuity
MIN_PHASE_STEPS = 8
#: a burst with at least twice this many steps is judged in blocks of this many (about a key
#: fob frame's pulses), and its ``phase_z`` is the blocks' median
PHASE_BLOCK_STEPS = 24


#: half-width (Hz) of the band around a first carrier estimate that the carrier is measured
#: again in. A receiver clipping a strong carrier at F (I and Q saturate apart) adds a product
#: at −3F, about a tenth of its amplitude; in a channel wide enough to hold both (a fob beside
#: the receiver whose region took in splatter or a neighbour), the phase steps average the two
#: and the carrier reads kHz towards the product (synthetic: −3.8 kHz at F = 15.7 kHz in a
#: 96 kHz channel), which a fingerprint takes for another radio. A keyed fob's own spectrum is a
#: few kHz wide (pulses of 100 µs or more).
CARRIER_BAND_HZ = 15e3
#: ... and a burst that clipped the receiver: its carrier F (Hz from the receiver's centre)
#: has products at −3F and 5F, 4·|F| away: the band is ±2·|F| (at most the above, at least
#: this), measured twice so the second band is centred on a carrier the product no longer
#: pulls (a CC1101 clone 3.7 kHz from the centre read 700 Hz towards its product at
#: +11.2 kHz, and 2.6 ppm from the owner instead of 4.2: fresh held-out clone seed 1116)
CLIP_BAND_MIN_HZ = 2e3


def _band_in_place(buf: np.ndarray, size: int, fs: float, f0: float, half: float
                   ) -> np.ndarray:
    """``buf[:size]`` with everything farther than ``half`` Hz from ``f0`` removed (FFT mask),
    given ``buf`` zero-padded to a fast FFT length (complex128; overwritten: a burst's length
    can be a large prime). The bins outside the band are zeroed by slices (the band is one run
    of bins around ``f0``)."""
    n = buf.size
    spec = scipy.fft.fft(buf, workers=1, overwrite_x=True)
    kept = _band_bins(n, float(fs), f0, half)
    if kept is None:
        spec[np.abs(fft_freqs(n, float(fs)) - f0) > half] = 0.0
    elif kept[0] > kept[1]:
        spec[:] = 0.0
    else:
        ka, kb = kept  # signed bin numbers (fftfreq's), the kept ones
        if ka >= 0:
            spec[:ka] = 0.0
            spec[kb + 1:] = 0.0
        elif kb < 0:
            spec[:n + ka] = 0.0
            spec[n + kb + 1:] = 0.0
        else:
            spec[kb + 1:n + ka] = 0.0
    return scipy.fft.ifft(spec, workers=1, overwrite_x=True)[:size]


def _band_bins(n: int, fs: float, f0: float, half: float) -> tuple[int, int] | None:
    """First and last signed bin number k of an ``n``-point FFT at ``fs`` (Hz) whose
    frequency (``np.fft.fftfreq``'s ``k · val``) lies within ``half`` Hz of ``f0``, tested with
    the mask's own arithmetic (first > last: none); None when ``f0`` is not finite or the ends
    are not where expected (the caller then masks bin by bin). The frequencies rise with k, so
    the kept bins are one run."""
    if not math.isfinite(f0) or not half > 0:
        return None
    val = 1.0 / (n * (1.0 / fs))  # np.fft.fftfreq's bin spacing, computed as it does
    kmin, kmax = -(n // 2), (n - 1) // 2

    def kept(k: int) -> bool:
        return abs(k * val - f0) <= half

    # the exact ends lie within a bin of the real-number ones: start two outside, walk in
    a = min(max(math.floor((f0 - half) / val) - 2, kmin), kmax)
    b = min(max(math.ceil((f0 + half) / val) + 2, kmin), kmax)
    if (a > kmin and kept(a)) or (b < kmax and kept(b)):
        return None
    for _ in range(4):
        if kept(a) or a >= b:
            break
        a += 1
    for _ in range(4):
        if kept(b) or b <= a:
            break
        b -= 1
    if not (kept(a) and kept(b)):
        return None if a < b else (1, 0)
    return a, b


@functools.lru_cache(maxsize=8)  # bursts' FFT lengths repeat (next_fast_len rounds them up)
def fft_freqs(n: int, fs: float) -> np.ndarray:
    """``np.fft.fftfreq(n, 1 / fs)`` (Hz), cached and read-only."""
    f = np.fft.fftfreq(n, 1.0 / fs)
    f.flags.writeable = False
    return f


def _carrier(steps: np.ndarray, fs: float) -> float:
    """Carrier (Hz) from phase steps: the angle of their sum."""
    return float(np.angle(np.sum(steps))) * fs / (2.0 * math.pi)


def _steps_at(x: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Phase steps ``x[k+1]·conj(x[k])`` for the sample indices ``at`` (complex128 ``x``)."""
    d = x[at + 1]
    d *= np.conj(x[at])
    return d


def ook_frequency(x: np.ndarray, rising: np.ndarray, falling: np.ndarray,
                  fs: float, clip_dc_hz: float | None = None) -> FrequencyFeatures:
    """Carrier, chirp and jitter of an OOK burst's pulses [rising, falling) (sample indices).

    The carrier is measured over the steady part of the pulses, then again within
    ``CARRIER_BAND_HZ`` of that first estimate when the IQ is wider than that band (clipping
    products and neighbours elsewhere in the channel pull the first one). clip_dc_hz: where
    the receiver's centre sits in this IQ (Hz) when the burst clipped the receiver: its
    products then lie 4·|F| from the carrier (F from the centre), and the band is narrowed to
    half that and measured twice (see ``CLIP_BAND_MIN_HZ``)."""
    if rising.size == 0 or x.size < 3:
        return FrequencyFeatures()
    n = x.size - 1  # phase steps
    ln = falling - rising
    start, stop = steady_spans(rising, falling, fs)
    s0 = np.minimum(start, n)
    s1 = np.clip(stop, s0, n)
    # the steady steps (step k joins samples k and k+1) and the pulse of each
    steady, lab = span_indices(s0, s1)
    if steady.size == 0:
        return FrequencyFeatures()
    to_hz = fs / (2.0 * math.pi)
    band = fs > 4.0 * CARRIER_BAND_HZ
    # the IQ in double precision, zero-padded for the band's FFT: steps are formed from it
    # before the FFT overwrites it
    xd = np.zeros(scipy.fft.next_fast_len(x.size) if band else x.size, np.complex128)
    xd[:x.size] = x
    d = _steps_at(xd, steady)
    carrier = _carrier(d, fs)
    # chirp: the first ≈ 10 µs after each turn-on against the steady carrier
    cn = max(1, int(round(fs * 10e-6)))
    c0 = np.minimum(rising, n)
    c1 = np.minimum(rising + np.minimum(cn, ln // 3), n)
    turn_on = _steps_at(xd, span_indices(c0, c1)[0])
    half = CARRIER_BAND_HZ
    passes = 1
    if clip_dc_hz is not None:
        half = min(half, max(CLIP_BAND_MIN_HZ, 2.0 * abs(carrier - clip_dc_hz)))
        band, passes = 2.0 * half < fs, 2
    if band:
        for k in range(passes):
            # the band's FFT overwrites its buffer: every pass but the last works on a copy
            buf = xd if k == passes - 1 else xd.copy()
            y = _band_in_place(buf, x.size, fs, carrier, half)
            carrier = _carrier(_steps_at(y, steady), fs)
    # jitter: per-sample frequency around each pulse's own mean (phase noise + receiver noise)
    d *= np.exp(-1j * carrier / to_hz)
    f = np.angle(d)
    f *= to_hz
    cnt = np.bincount(lab, minlength=rising.size)
    mean = np.bincount(lab, weights=f, minlength=rising.size) / np.maximum(cnt, 1)
    jitter = float(np.std(f - mean[lab]))
    chirp = math.nan
    if turn_on.size:
        chirp = float(np.angle(np.sum(turn_on) * np.exp(-1j * carrier / to_hz))) * to_hz
    return FrequencyFeatures(carrier=carrier, chirp=chirp, jitter=jitter,
                             phase_z=_phase_z(x, steady, lab, s0, carrier / fs))


def pulse_phase_z(x: np.ndarray, labels: np.ndarray, starts: np.ndarray,
                  carrier_cycles: float) -> float:
    """Rayleigh statistic n·R² of the carrier phase's steps from each pulse to the next.

    x: the burst's IQ; labels: per sample, the pulse whose steady part it belongs to (−1
    outside); starts: each pulse's first steady sample; carrier_cycles: the carrier in cycles
    per sample. Each pulse's phasor is the sum of its steady samples turned back by the
    carrier; R is the mean resultant length of the n unit steps between consecutive phasors.
    A keyed oscillator (a fob's SAW or crystal oscillator switched by the data) starts every
    pulse at a random phase: the steps are uniform and n·R² has mean 1 (exponential tail:
    P(> z) = e^−z). A synthesizer that keeps running between pulses (a CC1101 or Flipper
    regenerating recorded bits, a PLL transmitter) carries the phase over: the steps cluster
    and n·R² grows with n. NaN with fewer than ``MIN_PHASE_STEPS`` steps. A burst of
    ``2 × PHASE_BLOCK_STEPS`` steps or more gives the median of n·R² over blocks of
    ``PHASE_BLOCK_STEPS`` consecutive steps (the last takes the remainder): a steady carrier
    beside part of a long transmission (a parked car's 19 ms burst 9 dB over a doorbell's
    0.8 s ring, fresh benign soak seed 29037) makes the steps under it regular, and over 415
    steps that alone read 19.7; a regenerating replayer is continuous in every block.
    """
    idx = np.flatnonzero(labels[: x.size] >= 0)
    return _phase_z(x, idx, labels[idx], starts, carrier_cycles)


def _phase_z(x: np.ndarray, idx: np.ndarray, lab: np.ndarray, starts: np.ndarray,
             carrier_cycles: float) -> float:
    """:func:`pulse_phase_z` given the labelled samples' indices ``idx`` (ascending) and their
    pulses ``lab``."""
    pulses = starts.size
    if idx.size == 0 or pulses < MIN_PHASE_STEPS + 1:
        return math.nan
    # e^(−iωn) = e^(−iω·start) · e^(−iω·(n − start)): one short table for the offsets inside
    # a pulse instead of an exponential per sample
    off = idx - starts[lab]
    turn = np.exp(-2j * math.pi * carrier_cycles * np.arange(int(off.max()) + 1))
    y = x[idx] * turn[off]
    u = np.bincount(lab, weights=y.real, minlength=pulses) \
        + 1j * np.bincount(lab, weights=y.imag, minlength=pulses)
    u *= np.exp(-2j * math.pi * carrier_cycles * starts)
    u = u[np.abs(u) > 0]
    steps = u[1:] * np.conj(u[:-1])
    steps = steps / np.abs(steps)
    n = steps.size
    if n < MIN_PHASE_STEPS:
        return math.nan
    if n < 2 * PHASE_BLOCK_STEPS:
        r = abs(complex(steps.sum())) / n
        return float(n * r * r)
    # a long burst: the median over blocks, so that a carrier keyed beside part of it (whose
    # own steps are regular) cannot make all of it look continuous
    k = n // PHASE_BLOCK_STEPS
    edges = np.arange(k) * PHASE_BLOCK_STEPS
    sums = np.add.reduceat(steps, edges)
    sizes = np.full(k, PHASE_BLOCK_STEPS)
    sizes[-1] = n - edges[-1]
    return median(np.abs(sums) ** 2 / sizes)


def fsk_frequency(x: np.ndarray, lo: int, hi: int, fs: float
                  ) -> tuple[FrequencyFeatures, np.ndarray, float]:
    """Carrier (midway between mark and space), deviation, chirp and jitter of an FSK burst over
    samples [lo, hi); also the smoothed instantaneous frequency (Hz) and the mark/space
    threshold, from which the caller times the symbols."""
    seg = x[lo:hi].astype(np.complex128)
    if seg.size < 8:
        return FrequencyFeatures(), np.zeros(0), 0.0
    to_hz = fs / (2.0 * math.pi)
    d = seg[1:] * np.conj(seg[:-1])
    f = np.angle(d) * to_hz
    k = max(1, int(round(fs * 8e-6)))
    fsm = np.convolve(f, np.ones(k) / k, mode="same") if k > 1 else f
    th, sep = otsu_split(fsm)
    mark = fsm > th
    if mark.all() or not mark.any():
        c = float(np.angle(np.sum(d))) * to_hz
        return FrequencyFeatures(carrier=c, jitter=float(np.std(f)), deviation=math.nan), fsm, c
    # levels from the raw steps away from transitions (the smoothing blurs them)
    tr = np.zeros(mark.size)
    tr[1:] = mark[1:] != mark[:-1]
    edge = np.convolve(tr, np.ones(2 * k + 3), mode="same") > 0  # within k+1 of a transition
    mk, sp = mark & ~edge, ~mark & ~edge
    if not mk.any() or not sp.any():
        mk, sp = mark, ~mark
    fm = float(np.angle(np.sum(d[mk]))) * to_hz
    fsp = float(np.angle(np.sum(d[sp]))) * to_hz
    carrier = 0.5 * (fm + fsp)
    dev = 0.5 * (fm - fsp)
    resid = np.concatenate([f[mk] - fm, f[sp] - fsp])
    cn = max(1, int(round(fs * 10e-6)))
    first = fm if mark[0] else fsp
    chirp = float(np.mean(f[:cn])) - first
    return FrequencyFeatures(carrier=carrier, chirp=chirp, jitter=float(np.std(resid)),
                             deviation=dev), fsm, th
