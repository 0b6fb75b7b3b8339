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

from keyguard.features.envelope import otsu_split, span_labels


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


def _band_around(x: np.ndarray, fs: float, f0: float, half: float) -> np.ndarray:
    """``x`` with everything farther than ``half`` Hz from ``f0`` removed (FFT mask)."""
    n = scipy.fft.next_fast_len(x.size)  # a burst's length can be a large prime
    spec = scipy.fft.fft(x.astype(np.complex128), n, workers=1)
    spec[np.abs(fft_freqs(n, float(fs)) - f0) > half] = 0.0
    return scipy.fft.ifft(spec, workers=1, overwrite_x=True)[:x.size]


@functools.lru_cache(maxsize=8)  # bursts' FFT lengths repeat (next_fast_len rounds them up)
def fft_freqs(n: int, fs: float) -> np.ndarray:
    """``np.fft.fftfreq(n, 1 / fs)`` (Hz), cached and read-only."""
    f = np.fft.fftfreq(n, 1.0 / fs)
    f.flags.writeable = False
    return f


def _phase_steps(x: np.ndarray) -> np.ndarray:
    """``x[n+1]·conj(x[n])`` in double precision."""
    x = x.astype(np.complex128)
    return x[1:] * np.conj(x[:-1])


def _carrier(d: np.ndarray, steady: np.ndarray, fs: float) -> float:
    """Carrier (Hz) from phase steps ``d``: the angle of their sum over ``steady``."""
    return float(np.angle(np.sum(d[steady]))) * fs / (2.0 * math.pi)


def _carrier_at(x: np.ndarray, steps: np.ndarray, fs: float) -> float:
    """As ``_carrier(_phase_steps(x), steady, fs)`` with ``steps = flatnonzero(steady)``: only
    the steps that are summed are formed."""
    x = x.astype(np.complex128, copy=False)
    return float(np.angle(np.sum(x[steps + 1] * np.conj(x[steps])))) * fs / (2.0 * math.pi)


def ook_frequency(x: np.ndarray, rising: np.ndarray, falling: np.ndarray,
                  fs: float) -> FrequencyFeatures:
    """Carrier, chirp and jitter of an OOK burst's pulses [rising, falling) (sample indices).

    The carrier is measured over the steady part of the pulses, then again within
    ``CARRIER_BAND_HZ`` of that first estimate when the IQ is wider than that band (clipping
    products and neighbours elsewhere in the channel pull the first one)."""
    if rising.size == 0 or x.size < 3:
        return FrequencyFeatures()
    d = _phase_steps(x)
    n = d.size
    ln = falling - rising
    skip = np.maximum(np.round(fs * 10e-6), np.floor(0.2 * ln)).astype(np.intp)
    tail = np.floor(0.1 * ln).astype(np.intp) + 1
    s0 = np.minimum(rising + skip, n)
    s1 = np.clip(falling - tail, s0, n)
    lab = span_labels(n, s0, s1)
    steady = lab >= 0
    if not steady.any():
        return FrequencyFeatures()
    to_hz = fs / (2.0 * math.pi)
    carrier = _carrier(d, steady, fs)
    if fs > 4.0 * CARRIER_BAND_HZ:
        carrier = _carrier_at(_band_around(x, fs, carrier, CARRIER_BAND_HZ),
                              np.flatnonzero(steady), fs)
    # jitter: per-sample frequency around each pulse's own mean (phase noise + receiver noise)
    f = np.angle(d[steady] * np.exp(-1j * carrier / to_hz)) * to_hz
    lb = lab[steady]
    cnt = np.bincount(lb, minlength=rising.size)
    mean = np.bincount(lb, weights=f, minlength=rising.size) / np.maximum(cnt, 1)
    jitter = float(np.std(f - mean[lb]))
    # chirp: the first ≈ 10 µs after each turn-on against the steady carrier
    cn = max(1, int(round(fs * 10e-6)))
    c0 = np.minimum(rising, n)
    c1 = np.minimum(rising + np.minimum(cn, ln // 3), n)
    clab = span_labels(n, c0, c1)
    chirp = math.nan
    if (clab >= 0).any():
        chirp = float(np.angle(np.sum(d[clab >= 0]) * np.exp(-1j * carrier / to_hz))) * to_hz
    return FrequencyFeatures(carrier=carrier, chirp=chirp, jitter=jitter,
                             phase_z=pulse_phase_z(x, lab, s0, carrier / fs))


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
    pulses = starts.size
    idx = np.flatnonzero(labels[: x.size] >= 0)
    if idx.size == 0 or pulses < MIN_PHASE_STEPS + 1:
        return math.nan
    lab = labels[idx]
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
    sizes = np.diff(np.append(edges, n))
    return float(np.median(np.abs(sums) ** 2 / sizes))


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
