"""Demodulation of one channelised burst into pulse trains: OOK (envelope) and 2-FSK.

Everything here works on a burst's channel samples (complex baseband, carrier near 0 Hz, a few
times the channel bandwidth in rate) and is adaptive per burst:

* **Smoothing matched to the signal.** A rectangular pulse of width T in white noise is best
  detected by integrating over T. The pulse width is not known in advance, so candidate
  integration lengths L (a geometric series from one sample to 2 ms) are tried and the one
  that best separates the on and off levels is kept: Otsu's between-class variance over the
  total variance (η). Noise lowers η at short L, smearing of the shortest runs lowers it at
  long L, so the maximum sits near the shortest pulse at low SNR and at short L at high SNR,
  where timing resolution is what matters. OOK integrates *coherently* (the complex samples,
  after removing the carrier offset), the matched filter for a rectangular pulse of unknown
  phase, unless the carrier's phase wanders within a pulse (phase noise, chirp: then its
  power); 2-FSK correlates with both tones over L and compares (non-coherent 2-FSK).
* **Thresholds from the burst itself.** The decision level is the midpoint between the means
  of the on and off clusters (for an integrated rectangular pulse the midpoint crossing keeps
  the true width), with ±15 % hysteresis; edges are placed at the interpolated midpoint
  crossing, so widths are finer than one channel sample.
* **Weak OOK bursts** (decision SNR under 20 dB) get more: a second pass integrated over ¾ of
  the shortest run, every edge re-placed by a least-squares step fit on the raw samples, and,
  when the runs sit on a chip grid (PWM, PPM, Manchester and their preambles do), a decision
  chip by chip on the recovered grid: timing recovery plus a matched filter per chip. This is
  what keeps KeeLoq decoding about 10 dB below where rtl_433 stops.
* **Automatic OOK / FSK choice.** FSK keeps the carrier on through a frame and puts its power
  in two spectral lobes of similar strength; OOK keys one carrier on and off. A burst whose
  carrier is on most of the time and whose spectrum (≈ 1 kHz resolution) has two separated
  lobes within 10 dB of each other is FSK — unless one lobe stays on while the other is
  keyed (an SDR replayer's LO leakage beside the replayed OOK frame; of two lobes that both
  could be, the one that moves less as the other keys): then that carrier is subtracted and
  the burst is OOK.
* **Saturated receivers.** A transmitter a few metres away drives the 8-bit receiver past
  full scale. The decision SNR is measured from the output's own noise (not from the spread
  of the "off" cluster, which then holds both the silence and the transmitter's carrier
  leakage), and frames keyed entirely above full scale are found inside their clipped
  envelope (:func:`resolve_nested_keying`). A strong neighbour that clips the receiver (a
  RollJam jammer) presses the burst's pulses down while it is on; pulses left under the split
  in its gaps are found there (:func:`pressed_keying`).

Per run, ``meta["run_margin"]`` gives how far the integrated signal stayed from the decision
level (1.0 = at the cluster mean, near 0 = a coin toss) and ``meta["decision_snr_db"]`` the
separation of the clusters over the noise after integration, so a decoder can drop a frame that
is too weak to trust instead of guessing. ``meta["margin_noise"]`` is the noise standard
deviation of one margin in the same unit (measured on the burst: the scatter of its chip
margins, or of its detector output), so a margin can be judged in standard deviations.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import scipy.fft
import scipy.ndimage

from keyguard.pulse_train import PulseTrain

if TYPE_CHECKING:  # pragma: no cover
    from keyguard.dsp.bursts import Burst

#: hysteresis half-width as a fraction of the on/off separation
HYSTERESIS = 0.15
#: longest integration tried (s)
MAX_SMOOTHING_S = 2e-3
#: ratio between successive integration lengths tried
SMOOTHING_STEP = 1.4
#: below this decision SNR (dB) an OOK burst gets a second pass integrated over its shortest run
SECOND_PASS_DB = 20.0


# ------------------------------------------------------------------------------------------
# primitives
def moving_average(x: np.ndarray, length: int) -> np.ndarray:
    """Centred moving average of ``length`` samples (shorter windows at the ends)."""
    return Integrator(x).average(length)


#: samples per row of :func:`carrier_phasor`'s table
_PHASOR_BLOCK = 256


def carrier_phasor(f: float, rate: float, n: int) -> np.ndarray:
    """exp(−2πj·f·k/rate) for k = 0 … n−1 (complex128): the mixer that moves a carrier at
    ``f`` Hz to 0 Hz. Built as the outer product of two short tables (one row step, one
    within-row step): two exponentials of √n-ish length instead of n, same values to
    ~1e-15."""
    w = -2j * np.pi * f / rate
    if n <= 2 * _PHASOR_BLOCK:
        return np.exp(w * np.arange(n))
    rows = -(-n // _PHASOR_BLOCK)
    table = (np.exp(w * _PHASOR_BLOCK * np.arange(rows))[:, None]
             * np.exp(w * np.arange(_PHASOR_BLOCK)))
    return table.reshape(-1)[:n]


class Integrator:
    """Centred moving averages of one signal for any number of lengths (one cumulative sum)."""

    def __init__(self, x: np.ndarray, cumsum: np.ndarray | None = None):
        """``cumsum``: the running sum of ``x`` with a leading 0 (n + 1 values, float64 or
        complex128), when the caller already has it."""
        self.complex = np.iscomplexobj(x)
        self.n = x.size
        self.x = x
        self._c = cumsum

    @property
    def cumsum(self) -> np.ndarray:
        """Running sum of the signal with a leading 0 (float64/complex128: the differences of
        a float32 running sum over 10⁵ samples would lose the weak signal's digits)."""
        if self._c is None:
            c = np.empty(self.n + 1, dtype=np.complex128 if self.complex else np.float64)
            c[0] = 0
            np.cumsum(self.x, out=c[1:])
            self._c = c
        return self._c

    def average(self, length: int, idx: np.ndarray | None = None) -> np.ndarray:
        """The average over ``length`` samples centred on every sample (or on ``idx``)."""
        n = self.n
        if length <= 1 or n == 0:
            x = self.x if idx is None else self.x[idx]
            return x.astype(np.complex128 if self.complex else np.float64)
        c = self.cumsum
        h = length // 2
        if idx is None and n >= length:
            # every sample: the full windows are differences of shifted slices (no index
            # arrays); only the h + length − h − 1 samples at the ends have shorter windows
            out = np.empty(n, dtype=c.dtype)
            np.subtract(c[length:], c[:n + 1 - length], out=out[h:n + 1 - length + h])
            self._scale(out[h:n + 1 - length + h], length)
            self._clipped(out, 0, 1, h, n + 1 - length + h, n, length, h)
            return out
        if isinstance(idx, slice):
            return self._average_strided(idx, length, h)
        return self._average_at(np.arange(n) if idx is None else idx, length, h)

    def _average_strided(self, sl: slice, length: int, h: int) -> np.ndarray:
        # every s-th sample: the full windows from strided views of the running sum (no
        # gathers), the few at the ends from their indices
        n = self.n
        start, stop, step = sl.indices(n)
        size = len(range(start, stop, step))
        if step <= 0 or size == 0 or n < length:
            return self._average_at(np.arange(n)[sl], length, h)
        j0 = max(0, -(-(h - start) // step))                 # first i with i − h ≥ 0
        j1 = min(size - 1, (n - length + h - start) // step)  # last i with i − h + L ≤ n
        if j1 < j0:
            return self._average_at(np.arange(n)[sl], length, h)
        c = self._c
        a = start + j0 * step - h
        b = start + j1 * step - h
        out = np.empty(size, dtype=c.dtype)
        np.subtract(c[a + length:b + length + 1:step], c[a:b + 1:step], out=out[j0:j1 + 1])
        self._scale(out[j0:j1 + 1], length)
        self._clipped(out, start, step, j0, j1 + 1, size, length, h)
        return out

    def _clipped(self, out: np.ndarray, start: int, step: int, j0: int, j1: int, size: int,
                 length: int, h: int) -> None:
        """Write the clipped windows at both ends into ``out``: out[j] is the average centred
        on sample start + j·step, whose window starts before the signal for j < j0 and ends
        after it for j1 ≤ j < size (full windows in between).

        Each is :meth:`_average_at`'s (c[hi] − c[lo]) / (hi − lo), with the clipped bound
        known beforehand: lo = 0 at the start, where c[0] is an exact 0 and c[hi] − 0 is
        c[hi] bit for bit, so the difference is left out; hi = n at the end. So the same
        divisions of the same values, in a third of the numpy calls (this runs for every
        length tried: its fixed cost counts as much as the samples)."""
        c = self._c
        if j0 > 0:
            hi = np.arange(start - h + length, start - h + length + j0 * step, step)
            head = c[0]
            if head == 0 and not np.signbit(head.real) and not np.signbit(head.imag):
                np.divide(c[hi], hi, out=out[:j0])
            else:  # a running sum handed in without its exact leading 0
                np.divide(c[hi] - head, hi, out=out[:j0])
        if j1 < size:
            lo = np.arange(start + j1 * step - h, start + size * step - h, step)[:size - j1]
            np.divide(c[self.n] - c[lo], self.n - lo, out=out[j1:])

    @staticmethod
    def _scale(v: np.ndarray, length: int) -> None:
        """``v /= length`` in place. A complex array is scaled through its float view: numpy
        divides a complex by a real as a multiplication by 1/length of both parts (Smith's
        method with a zero imaginary divisor), which the float view does the same, bit for
        bit, at a sixth of the cost."""
        if v.dtype == np.complex128 and v.flags.c_contiguous:
            f = v.view(np.float64)
            f *= 1.0 / length
        else:
            v /= length

    def _average_at(self, i: np.ndarray, length: int, h: int) -> np.ndarray:
        n = self.n
        lo = np.maximum(i - h, 0)
        hi = np.minimum(i - h + length, n)
        c = self._c
        return (c[hi] - c[lo]) / (hi - lo)


@dataclass
class Split:
    """Two-cluster split of a 1-D signal (Otsu)."""

    threshold: float  # Otsu's threshold
    eta: float        # between-class variance / total variance, 0..1
    low: float        # mean of the low cluster
    high: float       # mean of the high cluster
    low_std: float    # spread of the low cluster

    @property
    def mid(self) -> float:
        return 0.5 * (self.low + self.high)


@functools.lru_cache(maxsize=8)
def _bin_centres(bins: int) -> np.ndarray:
    """0.5, 1.5, … bins − 0.5: the histogram's bin centres in bin widths."""
    c = np.arange(bins) + 0.5
    c.flags.writeable = False  # shared between calls
    return c


def otsu_split(a: np.ndarray, bins: int = 96) -> Split:
    """Otsu's two-class split of ``a`` from a histogram (O(n))."""
    return _split(a, _extremes(a), bins)


def _split(a: np.ndarray, extremes: tuple[float, float], bins: int,
           stats: tuple | None = None) -> Split:
    """:func:`otsu_split` of ``a`` from its (min, max) and, when they are at hand already,
    its :func:`_otsu` statistics."""
    lo, hi = extremes
    if not hi > lo:
        return Split(lo, 0.0, lo, hi, 0.0)
    width, h, c, w0, m0, m1, k, eta = stats if stats is not None else _otsu(a, lo, hi, bins)
    m0k = float(m0[k])
    e = c[:k + 1] - m0k
    e *= e
    e *= h[:k + 1]
    low_std = math.sqrt(max(float(np.add.reduce(e)) / float(w0[k]), 0.0))
    return Split(lo + (k + 1) * width, eta, m0k, float(m1[k]), low_std)


def otsu_eta(a: np.ndarray, bins: int = 96) -> float:
    """η of :func:`otsu_split` alone (what the smoothing search compares), without the rest
    of the split's statistics."""
    lo, hi = _extremes(a)
    return _otsu(a, lo, hi, bins)[-1] if hi > lo else 0.0


def _extremes(a: np.ndarray) -> tuple[float, float]:
    """(min, max) of ``a`` by the reductions ``a.min()`` and ``a.max()`` run, without their
    Python wrappers (the smoothing search asks for them some 500 times per minute of capture)."""
    return float(np.minimum.reduce(a)), float(np.maximum.reduce(a))


def _otsu(a: np.ndarray, lo: float, hi: float, bins: int):
    """Otsu's histogram statistics of ``a`` (min ``lo`` < max ``hi``): (bin width, counts,
    bin centres, cumulative counts, class means below / above each split, best split k, η)."""
    width = (hi - lo) / bins
    # the bin of every sample, with in-place steps (this runs some 400 times per second of
    # capture): the same values as ((a − lo) · (1 / width)) truncated
    t = a - lo
    t *= 1.0 / width
    q = t.astype(np.intp)
    # the maximum (and nothing else: t ≤ bins within rounding) lands past the last bin; it is
    # moved there after counting, not by clipping every sample's bin
    h = np.bincount(q, minlength=bins + 1)  # bins + 1 counts: q ≤ bins
    h[bins - 1] += h[bins]  # (integers: the same count as summing the two)
    h = h[:bins].astype(np.float64)
    # the 96-bin statistics below run as few numpy calls as they can (their fixed cost is
    # most of the time on short inputs): array methods, in-place steps, Python floats for
    # scalars; every value is computed by the same operations as the textbook form
    c = _bin_centres(bins) * width
    c += lo
    w0 = h.cumsum()
    total = float(w0[-1])
    s0 = (h * c).cumsum()
    s_all = float(s0[-1])
    # the minimum falls in the first bin and the maximum in the last, so w0 > 0 everywhere
    # and w1 > 0 before the last bin: the split after bin k (k < bins − 1) never divides by 0
    w0_, s0_ = w0[:-1], s0[:-1]
    w1 = total - w0_
    m0 = s0_ / w0_
    m1 = s_all - s0_
    m1 /= w1
    d = m0 - m1
    d *= d
    between = w0_ * w1
    between *= d
    k = int(between.argmax())
    mean = s_all / total
    e = c - mean
    e *= e
    e *= h
    # np.add.reduce is what ndarray.sum runs (the same pairwise sum), without its Python
    # wrapper: this runs for every smoothing length scored
    var = float(np.add.reduce(e)) / total
    eta = float(between[k]) / (total * total) / var if var > 0 else 0.0
    return width, h, c, w0, m0, m1, k, eta


def smoothing_lengths(rate: float, n: int, max_s: float = MAX_SMOOTHING_S) -> np.ndarray:
    """Candidate integration lengths (samples): 1, then ×1.4 steps up to ``max_s`` and n/6."""
    return _lengths_up_to(max(1, min(int(round(max_s * rate)), n // 6)))


@functools.lru_cache(maxsize=64)
def _lengths_up_to(top: int) -> np.ndarray:
    """1, then ×1.4 steps up to ``top`` samples (read-only: every burst of a rate shares the
    same few, and building them took as long as scoring one length)."""
    k = int(math.floor(math.log(top) / math.log(SMOOTHING_STEP))) + 1 if top > 1 else 1
    lengths = np.unique(np.round(SMOOTHING_STEP ** np.arange(k)).astype(int))
    lengths.flags.writeable = False
    return lengths


def hysteresis_levels(a: np.ndarray, low: float, high: float, initial: int = 0) -> np.ndarray:
    """0/1 per sample: 1 from a sample ≥ ``high`` until the next ≤ ``low`` (int8)."""
    starts, values = _hysteresis_runs(a, low, high, initial)
    return np.repeat(values, np.diff(np.append(starts, a.size)))


def _hysteresis_runs(a: np.ndarray, low: float, high: float,
                     initial: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """:func:`hysteresis_levels` as runs: (first sample of each run, its level (int8)). Runs
    are never empty; two neighbours have the same level only where the first run is the
    ``initial`` one."""
    off = a <= low
    on = a >= high
    if not low < high:
        on &= ~off  # ≤ low wins over ≥ high
    # a sample's level is that of the last decisive sample at or before it: the level changes
    # where a run of decisive samples of the other level starts. Only the first sample of
    # each run of on (off) samples can be one, so those few are merged in order and kept
    # where their level differs from the one before (no per-sample index arrays)
    rise, fall = _run_starts(on), _run_starts(off)
    if rise.size + fall.size == 0:
        return np.zeros(1, dtype=np.intp), np.full(1, initial, dtype=np.int8)
    pos = np.concatenate([rise, fall])
    level = np.concatenate([np.ones(rise.size, np.int8), np.zeros(fall.size, np.int8)])
    order = np.argsort(pos, kind="stable")
    pos, level = pos[order], level[order]
    keep = np.concatenate([[0], np.flatnonzero(level[1:] != level[:-1]) + 1])
    starts, values = pos[keep], level[keep]
    if starts[0] != 0:
        starts = np.concatenate([[0], starts])
        values = np.concatenate([np.array([initial], dtype=np.int8), values])
    return starts, values


def _run_starts(x: np.ndarray) -> np.ndarray:
    """Index of the first element of every run of True in the bool array ``x``."""
    starts = np.flatnonzero(x[1:] > x[:-1]) + 1
    return np.concatenate([[0], starts]) if x.size and x[0] else starts


def hysteresis_edges(a: np.ndarray, low: float, high: float,
                     mid: float) -> tuple[np.ndarray, np.ndarray]:
    """``edges_from_levels(hysteresis_levels(a, low, high), a, mid)`` without the per-sample
    levels in between (the same edges and levels): the level changes come straight from the
    runs, which saves four passes over the samples for every decision."""
    if a.size == 0:
        return edges_from_levels(np.zeros(0, dtype=np.int8), a, mid)
    starts, values = _hysteresis_runs(a, low, high)
    differs = np.flatnonzero(values[1:] != values[:-1]) + 1
    return _edges_at_changes(starts[differs], np.concatenate([values[:1], values[differs]]),
                             a, mid, a.size)


def edges_from_levels(levels: np.ndarray, a: np.ndarray, mid: float) -> tuple[np.ndarray, np.ndarray]:
    """Runs of ``levels`` as (edge positions in fractional samples, run levels).

    Each change of level is moved back to where ``a`` last crossed ``mid`` (linear
    interpolation), which is the unbiased edge for an integrated rectangular pulse. The first
    edge is 0 and the last is ``len(a)``.
    """
    change = np.flatnonzero(levels[1:] != levels[:-1]) + 1
    run_levels = np.concatenate([[levels[0]], levels[change]]) if levels.size else np.zeros(0, np.int8)
    return _edges_at_changes(change, run_levels, a, mid, levels.size)


def _edges_at_changes(change: np.ndarray, run_levels: np.ndarray, a: np.ndarray, mid: float,
                      n: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`edges_from_levels` from the level changes (sample indices) and run levels of
    ``n`` samples."""
    above = a >= mid
    cross = np.flatnonzero(above[1:] != above[:-1]) + 1
    if change.size and cross.size:
        k = np.searchsorted(cross, change, side="right") - 1
        ok = k >= 0
        c = cross[np.maximum(k, 0)]
        a0, a1 = a[c - 1], a[c]
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(a1 != a0, (mid - a0) / (a1 - a0), 0.5)
        pos = np.where(ok, c - 1 + np.clip(frac, 0.0, 1.0), change.astype(np.float64))
        # crossings are monotone, but keep edges strictly increasing whatever happens
        pos = np.maximum.accumulate(pos)
    else:
        pos = change.astype(np.float64)
    edges = np.concatenate([[0.0], pos, [float(n)]])
    return edges, run_levels.astype(np.int8)


def drop_short_runs(edges: np.ndarray, levels: np.ndarray, min_len: float) -> tuple[np.ndarray, np.ndarray]:
    """Merge runs shorter than ``min_len`` samples into their neighbours (noise glitches)."""
    for _ in range(4):
        d = np.diff(edges)
        short = d < min_len
        short[0] = short[-1] = False  # the outer runs are cut by the window, not by noise
        if not short.any():
            break
        lv = levels.copy()
        lv[short] ^= 1
        keep = np.concatenate([[True], lv[1:] != lv[:-1]])
        edges = np.concatenate([edges[:-1][keep], edges[-1:]])
        levels = lv[keep]
    return edges, levels


def run_margins(edges: np.ndarray, a: np.ndarray, levels: np.ndarray, split: Split) -> np.ndarray:
    """Per run, the mean of (a − mid)·(±1) over the run over half the on/off separation."""
    half = 0.5 * (split.high - split.low)
    if half <= 0 or levels.size == 0:
        return np.zeros(levels.size)
    idx = np.clip(np.round(edges[:-1]).astype(int), 0, a.size - 1)
    idx = np.maximum.accumulate(idx)
    sums = np.add.reduceat(a - split.mid, idx)
    counts = np.diff(np.concatenate([idx, [a.size]])).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
    sign = np.where(levels == 1, 1.0, -1.0)
    return np.clip(m * sign / half, -1.0, 2.0)


def best_smoothing(make: "callable", lengths: np.ndarray, n: int,
                   mask: np.ndarray | None = None) -> tuple[int, np.ndarray, Split]:
    """The integration length whose output splits best into two clusters (max η).

    make(L, idx) returns the detector output for length L at sample indices ``idx`` (an index
    array or a slice of every s-th sample; all
    samples when idx is None); ``mask`` restricts the statistics to the samples that matter
    (e.g. carrier-on samples for FSK). The search looks at every other length on ≤ 8k
    samples, then at the neighbours of the best, and returns the full output of the winner.
    """
    if mask is not None:
        idx = np.flatnonzero(mask)
        idx = idx[:: max(1, idx.size // 4096)]
    else:  # every s-th sample: a slice, which the integrators read as strided views
        idx = slice(0, n, max(1, n // 4096))
    scores: dict[int, float] = {}  # η by length index
    if lengths.size == 1:  # nothing to choose between: no scoring pass
        length = int(lengths[0])
        out = make(length, None)
        sel = out if mask is None else out[mask]
        return length, out, otsu_split(sel[:: max(1, sel.size // 32768)])
    # under 8192 samples the scores look at every one: the slice of all samples gives the
    # integrators' full output (the same values), so the winner's output and its Otsu
    # statistics are kept from its score instead of being computed a second time
    whole = mask is None and idx.step == 1
    kept: dict[int, tuple] = {}  # length index → (output, (min, max), _otsu statistics)

    def score(i: int) -> float:
        if i not in scores:
            out = make(int(lengths[i]), idx)
            if whole:
                lo, hi = _extremes(out)
                stats = _otsu(out, lo, hi, 96) if hi > lo else None
                kept[i] = (out, (lo, hi), stats)
                scores[i] = stats[-1] if stats is not None else 0.0
            else:
                scores[i] = otsu_eta(out)
        return scores[i]

    coarse = list(range(0, lengths.size, 2))
    if coarse[-1] != lengths.size - 1:
        coarse.append(lengths.size - 1)
    # η rises while noise is averaged out and falls once runs are smeared: walk up the
    # lengths and stop one step past the peak
    best, falls = coarse[0], 0
    if score(coarse[0]) >= 0.985:
        coarse = coarse[:2]  # already two clean levels: longer integration only smears edges
    for i in coarse:
        if score(i) > scores[best]:
            best, falls = i, 0
        elif i != best:
            falls += 1
            if falls >= 1:
                break
    for i in (best - 1, best + 1):
        if 0 <= i < lengths.size:
            score(i)
    best = max(scores, key=scores.get)
    length = int(lengths[best])
    if whole:
        out, extremes, stats = kept[best]
        return length, out, _split(out, extremes, 96, stats)
    out = make(length, None)
    sel = out if mask is None else out[mask]
    return length, out, otsu_split(sel[:: max(1, sel.size // 32768)])


# ------------------------------------------------------------------------------------------
# carrier activity (both modulations)
def power64(y: np.ndarray) -> np.ndarray:
    """|y|² of complex samples in float64: re² + im², each part converted to float64 first
    (exactly), so the values are those of ``y.real.astype(float64) ** 2 + ...``. A contiguous
    complex64 array is converted in one pass over its float view and squared in place."""
    if y.dtype != np.complex64 or not y.flags.c_contiguous:
        return y.real.astype(np.float64) ** 2 + y.imag.astype(np.float64) ** 2
    v = y.view(np.float32).astype(np.float64)
    np.multiply(v, v, out=v)
    return np.add(v[0::2], v[1::2])


@dataclass
class Activity:
    """Carrier on/off runs of a channel signal (edges in channel samples)."""

    edges: np.ndarray
    levels: np.ndarray
    mask: np.ndarray       # per sample, carrier on
    on_power: float        # mean |y|² over the carrier-on samples (signal + channel noise)
    smoothing: int         # samples
    eta: float             # Otsu's between-class / total variance of the envelope (0..1)
    contrast_db: float     # on/off cluster separation over the off cluster's spread (dB)


def carrier_activity(y: np.ndarray, rate: float, noise_power: float, min_off_s: float = 0.0,
                     min_excess_db: float = 3.0) -> Activity | None:
    """Where the carrier is on, from the integrated power |y|² (works for OOK and FSK).

    noise_power: expected channel noise power (linear); the burst is rejected (None) when the
    on cluster is not ``min_excess_db`` above it. min_off_s: off runs shorter than this are
    bridged (FSK bursts keep the carrier on, so short dips are noise).
    """
    if y.size < 8:
        return None
    p = power64(y)
    lengths = smoothing_lengths(rate, y.size)
    lengths = lengths[lengths >= 2] if (lengths >= 2).any() else lengths
    integ = Integrator(p)

    def envelope(m: int, i) -> np.ndarray:
        r = integ.average(m, i)
        return np.sqrt(r, out=r)  # a fresh array: rooted in place

    length, env, sp = best_smoothing(envelope, lengths, y.size)
    if sp.high <= sp.low:
        return None
    noise_amp = math.sqrt(max(noise_power, 1e-30))
    if sp.low > 2.0 * noise_amp and sp.low > 0.3 * sp.high:
        # the lower cluster is itself far above the noise and not far below the upper one:
        # the window holds (almost) no carrier-off time and Otsu split the carrier's own
        # level variations (two FSK tones passed with different gains). Cut midway in dB
        # between the noise and the carrier.
        mid = math.sqrt(noise_amp * sp.high)
        sp = Split(mid, sp.eta, 2 * mid - sp.high, sp.high, sp.low_std)
    h = HYSTERESIS * (sp.high - sp.low)
    edges, levels = hysteresis_edges(env, sp.mid - h, sp.mid + h, sp.mid)
    edges, levels = drop_short_runs(edges, levels, 0.4 * length)
    # pulses a strong neighbour pressed under the split (a jammer clipping the receiver) are
    # carrier on: cut at the frame's first pulse sent under it, a package loses its start
    pressed = pressed_keying(y, edges, levels, rate, length)
    if pressed:
        edges, levels, _ = splice_runs(edges, levels, None, pressed)
    mask = _mask_from_runs(edges, levels, y.size)
    if not mask.any():
        return None
    on_power = float(p[mask].mean())
    if on_power < noise_power * 10 ** (min_excess_db / 10):
        return None
    contrast = 20 * math.log10((sp.high - sp.low) / sp.low_std) if sp.low_std > 0 else 99.0
    act = Activity(edges, levels, mask, on_power, length, sp.eta, contrast)
    return bridge_gaps(act, min_off_s * rate) if min_off_s > 0 else act


def mask_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The runs of a non-empty bool mask: edges (float64 sample positions, from 0 to its
    length) and the level (int8, 1 = True) of each run."""
    change = np.flatnonzero(mask[1:] != mask[:-1]) + 1
    edges = np.concatenate([[0.0], change.astype(np.float64), [float(mask.size)]])
    levels = np.concatenate([[mask[0]], mask[change]]).astype(np.int8)
    return edges, levels


def activity_from_mask(mask: np.ndarray, y: np.ndarray, *, power: bool = True) -> Activity | None:
    """An :class:`Activity` from a known carrier-on mask (as measured by the burst detector).

    power: measure ``on_power`` (a gather of the on samples and a sum over them); without it
    ``on_power`` is NaN — for the demodulator, which never reads it."""
    if mask.size != y.size or not mask.any():
        return None
    edges, levels = mask_runs(mask)
    if not power:
        return Activity(edges, levels, mask, math.nan, 1, 1.0, 99.0)
    on = y[mask]
    v = on.view(np.float32 if on.dtype == np.complex64 else np.float64).astype(np.float64)
    # not np.dot: a BLAS dot may run on threads, whose split of the sum depends on the core
    # count (results must not) and whose spinning costs a live monitor its second core
    on_power = float(np.einsum("i,i->", v, v) / on.size)
    return Activity(edges, levels, mask, on_power, 1, 1.0, 99.0)


def bridge_gaps(act: Activity, min_off: float) -> Activity:
    """The same activity with inner off runs shorter than ``min_off`` samples turned on."""
    d = np.diff(act.edges)
    short = (act.levels == 0) & (d < min_off)
    short[0] = short[-1] = False
    if not short.any():
        return act
    lv = act.levels.copy()
    lv[short] = 1
    keep = np.concatenate([[True], lv[1:] != lv[:-1]])
    edges = np.concatenate([act.edges[:-1][keep], act.edges[-1:]])
    levels = lv[keep]
    mask = _mask_from_runs(edges, levels, act.mask.size)
    return Activity(edges, levels, mask, act.on_power, act.smoothing, act.eta, act.contrast_db)


def _mask_from_runs(edges: np.ndarray, levels: np.ndarray, n: int) -> np.ndarray:
    """Carrier-on flag per sample (``n`` samples) of runs with these edges and levels."""
    idx = np.clip(np.round(edges).astype(int), 0, n)
    lengths = np.diff(idx)
    if idx.size and not (lengths.size and lengths.min() < 0):
        # ordered edges (as every decision gives them): the runs laid out end to end, a
        # third of the cost of the marks below
        mask = np.zeros(n, dtype=bool)
        mask[idx[0]:idx[-1]] = np.repeat(levels == 1, lengths)
        return mask
    mark = np.zeros(n + 1, dtype=np.int32)
    on = levels == 1
    np.add.at(mark, idx[:-1][on], 1)
    np.add.at(mark, idx[1:][on], -1)
    return np.cumsum(mark[:-1], dtype=np.int32) > 0  # int32 throughout: no casting pass


# ------------------------------------------------------------------------------------------
# spectrum: carrier, FSK tones, modulation choice
@dataclass
class Tones:
    """Spectral lobes of the carrier-on samples (Hz from the channel centre)."""

    peak_hz: float
    second_hz: float | None
    second_db: float | None   # second lobe power relative to the first (dB, ≤ 0)

    @property
    def two_lobes(self) -> bool:
        return self.second_hz is not None


def _interp_peak(psd_db: np.ndarray, k: int) -> float:
    if 0 < k < psd_db.size - 1:
        a, b, c = psd_db[k - 1], psd_db[k], psd_db[k + 1]
        den = a - 2 * b + c
        if den < 0:
            return float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
    return 0.0


def _welch(x: np.ndarray, rate: float, nper: int) -> tuple[np.ndarray, np.ndarray]:
    """Averaged Hann-windowed periodogram (non-overlapping segments), centred frequencies."""
    m = x.size // nper
    if m == 0:
        seg = np.zeros((1, nper), dtype=np.complex64)
        seg[0, :x.size] = x
    else:
        seg = x[: m * nper].reshape(m, nper)
    spec = scipy.fft.fft(seg * np.hanning(nper + 1)[:-1].astype(np.float32), axis=1, workers=1)
    p = np.fft.fftshift((spec.real ** 2 + spec.imag ** 2).mean(axis=0))
    return np.fft.fftshift(np.fft.fftfreq(nper, 1.0 / rate)), p


def spectral_lobes(y_on: np.ndarray, rate: float, resolution_hz: float = 1000.0,
                   min_sep_hz: float = 4000.0, max_second_db: float = 10.0) -> Tones:
    """Strongest lobe of the power spectrum and a second one if the signal has two.

    A second lobe counts when it is at least ``min_sep_hz`` away, within ``max_second_db`` of
    the first, and the spectrum dips at least 3 dB below it somewhere in between.
    """
    nper = int(2 ** max(4, round(math.log2(max(rate / resolution_hz, 16)))))
    f, p = _welch(y_on, rate, nper)
    pdb = 10 * np.log10(p + 1e-30)
    df = f[1] - f[0]
    k1 = int(np.argmax(pdb))
    peak = float(f[k1] + _interp_peak(pdb, k1) * df)
    sep = max(1, int(math.ceil(min_sep_hz / df)))
    local_max = np.zeros(pdb.size, dtype=bool)
    local_max[1:-1] = (pdb[1:-1] >= pdb[:-2]) & (pdb[1:-1] >= pdb[2:])
    cand = np.flatnonzero(local_max & (np.abs(np.arange(pdb.size) - k1) >= sep)
                          & (pdb >= pdb[k1] - max_second_db))
    for k2 in cand[np.argsort(-pdb[cand])]:
        lo, hi = sorted((k1, k2))
        if pdb[lo:hi + 1].min() <= pdb[k2] - 3.0:
            return Tones(peak, float(f[k2] + _interp_peak(pdb, k2) * df),
                         float(pdb[k2] - pdb[k1]))
    return Tones(peak, None, None)


#: longest span (channel samples) whose carrier comes from one zero-padded FFT of it all
_FINE_EXACT = 32768
#: segment length and largest number of segments averaged for a longer span
_FINE_SEGMENT = 8192
_FINE_SEGMENTS = 32


def _averaged_carrier(y: np.ndarray, mask: np.ndarray, rate: float) -> float:
    """Peak (Hz) of the mean power spectrum of up to ``_FINE_SEGMENTS`` Hann-windowed segments
    of ``_FINE_SEGMENT`` on samples, evenly spread over the span and zero-padded 4×.

    The average over the whole span keeps what a single full-length FFT gives for a steady
    carrier (its line) and for a noise jammer (the middle of its band, steadier than one
    periodogram's largest noise peak) — measuring only a slice of a noise jammer moves its
    reported carrier by up to 14 kHz — at a bounded cost: at most 32 FFTs of 32768 points.
    """
    seg = _FINE_SEGMENT
    n_seg = min(_FINE_SEGMENTS, y.size // seg)
    starts = np.linspace(0, y.size - seg, n_seg).astype(np.int64)
    idx = starts[:, None] + np.arange(seg)[None, :]
    frames = np.where(mask[idx], y[idx], 0).astype(np.complex64)
    frames *= np.hanning(seg + 1)[:-1].astype(np.float32)
    nfft = 4 * seg
    spec = scipy.fft.fft(frames, nfft, axis=1, workers=1)
    pw = (spec.real ** 2 + spec.imag ** 2).mean(axis=0)
    k = int(np.argmax(pw))
    # a noise jammer's averaged spectrum is flat over its band: its largest point is anywhere
    # in it, so a wide top gives the middle of it. Smoothed over 1/64 of the channel rate the
    # spectrum is flat enough (± a few %) for the half-power run around its peak to reach the
    # band edges; a tone's run is then as wide as the smoothing, a band's twice that or more.
    width = nfft // 64
    ps = scipy.ndimage.uniform_filter1d(pw, width + 1, mode="wrap")
    kp = int(np.argmax(ps))
    half = ps >= 0.5 * ps[kp]
    lo = kp - int(np.argmin(np.roll(half, -kp - 1)[::-1]))   # first point of the run
    hi = kp + int(np.argmin(np.roll(half, -kp)))             # one past its last point
    if hi - lo > 2 * width:
        f = 0.5 * (lo + hi - 1) * rate / nfft
    else:
        f = (k + _interp_peak(10 * np.log10(pw + 1e-30), k)) * rate / nfft
    f = f % rate
    return float(f - rate if f >= rate / 2 else f)


def _lag_products(y: np.ndarray, mag: np.ndarray, pairs: np.ndarray, lag: int):
    """Σ y[k+lag]·conj(y[k]) and Σ |y[k+lag]|·|y[k]| over the k where ``pairs`` is set
    (``mag`` = |y|). All pairs (a carrier on throughout: a jammer, an FSK frame) are taken
    as shifted views, not gathered; the magnitudes are not computed again for every lag."""
    if pairs.all():
        a, b = y[lag:], y[:-lag]
        ma, mb = mag[lag:], mag[:-lag]
    else:
        a, b = y[lag:][pairs], y[:-lag][pairs]
        ma, mb = mag[lag:][pairs], mag[:-lag][pairs]
    # written as one expression on purpose: numpy multiplies into the conjugate's temporary
    # when it is large (≥ 256 kB), and that in-place loop rounds some products differently
    # from a product into a new array, so the same expression keeps the same values
    return np.sum(a * np.conj(b)), np.sum(ma * mb)


def fine_carrier(y: np.ndarray, mask: np.ndarray, rate: float) -> float:
    """Carrier offset (Hz from the channel centre) of a keyed carrier.

    A clean carrier gives it from the mean phase step between on samples (one lag-1 step for
    an unambiguous estimate, then lags of up to 32 samples for precision): O(n). When the
    phase steps are not coherent enough to trust (weak or drifting), the peak of the zero-
    padded power spectrum of the on samples; for a long span (a jammer: seconds) the peak of
    an averaged spectrum of at most ``_FINE_SEGMENTS`` segments spread over the whole span, so
    the cost stays bounded (a few ms) whatever the length.
    """
    both = mask[1:] & mask[:-1]
    if np.count_nonzero(both) >= 64:
        mag = np.abs(y)  # once: every lag's norm takes its pairs from it
        p1, norm = _lag_products(y, mag, both, 1)
        if norm > 0 and abs(p1) >= 0.97 * norm:  # a strong carrier (≳ 15 dB in the channel)
            f = float(np.angle(p1)) * rate / (2 * np.pi)
            # longer lags refine it while the phase stays coherent over them (phase noise
            # and chirps decorrelate it: then a longer lag would only add a wrap error)
            for lag in (4, 16, 32):
                both_l = mask[lag:] & mask[:-lag]
                if np.count_nonzero(both_l) < 64:
                    break
                pl, norm_l = _lag_products(y, mag, both_l, lag)
                if abs(pl) < 0.8 * norm_l:
                    break
                resid = float(np.angle(pl * np.exp(-2j * np.pi * f * lag / rate)))
                f += resid * rate / (2 * np.pi * lag)
            return f
    first, last = np.argmax(mask), mask.size - np.argmax(mask[::-1])
    if last - first > _FINE_EXACT:
        return _averaged_carrier(y[first:last], mask[first:last], rate)
    x = np.where(mask, y, 0)
    x = x[first:last]
    nfft = scipy.fft.next_fast_len(max(4 * x.size, 64))
    spec = scipy.fft.fft(x, nfft, workers=1)
    pw = spec.real ** 2 + spec.imag ** 2
    k = int(np.argmax(pw))
    frac = _interp_peak(10 * np.log10(pw + 1e-30), k)
    f = (k + frac) * rate / nfft
    return float(f - rate if f >= rate / 2 else f)


# ------------------------------------------------------------------------------------------
# demodulation
@dataclass
class Decision:
    """One demodulated span: runs in channel samples and the detector that produced them."""

    edges: np.ndarray
    levels: np.ndarray
    margins: np.ndarray
    smoothing: int
    decision_snr_db: float
    grid: float | None = None  # chip length (samples) when decided chip by chip
    eta: float = 0.0           # Otsu's η of the detector output that made the decision
    coherent: bool = True      # integrated the complex samples (else the power)
    # noise std of a run's margin (in the margins' unit, half the on/off separation): the
    # scatter of the chip margins when decided chip by chip, else that of the detector output
    # (2 / decision SNR as an amplitude ratio)
    margin_noise: float | None = None

    def noise_of_margins(self) -> float:
        """``margin_noise``, or the detector output's noise over half the separation."""
        if self.margin_noise is not None:
            return self.margin_noise
        return 2.0 * 10 ** (-self.decision_snr_db / 20)


#: a run shorter than this fraction of a burst's shorter regular runs (their 25th percentile)
#: is a glitch: a loud neighbour's key click through the channel filter, not a chip
GLITCH_FRACTION = 0.3


def glitch_length(edges: np.ndarray) -> float:
    """Runs shorter than this (samples) in a decision with these run ``edges`` are glitches
    (0 when there are too few runs to tell). Where glitches are a quarter of the runs or more,
    the 25th percentile is one of them and nothing is taken for a glitch."""
    d = np.diff(edges)[1:-1]
    if d.size < 16:
        return 0.0
    return GLITCH_FRACTION * percentile(d, 25)


def _decide(make, lengths: np.ndarray, mask: np.ndarray | None, n: int,
            min_run: float = 0.0) -> Decision | None:
    """The best smoothing's decision; runs shorter than ``min_run`` samples (as well as
    :func:`glitch_length` and 0.4 of the smoothing) are glitches."""
    length, out, sp = best_smoothing(make, lengths, n, mask)
    if not sp.high > sp.low:
        return None
    h = HYSTERESIS * (sp.high - sp.low)
    edges, levels = hysteresis_edges(out, sp.mid - h, sp.mid + h, sp.mid)
    edges, levels = drop_short_runs(edges, levels,
                                    max(0.4 * length, glitch_length(edges), min_run))
    margins = run_margins(edges, out, levels, sp)
    noise = output_noise_std(out, length)
    snr = 20 * math.log10((sp.high - sp.low) / noise) if noise > 0 else 99.0
    return Decision(edges, levels, margins, length, min(snr, 99.0), eta=sp.eta)


def median(a: np.ndarray) -> float:
    """``float(np.median(a))`` of a 1-D float array, by the same partition (the middle
    element(s) and the last, which holds a NaN if there is one) and the same mean of the two
    middle values, without np.median's generic axis handling (a fifth to half of its time on
    the 10⁴–10⁵ samples of a burst)."""
    n = a.size
    if n == 0:
        return float(np.median(a))  # numpy's warning and NaN
    k = n // 2
    if n >= _BRACKET_MIN:
        got = _median_in_bracket(a, k, n % 2 == 1)
        if got is not None:
            return got
    if n % 2:
        x = np.partition(a, (k, n - 1))
        return float(x[n - 1] if np.isnan(x[n - 1]) else x[k])
    x = np.partition(a, (k - 1, k, n - 1))
    return float(x[n - 1] if np.isnan(x[n - 1]) else (x[k - 1] + x[k]) / 2)


def percentile(a: np.ndarray, q: float) -> float:
    """``float(np.percentile(a, q))`` (linear interpolation) of a 1-D float64 array, by the
    same partition (the two neighbouring ranks, the first and the last) and the same
    interpolation steps, without np.percentile's generic machinery: some 80 µs a call, ten
    times the partition of the few hundred run lengths a burst asks it about (up to four
    times per burst)."""
    n = a.size
    if n == 0 or a.ndim != 1 or a.dtype != np.float64:
        return float(np.percentile(a, q))  # numpy's warnings, NaN and dtype rules
    v = (n - 1) * (q / 100)
    if v >= n - 1:  # the largest value (numpy's index −1, and its weight from there)
        below = above = -1
    else:
        below = int(math.floor(v))
        above = below + 1
    x = np.partition(a, sorted({0, n - 1, below % n, above % n}))
    if np.isnan(x[n - 1]):
        return math.nan
    lo, hi = x[below], x[above]
    t = v - below
    # numpy's lerp: from the lower value, or back from the upper one past the middle
    diff = hi - lo
    return float(hi - diff * (1 - t) if t >= 0.5 else lo + diff * t)


#: :func:`median` of this many values or more first looks for the middle ones in a bracket
_BRACKET_MIN = 2048
#: about this many values (every s-th one) of the array place the bracket
_BRACKET_SAMPLE = 512


def _median_in_bracket(a: np.ndarray, k: int, odd: bool) -> float | None:
    """:func:`median` from the values near the middle only, or None to leave it to the
    partition of the whole array.

    The middle value(s) of ``a`` are its order statistics k (and k − 1): values of ``a``
    that do not depend on how they are found. A bracket [lo, hi] around them comes from a
    sample (its middle ± 1.5 √m + 4 ranks, ≈ 3 standard deviations of a sample rank, a
    ninth of the values); counting the values below lo tells which of the values inside
    are the middle ones, and only those (compressed out) are partitioned: half the time
    of partitioning a burst's 10⁴ values, whose introselect is slow on them.
    None when the bracket misses the middle, a NaN is among the values (NaN compares false
    both ways, so it lands inside), or a middle value is a zero (−0.0 and 0.0 are equal:
    which one a partition leaves at k is its own choice, so the caller's partition
    decides)."""
    n = a.size
    s = a[:: max(1, n // _BRACKET_SAMPLE)]
    m = s.size
    j = (k * m) // n
    r = int(1.5 * math.isqrt(m)) + 4
    jl, jh = max(0, j - r), min(m - 1, j + r)
    s = np.partition(s, (jl, jh))
    lo, hi = s[jl], s[jh]
    below = a < lo
    n_lo = int(np.count_nonzero(below))
    inside = a.compress(~(below | (a > hi)))  # compress: faster than a boolean index
    first = k - n_lo - (0 if odd else 1)       # the lower middle's place among them
    if first < 0 or k - n_lo >= inside.size or np.isnan(inside).any():
        return None
    x = np.partition(inside, k - n_lo if odd else (first, k - n_lo))
    if x[first] == 0 or x[k - n_lo] == 0:
        return None
    # the same scalars and the same mean of the two as the whole partition's
    return float(x[k - n_lo] if odd else (x[first] + x[k - n_lo]) / 2)


def output_noise_std(out: np.ndarray, length: int) -> float:
    """Noise standard deviation of a detector output integrated over ``length`` samples.

    From the differences between outputs ``length`` apart (independent noise, same level
    except across an edge): 1.4826 × their median absolute value / √2. The median ignores
    the few differences that straddle an edge and, unlike the spread of Otsu's low cluster,
    does not count as noise a second "off" level — the silence around a frame next to the
    carrier leakage inside it (a strong transmitter 30–50 dB over the noise, or one clipping
    the receiver, shows both).
    """
    lag = max(1, int(length))
    if out.size <= lag + 8:
        return 0.0
    m = out.size - lag
    step = max(1, m // 32768)
    # every step-th difference only (the same ones as subsampling all m of them)
    d = out[lag::step][: -(-m // step)] - out[:m:step]
    return float(1.4826 * median(np.abs(d)) / math.sqrt(2.0))


def refine_ook_edges(z: np.ndarray, edges: np.ndarray, levels: np.ndarray,
                     coherent: bool = True, cumsum: np.ndarray | None = None) -> np.ndarray:
    """Move each OOK edge to its maximum-likelihood position (a step fit on the raw samples).

    The integrated signal finds the runs reliably but places edges with a jitter that grows
    with the integration length. Each edge is re-estimated from the unsmoothed samples
    between the middles of its two runs: the samples are projected on the carrier phasor of
    the adjacent on run (in-phase noise only, 3 dB better than the magnitude), and the step
    from 0 to that run's level that fits best in least squares is the edge (the extreme of a
    cumulative sum). Without ``coherent`` (a carrier whose phase wanders within a run) the
    step is fitted to the power |z|² between the adjacent runs' mean powers instead.
    ``cumsum``: z's running sum with a leading 0 (complex128), when the caller has it (the
    demodulator's integrator took it already).
    Returns the new edges (same length; first and last unchanged).
    """
    out = edges.copy()
    n_runs = levels.size
    if n_runs < 2:
        return out
    n = z.size
    mids = 0.5 * (edges[:-1] + edges[1:])
    p = z.real ** 2 + z.imag ** 2
    # running sums: every mean below is a difference of two of them (no loop over runs)
    cz = np.concatenate([[0], np.cumsum(z, dtype=np.complex128)]) if cumsum is None else cumsum
    cp = np.concatenate([[0.0], np.cumsum(p, dtype=np.float64)])
    # carrier phasor and mean power of every run: over its middle half
    a, b = edges[:-1], edges[1:]
    q = 0.25 * (b - a)
    i0 = np.ceil(a + q).astype(np.int64)
    i1 = np.floor(b - q).astype(np.int64)
    bad = i1 <= i0
    i0 = np.where(bad, a.astype(np.int64), i0)
    i1 = np.where(bad, np.maximum(np.ceil(b).astype(np.int64), a.astype(np.int64) + 1), i1)
    i0, i1 = np.clip(i0, 0, n), np.clip(i1, 0, n)
    cnt = i1 - i0
    with np.errstate(divide="ignore", invalid="ignore"):
        phasor = np.where(levels == 1, (cz[i1] - cz[i0]) / cnt, 0)
        power = np.where(cnt > 0, (cp[i1] - cp[i0]) / np.maximum(cnt, 1), 0.0)
    # one window per edge, as long on both sides (the shorter run's half), so a long run
    # does not outweigh the short one, and a carrier whose phase wanders is looked at only
    # near the edge
    k = np.arange(n_runs - 1)
    e = edges[1:-1]
    on = np.where(levels[:-1] == 1, k, k + 1)
    hw = np.minimum(e - mids[:-1], mids[1:] - e)
    lo = np.ceil(e - hw).astype(np.int64)
    hi = np.floor(e + hw).astype(np.int64) + 1
    use = hi - lo >= 3
    if coherent:
        # the carrier phasor next to the edge: the on side of the window, clear of the
        # uncertain first quarter
        first = on == k
        ca = np.where(first, e - hw, e + 0.25 * hw)
        cb = np.where(first, e - 0.25 * hw, e + hw)
        j0 = np.ceil(ca).astype(np.int64)
        j1 = np.floor(cb).astype(np.int64) + 1
        near = j1 - j0 >= 2
        j0c, j1c = np.clip(j0, 0, n), np.clip(j1, 0, n)
        with np.errstate(divide="ignore", invalid="ignore"):
            c = np.where(near, (cz[j1c] - cz[j0c]) / np.maximum(j1c - j0c, 1), phasor[on])
        amp = np.abs(c)
        use &= amp > 0
    sel = np.flatnonzero(use)
    if sel.size == 0:
        return np.maximum.accumulate(out)
    lo, hi = lo[sel], np.minimum(hi[sel], n)
    m = hi - lo
    # the windows' samples end to end; segment s holds m[s] of them
    seg = np.repeat(np.arange(sel.size), m)
    pos = np.arange(m.sum()) - np.repeat(np.cumsum(m) - m, m) + np.repeat(lo, m)
    if coherent:
        cs_, as_ = c[sel], amp[sel]
        r = (z[pos] * np.conj(cs_[seg])).real / as_[seg] - 0.5 * as_[seg]
    else:
        r = p[pos] - 0.5 * (power[sel] + power[sel + 1])[seg]
    # rising (off→on): the step is where the running sum bottoms out; falling: where it
    # peaks (the sign flipped, a bottom too)
    rising = levels[sel + 1] == 1
    r = np.where(rising[seg], r, -r)
    g = np.concatenate([[0.0], np.cumsum(r)])
    # per window its running sum from 0 (m + 1 values: the leading 0 included)
    start = np.cumsum(m) - m  # offset of each window in r
    m1 = m + 1
    gi = np.arange(m1.sum()) - np.repeat(np.cumsum(m1) - m1, m1) + np.repeat(start, m1)
    vals = g[gi] - np.repeat(g[start], m1)
    s2 = np.cumsum(m1) - m1
    low = np.minimum.reduceat(vals, s2)
    hit = np.flatnonzero(vals == np.repeat(low, m1))
    j = hit[np.searchsorted(hit, s2)] - s2
    out[sel + 1] = lo + j
    return np.maximum.accumulate(out)


#: runs the chip-period search looks at (the least-squares refinement uses all of them)
CHIP_SEARCH_RUNS = 4096


def chip_period(edges: np.ndarray, search: float = 0.15) -> tuple[float, float]:
    """Base unit Te (samples) of a run sequence and the fraction of runs that fit it (0..1).

    Te is searched within ±``search`` of the mean of the shortest runs for the smallest
    (clipped) squared distance of the inner run durations to whole multiples of it, then
    refined by least squares on the runs that fit. A run fits when it is within 0.3 Te of a
    whole number (1..16) of chips.
    """
    d = np.diff(edges)[1:-1]
    if d.size < 8:
        return 0.0, 0.0
    short = percentile(d, 10)
    base = d[d <= 1.5 * short]
    if short <= 0 or base.size == 0:
        return 0.0, 0.0
    te0 = float(base.mean())
    dd = d[d <= 16.5 * te0]  # long gaps carry little timing information and much jitter
    if dd.size < 8:
        return 0.0, 0.0
    cand = te0 * np.linspace(1 - search, 1 + search, 121)
    # the search needs a few thousand runs at most; a noise burst has 10⁵ (121 × 10⁵ work)
    ds = dd[:CHIP_SEARCH_RUNS]
    n = np.maximum(np.round(ds[None, :] / cand[:, None]), 1)
    r = ds[None, :] - n * cand[:, None]
    cost = np.minimum(r * r, (0.3 * te0) ** 2).mean(axis=1)
    te = float(cand[int(np.argmin(cost))])
    n = np.maximum(np.round(dd / te), 1)
    fit = np.abs(dd - n * te) < 0.3 * te
    if fit.sum() >= 4:
        te = float(np.sum(n[fit] * dd[fit]) / np.sum(n[fit] ** 2))
    return te, float(fit.mean())


def _fill_gaps(v: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``v`` with every invalid sample replaced by the nearest valid one."""
    if valid.all():
        return v
    idx = np.arange(v.size)
    fwd = np.where(valid, idx, 0)
    np.maximum.accumulate(fwd, out=fwd)
    bwd = np.where(valid, idx, v.size - 1)
    bwd = np.minimum.accumulate(bwd[::-1])[::-1]
    near = np.where(valid[fwd] & (((idx - fwd) <= (bwd - idx)) | ~valid[bwd]), fwd, bwd)
    return v[near]


def _local_mean(x: np.ndarray, mask: np.ndarray, w: int) -> np.ndarray | None:
    """Mean of x over the masked samples within w around each sample (gaps filled)."""
    den = moving_average(mask, w)
    valid = den > 0.05
    if not valid.any():
        return None
    return _fill_gaps(moving_average(x * mask, w) / np.maximum(den, 1e-12), valid)


def on_run_middles(edges: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and one-past-last sample (int64) of the middle half of every on run of a
    decision (``edges``, ``levels``): a pulse's steady part, clear of its edges."""
    on = np.flatnonzero(levels == 1)
    a, b = edges[on], edges[on + 1]
    q = 0.25 * (b - a)
    return np.ceil(a + q).astype(np.int64), np.floor(b - q).astype(np.int64)


#: :func:`pulse_phase_continuity` at least this: the carrier's phase carries on across pulses
#: (a steady one drifting a few degrees between pulses reads over 0.95; pulses at random
#: phases 2/π ≈ 0.64 on average)
PULSE_PHASE_CONTINUITY = 0.85


def pulse_phase_continuity(cumsum: np.ndarray, edges: np.ndarray, levels: np.ndarray) -> float:
    """How well the carrier's phase carries on from one on run to the next (0..1).

    cumsum: the carrier-free samples' running sum with a leading 0; edges/levels: a decision.
    Each on run's mean phasor (its middle half) is added to the next one's: the sum's length
    over the two lengths is 1 when their phases agree and cos(Δφ/2) otherwise; weighted by
    length over all consecutive pairs. 1.0 when there are fewer than two on runs.
    """
    i0, i1 = on_run_middles(edges, levels)
    keep = i1 > i0
    if keep.sum() < 2:
        return 1.0
    m = cumsum[i1[keep]] - cumsum[i0[keep]]  # each run's phasor times its length
    pair = np.abs(m[1:] + m[:-1]).sum()
    total = (np.abs(m[1:]) + np.abs(m[:-1])).sum()
    return float(pair / total) if total > 0 else 1.0


def chip_decisions(z: np.ndarray, edges: np.ndarray, levels: np.ndarray, te: float,
                   neighbours: int = 6, coherent: bool = True, with_noise: bool = False
                   ) -> tuple[np.ndarray, ...] | None:
    """OOK decided chip by chip on the burst's recovered chip grid (matched filter per chip).

    z: carrier-free channel samples; edges/levels: a first decision (its edges give the grid
    phase, its on runs the carrier phasor); te: chip length (samples). The grid phase at each
    point is the circular mean of the nearby edges' phases (``neighbours`` each side), so it
    follows slow clock drift and re-locks after a sync gap. Each chip's samples are projected
    on the local carrier phasor and averaged; the chip is on when the average is above half
    the local on level. Returns (edges, levels, per-run margins) or None when there is no
    usable grid; with ``with_noise`` also the noise of a chip's margin (see
    :func:`margin_noise`).
    """
    if te < 2 or levels.size < 4:
        return None
    inner = edges[1:-1]
    if inner.size < 4:
        return None
    ph = np.exp(2j * np.pi * inner / te)
    # sum of the phasors of the edges within ``neighbours`` each side (fewer at the ends; a
    # burst with fewer edges than the window is one window: no convolution, whose "same"
    # output would be as long as the window then, not as the edges)
    cs_ph = np.concatenate([[0], np.cumsum(ph)])
    i = np.arange(inner.size)
    local = cs_ph[np.minimum(i + neighbours + 1, inner.size)] - cs_ph[np.maximum(i - neighbours, 0)]
    theta = np.angle(local)  # grid phase (rad) around each edge
    # every edge moves to the nearest point of its local grid; the stretch between two such
    # points is cut into whole chips, so the grid follows the local phase with no global wrap
    off = ((inner * 2 * np.pi / te - theta + np.pi) % (2 * np.pi) - np.pi) * te / (2 * np.pi)
    g = np.maximum.accumulate(inner - off)
    m = np.round(np.diff(g) / te).astype(int)
    seg = np.flatnonzero(m > 0)
    if seg.size == 0 or int(m.sum()) < 4:
        return None
    reps = m[seg]
    start = np.repeat(g[seg], reps)
    step = np.repeat((g[seg + 1] - g[seg]) / reps, reps)
    j = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    bounds = np.concatenate([start + j * step, [g[seg[-1] + 1]]])
    # local levels from the first decision's runs, averaged over ~8 chips: the carrier
    # phasor (coherent) or the on and off powers (a carrier whose phase wanders)
    mask = _mask_from_runs(edges, levels, z.size).astype(np.float64)
    w = max(3, int(round(8 * te)))
    if coherent:
        c = _local_mean(z, mask, w)
        if c is None:
            return None
        amp = np.abs(c)
        r = np.where(amp > 0, (z * np.conj(c)).real / np.maximum(amp, 1e-30), 0.0)
        lo_level, hi_level = np.zeros(z.size), amp
    else:
        p = z.real ** 2 + z.imag ** 2
        hi_level = _local_mean(p, mask, w)
        lo_level = _local_mean(p, 1.0 - mask, w)
        if hi_level is None or lo_level is None:
            return None
        r = p
    cs = np.concatenate([[0.0], np.cumsum(r)])
    b = np.clip(np.round(bounds).astype(int), 0, z.size)
    lo, hi = b[:-1], b[1:]
    good = hi > lo
    mean = np.where(good, (cs[hi] - cs[lo]) / np.maximum(hi - lo, 1), 0.0)
    centre = np.clip((lo + hi) // 2, 0, z.size - 1)
    mid = 0.5 * (hi_level[centre] + lo_level[centre])
    half = 0.5 * (hi_level[centre] - lo_level[centre])
    chip = (mean > mid).astype(np.int8)
    margin = np.where(half > 0, np.abs(mean - mid) / np.maximum(half, 1e-30), 0.0)
    # runs: leading off (from the window start), the chips, trailing off
    change = np.flatnonzero(chip[1:] != chip[:-1]) + 1
    run_lv = np.concatenate([[chip[0]], chip[change]])
    run_start = np.concatenate([[0], change])
    e = np.concatenate([[0.0], bounds[run_start], [bounds[-1], float(z.size)]])
    lv = np.concatenate([[0], run_lv, [0]]).astype(np.int8)
    mg = np.concatenate([[1.0], np.minimum.reduceat(margin, run_start), [1.0]])
    keep = np.concatenate([[True], lv[1:] != lv[:-1]])
    # merge the window's leading/trailing off with an off chip run next to it
    e = np.concatenate([e[:-1][keep], e[-1:]])
    if with_noise:
        off = chip == 0
        if coherent and off.sum() >= 16 and np.any(half > 0):
            # coherent: an off chip's statistic is the receiver noise alone, projected on
            # the carrier (zero mean); its spread over the typical half separation is the
            # noise of one margin — measured in absolute terms, so it does not inherit the
            # scatter of the local level estimates (a carrier that drifts within the
            # 8-chip average makes the margins spread wider than the noise does)
            sigma = 1.4826 * median(np.abs(mean[off] - lo_level[centre][off]))
            noise = sigma / median(half[half > 0])
        else:  # a power detector's noise grows with the signal: all chips' margins
            noise = margin_noise(margin)
        return e, lv[keep], mg[keep], noise
    return e, lv[keep], mg[keep]


def margin_noise(margins: np.ndarray) -> float:
    """Noise standard deviation of a decision margin, in the margins' unit (half the on/off
    separation), from the scatter of many decisions' margins.

    A decided chip's margin is 1 + n (n its noise over the half separation) when it was
    decided right: the margins' robust spread (1.4826 × the median absolute deviation from
    their median) is the noise of one decision, whatever the SNR, unlike the margins
    themselves. The few wrong decisions (margin 1 − n) sit in the tail the median ignores.
    """
    m = np.asarray(margins, dtype=np.float64)
    if m.size < 8:
        return 0.0
    return float(1.4826 * median(np.abs(m - median(m))))


def phase_coherence(z: np.ndarray, activity: Activity, noise_power: float,
                    cumsum: np.ndarray | None = None) -> float:
    """How much of a keyed carrier's power survives coherent averaging over each pulse (0..1).

    Per carrier-on run (its middle half), |mean z|² over the mean signal power |z|² − noise,
    both corrected for the noise; weighted by run length. A clean carrier gives ≈ 1; phase
    noise or a chirp within the pulses gives less.
    """
    i0, i1 = on_run_middles(activity.edges, activity.levels)
    keep = i1 - i0 >= 4
    if not keep.any():
        return 1.0
    i0, i1 = i0[keep], i1[keep]
    n = (i1 - i0).astype(np.float64)
    # cumsum: z's running sum with a leading 0 when the caller has it (the integrator's)
    cz = np.concatenate([[0], np.cumsum(z, dtype=np.complex128)]) if cumsum is None else cumsum
    # |z|² in float64 (re² + im², as the parts squared and added) and its running sum with a
    # leading 0, written in place: a complex128 z through its float view, one pass per step
    if z.dtype == np.complex128 and z.flags.c_contiguous:
        sq = z.view(np.float64) * z.view(np.float64)
        p = np.add(sq[0::2], sq[1::2])
    else:
        zr, zi = z.real.astype(np.float64, copy=False), z.imag.astype(np.float64, copy=False)
        p = zr ** 2 + zi ** 2
    cp = np.empty(p.size + 1)
    cp[0] = 0.0
    np.cumsum(p, out=cp[1:])
    sig = (cp[i1] - cp[i0]) / n - noise_power
    coh = np.abs((cz[i1] - cz[i0]) / n) ** 2 - noise_power / n
    use = sig > 0
    den = float(np.sum(n[use] * sig[use]))
    return float(np.sum(n[use] * coh[use]) / den) if den > 0 else 1.0


#: an on run at least this long (s) is looked into for pulses keyed under saturation
NESTED_MIN_S = 2e-3
#: shortest keyed run (s) a frame found under saturation may have (most runs longer)
NESTED_MIN_CHIP_S = 80e-6
#: a burst this strong (dBFS; a full-scale tone is 0, a clipped one up to +3) has driven
#: the 8-bit receiver to full scale
SATURATED_DBFS = -1.0


def resolve_nested_keying(z: np.ndarray, dec: Decision, rate: float) -> Decision:
    """Split on runs that are whole frames keyed inside a saturated receiver.

    A transmitter a few metres from the antenna drives an 8-bit receiver tens of dB past
    full scale; when even the carrier it leaks between its pulses (30–50 dB down) is over
    full scale, the ADC clips the whole frame and the keying survives only as a small change
    of the clipped carrier's level (a clipped strong tone is a square wave, a clipped weaker
    one a trapezoid: ≈ 0.2 dB). Integrated over a frame, frame versus gap is then the
    cleanest split and every frame comes out as one long on run. Each on run longer than
    ``NESTED_MIN_S`` and four integration lengths is decided again on its own magnitude
    (phase-free: clipping bends the phase), and when that holds a keyed signal (≥ 8 runs,
    η ≥ 0.75 where noise alone gives 2/π ≈ 0.64, decision SNR ≥ 6 dB, 90 % of the runs at
    least ``NESTED_MIN_CHIP_S`` long, unlike a clipped carrier's own ripple) its runs replace
    it; the weak-signal steps (edge refinement, chip decisions) then run on them. Returns
    ``dec`` itself when nothing was split, else a new non-coherent decision.
    """
    d = np.diff(dec.edges)
    long_on = np.flatnonzero((dec.levels == 1) & (d >= long_run(rate, dec.smoothing)))
    parts = []
    for k in long_on:
        a, b = int(math.ceil(dec.edges[k])), int(math.floor(dec.edges[k + 1]))
        integ = Integrator(np.abs(z[a:b]).astype(np.float64))
        inner = _decide(integ.average, smoothing_lengths(rate, b - a), None, b - a)
        if (inner is None or inner.levels.size < 8 or inner.eta < 0.75
                or inner.decision_snr_db < 6.0):
            continue
        # a clipped carrier's own envelope ripples (|I| and |Q| flat-topped: between 1 and √2
        # at four times its offset): runs of tens of µs. Key-fob chips are ≥ 100 µs.
        runs = np.diff(inner.edges)[1:-1]
        if percentile(runs, 10) < max(6.0, NESTED_MIN_CHIP_S * rate):
            continue
        parts.append((int(k), a, inner))
    if not parts:
        return dec
    edges, levels, margins = splice_runs(dec.edges, dec.levels, dec.margins, parts)
    return Decision(edges, levels, margins, dec.smoothing,
                    min(p[2].decision_snr_db for p in parts), eta=dec.eta, coherent=False)


def long_run(rate: float, smoothing: int) -> float:
    """Runs this long (samples) or longer are decided again on their own by
    :func:`resolve_nested_keying` and :func:`pressed_keying`: ``NESTED_MIN_S`` and four
    integration lengths."""
    return max(NESTED_MIN_S * rate, 4 * smoothing)


#: pulses pressed down by a stronger transmitter are at most this much (dB) under the burst's
#: other pulses; weaker still, they are another transmitter's, heard in this one's gaps
PRESSED_MAX_DB = 20.0
#: ... and their runs are as long as the burst's own (their 10th percentile within this factor
#: of the burst's 25th): the same keying
PRESSED_RUN_RATIO = 2.0
#: decision SNR (dB) the pulses found inside an off run need
PRESSED_MIN_SNR_DB = 10.0
#: ... and their carrier lies this close (Hz) to the burst's other pulses' (the same
#: transmitter; a neighbour 20 kHz or more away leaks in through the channel filter's skirt)
PRESSED_MAX_HZ = 3e3
#: the burst's short gaps (at least this many) hold under this fraction of the pressed pulses'
#: level (median): a jammer presses pulses, it does not fill the gaps between the others
PRESSED_MIN_GAPS = 4
PRESSED_GAP_FRACTION = 0.25
#: an off run is looked into only when its mean magnitude is this many times the short gaps'
#: (a gap of noise reads about 1; at 2, one of development RollJam seed 302's jammed presses
#: was lost)
PRESSED_OVER_GAPS = 1.5


def pressed_keying(x: np.ndarray, edges: np.ndarray, levels: np.ndarray,
                   rate: float, smoothing: int) -> list[tuple[int, int, Decision]]:
    """Off runs of a decision (``edges``, ``levels`` over the channel samples ``x``) that hold
    the burst's own pulses, pressed under its decision level: (run index, first sample, the
    run's own decision) for each.

    A strong transmitter beside the channel (a RollJam jammer tens of kHz away) that drives
    the 8-bit receiver into clipping takes most of its amplitude: while it is on, a fob's
    pulses come out several dB weaker (9 dB under a pulsed jammer 2 dB over the fob, 1 dB
    over full scale: development RollJam seed 304). The burst then has two on levels, and a
    split of the whole burst falls between them: every pulse sent while the jammer was on is
    read as silence, and the frame breaks up into pieces as long as the jammer's pulses.
    Each off run longer than ``NESTED_MIN_S`` and four integration lengths, whose mean holds
    more than noise, is decided again on its own; it holds pressed pulses when that finds
    keying (≥ 4 runs, η ≥ 0.75 where noise alone gives 2/π ≈ 0.64, decision SNR ≥
    ``PRESSED_MIN_SNR_DB``) no more than ``PRESSED_MAX_DB`` under the burst's other pulses,
    with runs as short as theirs (``PRESSED_RUN_RATIO``), on their carrier (within
    ``PRESSED_MAX_HZ``): a weak neighbour keyed in a frame's gaps is far weaker, keyed at its
    own rate or heard through the channel's skirt, and a gap of noise does not split.
    Where such keying was found, an off run with a pulse or two at the pressed level (as long
    as the burst's own, or at the run's end: the rest of the outer pulse beside it) holds
    pulses pressed as the jammer switched. None counts where the burst's short gaps hold
    energy (``PRESSED_GAP_FRACTION`` of the pressed level): a second copy of the keying.
    """
    d = np.diff(edges)
    if d.size < 4:
        return []
    long_min = long_run(rate, smoothing)
    off = np.flatnonzero((levels == 0) & (d >= long_min))
    if off.size == 0:
        return []
    mag = np.abs(x).astype(np.float64)
    cs = Integrator(mag).cumsum

    def mean_over(first: np.ndarray, stop: np.ndarray) -> float:
        n = float(np.sum(stop - first))
        return float(np.sum(cs[stop] - cs[first])) / n if n > 0 else 0.0

    idx = np.clip(np.round(edges).astype(int), 0, mag.size)
    on = np.flatnonzero(levels == 1)
    on_level = mean_over(idx[on], idx[on + 1])
    own_run = percentile(d[1:-1], 25)
    floor = on_level * 10 ** (-PRESSED_MAX_DB / 20)
    # (the outer pulses' edges reach a sample or two into the runs between them)
    trim = max(2, smoothing)
    # the burst's short gaps (between its pulses, pressed or not) hold its noise: a run with
    # pressed pulses in it stands well over them, a gap of noise does not (and costs no
    # decision: most bursts have no pressed pulses, and deciding every gap tripled the cost)
    short = np.flatnonzero((levels == 0) & (d < long_min) & (d > 2 * trim + 2))
    short = short[(short > 0) & (short < d.size - 1)]
    gap_means = (cs[idx[short + 1] - trim] - cs[idx[short] + trim]) / (d[short] - 2 * trim) \
        if short.size >= PRESSED_MIN_GAPS else None
    gap_level = 0.0 if gap_means is None else median(gap_means)
    runs_at = []
    for k in off:
        a, b = int(math.ceil(edges[k])) + trim, int(math.floor(edges[k + 1])) - trim
        # pulses at the floor level filling a tenth of the run at least, standing over the
        # short gaps' noise: anything less is the noise of a gap
        if b - a >= 8:
            level = (cs[b] - cs[a]) / (b - a)
            if level >= 0.1 * floor and level >= PRESSED_OVER_GAPS * gap_level:
                runs_at.append((int(k), a, b))
    if not runs_at:
        return []
    # the lag-one products' running sum: their angle over a set of runs is the carrier there
    cl = np.zeros(mag.size, dtype=np.complex128)
    np.cumsum(x[1:].astype(np.complex128) * np.conj(x[:-1]), out=cl[1:])

    def turn(first: np.ndarray, stop: np.ndarray) -> complex:
        stop = np.maximum(np.minimum(stop, mag.size) - 1, first)
        return complex(np.sum(cl[stop] - cl[first]))

    on_turn = turn(idx[on], idx[on + 1])
    out, ends, levels_found = [], [], []
    for k, a, b in runs_at:
        # the outer split judged what stands over its level (half the pulses') a glitch: a
        # click of the jammer switching, which would take the inner split for itself; and
        # runs under a third of the burst's own are such clicks' dips and edges
        part = np.minimum(mag[a:b], 0.5 * on_level)
        inner = _decide(Integrator(part).average, smoothing_lengths(rate, b - a), None, b - a,
                        min_run=GLITCH_FRACTION * own_run)
        if (inner is None or inner.levels.size < 2 or inner.eta < 0.75
                or inner.decision_snr_db < PRESSED_MIN_SNR_DB):
            continue
        ii = a + np.clip(np.round(inner.edges).astype(int), 0, b - a)
        i_on = np.flatnonzero(inner.levels == 1)
        level = mean_over(ii[i_on], ii[i_on + 1])
        if level < floor:
            continue
        off_hz = abs(np.angle(turn(ii[i_on], ii[i_on + 1]) * np.conj(on_turn))) * rate / (2 * math.pi)
        if off_hz > PRESSED_MAX_HZ:
            continue
        runs = np.diff(inner.edges)[1:-1]
        if inner.levels.size < 4 or runs.size < 2:
            # too few runs to judge their keying: a pulse or two the jammer pressed as it
            # switched (a whole pulse as long as the burst's own, or the rest of one at the
            # run's end, next to the pulse's outer on run)
            whole = i_on[(i_on > 0) & (i_on < inner.levels.size - 1)]
            if np.all(np.diff(inner.edges)[whole] >= own_run / PRESSED_RUN_RATIO):
                ends.append((int(k), a, inner))
            continue
        # (its shortest runs: a frame's header may be the only other one)
        if own_run > 0 and 1 / PRESSED_RUN_RATIO <= percentile(runs, 10) / own_run \
                <= PRESSED_RUN_RATIO:
            out.append((int(k), a, inner))
            levels_found.append(level)
    # such few pulses count only in a burst pressed elsewhere: a carrier a transmitter leaks
    # as it starts up is no pulse
    if not out:
        return []
    # pressed or not, the burst's own gaps are silent. A second copy of the same keying on
    # the same carrier (a demodulate-and-forward relay's beside the fob's own answer, 1.5 ms
    # apart) fills the short gaps between the strong copy's pulses as well as the long ones:
    # its pulses are not the burst's (development relay seeds 316-318: the short gaps held
    # half the level of the pulses found in the long ones, where a jammer's pressed pulses
    # left them at a tenth or less)
    if gap_means is not None \
            and gap_level >= PRESSED_GAP_FRACTION * median(np.array(levels_found)):
        return []
    return sorted(out + ends, key=lambda part: part[0])


def splice_runs(edges: np.ndarray, levels: np.ndarray, margins: np.ndarray | None,
                parts: list[tuple[int, int, Decision]]):
    """``edges``, ``levels`` (and ``margins``) with the runs ``parts`` (as
    :func:`pressed_keying` gives them) put in place of the runs they were found in; an inner
    run at either end joins the outer run next to it when their levels agree."""
    e_parts, l_parts, m_parts = [], [], []
    prev = 0
    for k, a, inner in parts:
        e_parts += [edges[prev:k + 1], a + inner.edges[1:-1]]
        l_parts += [levels[prev:k], inner.levels]
        if margins is not None:
            m_parts += [margins[prev:k], inner.margins]
        prev = k + 1
    e_parts.append(edges[prev:])
    l_parts.append(levels[prev:])
    e, lv = np.concatenate(e_parts), np.concatenate(l_parts).astype(np.int8)
    keep = np.concatenate([[True], lv[1:] != lv[:-1]])
    e = np.concatenate([e[:-1][keep], e[-1:]])
    if margins is None:
        return e, lv[keep], None
    m_parts.append(margins[prev:])
    return e, lv[keep], np.concatenate(m_parts)[keep]


def resolve_pressed_keying(z: np.ndarray, dec: Decision, rate: float) -> Decision:
    """``dec`` with the off runs that hold pulses a stronger transmitter pressed under its
    decision level decided on their own (:func:`pressed_keying`); ``dec`` itself when none
    does, else a new non-coherent decision (the runs were found on the magnitude)."""
    parts = pressed_keying(z, dec.edges, dec.levels, rate, dec.smoothing)
    if not parts:
        return dec
    edges, levels, margins = splice_runs(dec.edges, dec.levels, dec.margins, parts)
    return Decision(edges, levels, margins, dec.smoothing,
                    min([dec.decision_snr_db] + [p[2].decision_snr_db for p in parts]),
                    eta=dec.eta, coherent=False)


def demodulate_ook(y: np.ndarray, rate: float, activity: Activity,
                   carrier_hz: float | None = None, noise_power: float = 0.0,
                   saturated: bool = False) -> tuple[Decision | None, float]:
    """OOK: remove the carrier offset, integrate coherently, slice, then refine every edge.

    carrier_hz: the carrier (Hz from the channel centre) when already measured. noise_power:
    the channel's noise power (linear), for the coherence test. saturated: the burst reached
    the receiver's full scale (then frames keyed under clipping are looked for, see
    :func:`resolve_nested_keying`).
    Returns (decision, carrier offset Hz from the channel centre).
    """
    f = fine_carrier(y, activity.mask, rate) if carrier_hz is None else float(carrier_hz)
    z = y * carrier_phasor(f, rate, y.size)
    lengths = smoothing_lengths(rate, y.size)
    integ = Integrator(z)  # its running sum serves the coherence test too
    if phase_coherence(z, activity, noise_power, integ.cumsum) >= 0.6:
        make = lambda m, i: np.abs(integ.average(m, i))  # noqa: E731
        coherent = True
    else:
        # a carrier with phase noise or a frequency chirp loses coherence within a pulse:
        # integrate its power instead (non-coherently)
        pinteg = Integrator(z.real ** 2 + z.imag ** 2)
        make = lambda m, i: pinteg.average(m, i)  # noqa: E731
        coherent = False
    dec = _decide(make, lengths, None, y.size)
    nested = False
    if dec is not None:
        dec.coherent = coherent
        if saturated:
            inner = resolve_nested_keying(z, dec, rate)
            nested = inner is not dec
            dec = inner
        if not nested:
            # (the second pass below would split the whole burst again, between the two on
            # levels: nested, it is skipped)
            inner = resolve_pressed_keying(z, dec, rate)
            nested = inner is not dec
            dec = inner
    if (dec is not None and not nested and dec.decision_snr_db < SECOND_PASS_DB
            and dec.levels.size > 4):
        # Weak burst: η picked the best trade-off between noise and smearing, but glitches
        # (false runs inside long gaps) are what breaks a frame, and the edges are refined
        # below anyway. Integrate over ¾ of the shortest regular run instead.
        d = np.diff(dec.edges)[1:-1]
        short = percentile(d, 10) if d.size else 0.0
        longer = int(round(0.75 * short))
        if longer > dec.smoothing:
            second = _decide(make, np.array([longer]), None, y.size)
            if second is not None:
                second.coherent = dec.coherent
                dec = second
    if dec is not None and dec.smoothing > 1 and dec.decision_snr_db < SECOND_PASS_DB:
        # weak: the integration that found the runs smeared their edges; place each edge
        # where the raw samples put it (a strong burst was integrated little: its midpoint
        # crossings are already accurate)
        dec.edges = refine_ook_edges(z, dec.edges, dec.levels, dec.coherent, integ.cumsum)
        dec.edges, dec.levels = drop_short_runs(dec.edges, dec.levels, 1.0)
        # jitter now dwarfs any transmitter timing signature worth keeping; if the runs sit on
        # a chip grid, decide chip by chip (a matched filter per chip)
        te, fit = chip_period(dec.edges)
        # the chips are projected on a carrier phasor averaged over ~8 chips, which spans
        # several pulses: only right when the phase carries on from pulse to pulse (a keyed
        # oscillator restarts at a random phase each pulse: then chips decide on power)
        across = dec.coherent and pulse_phase_continuity(
            integ.cumsum, dec.edges, dec.levels) >= PULSE_PHASE_CONTINUITY
        chips = (chip_decisions(z, dec.edges, dec.levels, te, coherent=across,
                                with_noise=True) if fit >= 0.7 else None)
        if chips is not None:
            dec.edges, dec.levels, dec.margins, dec.margin_noise = chips
            dec.grid = te
        if dec.margins.size != dec.levels.size:
            dec.margins = np.resize(dec.margins, dec.levels.size)
    return dec, f


def mixed(y: np.ndarray, rate: float, f: float, mixers: dict | None = None) -> Integrator:
    """The :class:`Integrator` of ``y`` with a tone at ``f`` (Hz) moved to 0 Hz
    (``y · carrier_phasor(f)``). ``mixers``: a dict kept for one ``y`` (a burst's channel
    samples): each tone is then mixed, and its running sum taken, once, whoever asks for it
    (the FSK tone test and the FSK demodulator both integrate the same two tones)."""
    if mixers is not None and f in mixers:
        return mixers[f]
    integ = Integrator(y * carrier_phasor(f, rate, y.size))
    if mixers is not None:
        mixers[f] = integ
    return integ


def demodulate_fsk(y: np.ndarray, rate: float, activity: Activity, f_space: float,
                   f_mark: float, mixers: dict | None = None) -> Decision | None:
    """2-FSK: correlate with both tones over L, mark where the mark tone is stronger.
    ``mixers``: see :func:`mixed`."""
    lengths = smoothing_lengths(rate, y.size)
    # an integration longer than a tone period's beat with the other tone is needed to null it;
    # all lengths still compete on η
    im, is_ = mixed(y, rate, f_mark, mixers), mixed(y, rate, f_space, mixers)
    return _decide(lambda m, i: np.abs(im.average(m, i)) - np.abs(is_.average(m, i)),
                   lengths, activity.mask, y.size)


#: 2-FSK's other tone rises by at least this much (dB) when the keyed one goes off: its
#: level while off is the keyed tone's leakage through the envelope's null (≈ 30 dB down
#: for a tone 3 % off the null) and the tones are within 10 dB of each other, so ≥ 19 dB
#: whenever it stands out of the noise at all (real Honda FSK fobs clipping the receiver:
#: 22.5–31.7 dB). A steady carrier squeezed by a clipping receiver while the pulses are on
#: rises by a few dB, and up to 10.4 dB beside a raw-IQ replay over full scale (a HackRF's
#: LO leak beside a gate remote's frames: fresh held-out fixed-code replay seed 937).
FSK_SWITCH_DB = 15.0
#: ... and in a burst that drove the receiver to full scale, once the carrier is known from
#: its idle runs (:func:`idle_tone`): clipping makes the stronger of two tones capture the
#: ADC, so the carrier drops while the pulses are on, by up to 15.1 dB beside a HackRF's raw
#: replay 44 dB over full scale (fresh held-out fixed-code replay seed 1023); still 4.5 dB
#: under the clipped Honda FSK fobs' least
SATURATED_SWITCH_DB = 18.0
#: a steady carrier holds the gaps between a fob's frames alone (a raw replay's LO leak:
#: 10–25 ms); a fob's own longest run of one tone is a header pulse, a few ms at most
IDLE_MIN_S = 5e-3
#: a keyed tone whose on and off medians differ this much (dB) is resolved by its envelope
KEYED_RESOLVED_DB = 12.0
#: runs at least this many envelope averaging lengths long (median) resolve the keying
#: whatever its contrast: the average settles over (R − L) of a run's R samples, more than
#: half of them, so the medians over on and off samples read settled levels (a clipped raw
#: replay's runs, 2.5–2.7 lengths, differed by only 7.5–9.3 dB: fresh held-out seeds 948, 959)
KEYED_RESOLVED_RUNS = 2.2


def tone_envelope(y: np.ndarray, rate: float, f: float, sep_hz: float,
                  mixers: dict | None = None) -> np.ndarray:
    """Power of the tone at ``f`` (Hz from the channel centre) over time: shifted to 0 Hz and
    averaged over a whole number of periods of its beat with a tone ``sep_hz`` away (a null
    of the moving average sits on the other tone). ``mixers``: see :func:`mixed`."""
    a = mixed(y, rate, f, mixers).average(tone_envelope_length(rate, sep_hz))
    return a.real ** 2 + a.imag ** 2


def tone_envelope_length(rate: float, sep_hz: float) -> int:
    """Samples :func:`tone_envelope` averages over: about 0.1 ms (short against key-fob
    runs), in whole periods of the beat between the two tones."""
    period = rate / max(abs(sep_hz), 1.0)
    return max(2, int(round(max(1, round(1e-4 * rate / period)) * period)))


def steady_rise_db(y: np.ndarray, rate: float, mask: np.ndarray, f_keyed: float,
                   f_other: float, noise_power: float, envelopes: dict | None = None,
                   mixers: dict | None = None,
                   max_rise_db: float = FSK_SWITCH_DB) -> float | None:
    """How much (dB) a second spectral lobe at ``f_other`` rises while an OOK signal at
    ``f_keyed`` is off, when it is a steady carrier beside that signal rather than 2-FSK's
    other tone (Hz from the channel centre); None when it is not (or nothing can be told).

    2-FSK keys its tones in turn: while one is on the other is off, down at the noise. A keyed
    OOK signal beside a carrier that never stops (an SDR replayer's LO leakage, a CW
    interferer; a receiver near clipping may squeeze the carrier a few dB while the pulses
    are on) shows two lobes too. Both tones' power envelopes are measured
    (``tone_envelope``) over the carrier-on samples (``mask``); the keyed one's samples are
    split into on and off (Otsu), and the other tone's median power is compared between the
    two: a steady carrier stays over 4 × ``noise_power`` while the keyed one is on and
    rises by less than ``max_rise_db`` when it goes off. ``envelopes``: a dict kept
    between the calls for the two orders of the same pair of tones (each envelope is then
    computed once). ``mixers``: see :func:`mixed`.
    """
    if mask.sum() < 16:
        return None
    sep = abs(f_other - f_keyed)
    cache = {} if envelopes is None else envelopes
    for f in (f_keyed, f_other):
        if (f, sep) not in cache:
            # carrier-on samples only: between FSK frames both tones are off, no evidence
            cache[(f, sep)] = tone_envelope(y, rate, f, sep, mixers)[mask]
    pa, pb = cache[(f_keyed, sep)], cache[(f_other, sep)]
    amp = np.sqrt(pa)
    sp = otsu_split(amp)
    on = amp >= sp.threshold
    if on.sum() < 8 or (~on).sum() < 8:
        return None
    # the envelopes must resolve the keying: with runs (Manchester FSK's 50 µs half-bits)
    # not much longer than the averaging, both tones smear into each other and look on
    # together; then nothing can be told and FSK stands. Runs of KEYED_RESOLVED_RUNS
    # averaging lengths or more are resolved; shorter ones when the keyed tone's on and off
    # differ by KEYED_RESOLVED_DB (PT2262's 400 µs runs beside an LO leak 5 kHz off,
    # averaged over 190 µs, differ by 18 dB)
    change = np.flatnonzero(on[1:] != on[:-1])
    if change.size < 2:
        return None
    if np.median(np.diff(change)) < KEYED_RESOLVED_RUNS * tone_envelope_length(rate, sep):
        contrast = 10 * math.log10(max(float(np.median(pa[on])), 1e-30)
                                   / max(float(np.median(pa[~on])), 1e-30))
        if contrast < KEYED_RESOLVED_DB:
            return None
    b_on, b_off = float(np.median(pb[on])), float(np.median(pb[~on]))
    if b_on < 4.0 * noise_power:
        return None
    rise = 10 * math.log10(max(b_off, 1e-30) / b_on)
    return rise if rise < max_rise_db else None


def idle_tone(envelopes: dict, f_a: float, f_b: float, rate: float) -> float | None:
    """Which of two tones (Hz from the channel centre) is a steady carrier by its idle runs,
    or None when neither is: the one that holds the carrier-on samples alone (more power
    than the other, sample by sample) for a run of ``IDLE_MIN_S`` or more, at least three
    times the other's longest such run. ``envelopes``: :func:`steady_rise_db`'s cache of
    both tones' power envelopes (both orders of the pair already measured)."""
    sep = abs(f_b - f_a)
    pa, pb = envelopes.get((f_a, sep)), envelopes.get((f_b, sep))
    if pa is None or pb is None or pa.size < 2:
        return None
    edges, levels = mask_runs(pa > pb)
    runs = np.diff(edges)
    longest_a = float(runs[levels == 1].max(initial=0.0))
    longest_b = float(runs[levels == 0].max(initial=0.0))
    for f, mine, theirs in ((f_a, longest_a, longest_b), (f_b, longest_b, longest_a)):
        if mine >= IDLE_MIN_S * rate and mine >= 3 * theirs:
            return f
    return None


def tone_band(y: np.ndarray, rate: float, f: float, sep_hz: float) -> np.ndarray:
    """``y`` with every signal ``sep_hz`` (Hz) from ``f`` nulled: a moving average over one
    period of their beat around ``f``, shifted back (for measuring the keyed tone's activity)."""
    rot = carrier_phasor(f, rate, y.size)
    length = max(1, int(round(rate / max(sep_hz, 1.0))))
    return (moving_average(y * rot, length) * np.conj(rot)).astype(np.complex64)


def cancel_tone(y: np.ndarray, rate: float, f: float, keep_sep_hz: float,
                span_s: float = 1e-3) -> np.ndarray:
    """``y`` with a steady carrier at ``f`` (Hz) taken out, a signal ``keep_sep_hz`` away kept.

    The carrier's slowly varying phasor (it may drift in phase) is its moving average over
    about ``span_s``, rounded to whole periods of the beat with the kept signal so the moving
    average nulls that signal; the phasor is subtracted sample by sample.
    """
    rot = carrier_phasor(f, rate, y.size)
    base = y * rot
    period = rate / max(keep_sep_hz, 1.0)
    length = max(1, int(round(max(1, round(span_s * rate / period)) * period)))
    est = moving_average(base, length)
    return (y - (est * np.conj(rot))).astype(np.complex64)


def choose_modulation(activity: Activity, tones: Tones) -> str:
    """'FSK' when the carrier stays on and the spectrum has two comparable lobes, else 'OOK'."""
    on = activity.levels == 1
    d = np.diff(activity.edges)
    span = activity.edges[-1] - activity.edges[0]
    if on.any():
        first = np.argmax(on)
        last = on.size - 1 - np.argmax(on[::-1])
        span = activity.edges[last + 1] - activity.edges[first]
    duty = float(d[on].sum() / span) if span > 0 else 0.0
    return "FSK" if tones.two_lobes and duty >= 0.7 else "OOK"


def _pulse_train(edges: np.ndarray, levels: np.ndarray, margins: np.ndarray, lo: float, hi: float,
                 burst: "Burst", to_time, **kw) -> PulseTrain | None:
    """Runs clipped to [lo, hi] (channel samples) as a PulseTrain starting at ``lo``."""
    e = np.clip(edges, lo, hi)
    d = np.diff(e)
    keep = d > 0
    if not keep.any():
        return None
    e0 = e[:-1][keep]
    dur_us = d[keep] * 1e6 / burst.iq_rate
    lv = levels[keep]
    mg = margins[keep]
    meta = dict(kw.pop("meta", {}))
    meta["run_margin"] = mg
    pt = PulseTrain(dur_us, lv, t=to_time(e0[0]), meta=meta, **kw)
    if pt.modulation == "OOK":
        pt = pt.trimmed()
        if len(pt) and len(mg) != len(pt):
            # trimmed() drops leading/trailing off runs; keep the margins aligned
            on = np.flatnonzero(lv == 1)
            pt.meta["run_margin"] = mg[on[0]:on[-1] + 1] if on.size else mg[:0]
    return pt if len(pt) else None


def block_power(iq: np.ndarray, n: int) -> np.ndarray:
    """Mean power |x|² of each whole block of ``n`` samples of complex ``iq`` (float64; the
    tail shorter than a block is left out)."""
    m = iq.size // n
    v = np.ascontiguousarray(iq[: m * n]).view(np.float32 if iq.dtype == np.complex64
                                                 else np.float64).reshape(m, 2 * n)
    return np.einsum("ij,ij->i", v, v, dtype=np.float64) / n


#: a continuous burst is keyed when Otsu's split of its smoothed envelope over the first
#: KEYED_SPAN_S (s) explains this share of its variance (two levels; a unimodal spread such as
#: a noise jammer's gives ≈ 0.64, a normal distribution's most) ...
KEYED_ETA = 0.85
#: ... and its two levels stand this far apart (power ratio; a clipped fob's carrier leaking
#: between its pulses is only 2–8 dB under them)
KEYED_LEVEL_RATIO = 1.5
KEYED_SPAN_S = 0.1
#: left out at either end of the channel IQ (s): its fade and the noise around the burst
KEYED_EDGE_S = 2e-3
#: each level must hold at least this share of the span
KEYED_MIN_SHARE = 0.1
#: the envelope is averaged over this long (s) first: a noise jammer's |x|² spreads by 13 dB
#: sample to sample, but by 2–4 dB over 10–80 samples; OOK pulses last 100 µs or more
KEYED_SMOOTH_S = 100e-6


def keyed_envelope(iq: np.ndarray, rate: float) -> bool:
    """True when the start of a burst's channel IQ (``iq`` at ``rate`` Hz) is keyed: its
    envelope, averaged over ``KEYED_SMOOTH_S``, falls into two levels (Otsu's split explains
    ``KEYED_ETA`` of its variance) ``KEYED_LEVEL_RATIO`` or more apart, within the first
    ``KEYED_SPAN_S``.

    The burst detector calls a burst *continuous* when its carrier never drops to the noise,
    and continuous bursts are not demodulated (a CW or noise jammer costs seconds of CPU and
    holds no data). A fob close to the receiver is such a burst too: far over the noise, the
    carrier it leaks between its OOK pulses (25–40 dB down, less once the receiver clips)
    never reaches the noise, and a held button then looks like one long carrier. Its envelope
    still has two levels, a jammer's has one. O(n) on at most ``KEYED_SPAN_S`` of samples."""
    # the channel IQ fades in and out over its first and last ms, and holds a little noise
    # before and after the burst: neither is keying
    edge = int(KEYED_EDGE_S * rate)
    x = iq[edge:max(edge, iq.size - edge)][: int(KEYED_SPAN_S * rate)]
    env = block_power(x, max(1, int(round(KEYED_SMOOTH_S * rate))))
    m = env.size
    if m < 16:
        return False
    sp = otsu_split(env)
    if not (sp.eta >= KEYED_ETA and sp.low > 0 and sp.high >= KEYED_LEVEL_RATIO * sp.low):
        return False
    # both levels held for a fair share of the time (OOK data is on 30–70 % of a frame): a
    # steady carrier with one dip is not keyed
    on = float(np.count_nonzero(env > sp.threshold)) / m
    return KEYED_MIN_SHARE <= on <= 1.0 - KEYED_MIN_SHARE


#: a continuous burst in a channel this wide (Hz) is no fob's, keyed or not: a swept jammer's
#: sweep passes through its channel every period, which keys the channel's envelope too
KEYED_MAX_CHANNEL_HZ = 150e3


def held_fob(burst: "Burst") -> bool:
    """A continuous burst that still carries data: keyed (:func:`keyed_envelope`) in a
    channel narrower than ``KEYED_MAX_CHANNEL_HZ``."""
    return (burst.channel_bw_hz < KEYED_MAX_CHANNEL_HZ
            and keyed_envelope(burst.iq, burst.iq_rate))


def demodulate(burst: "Burst", modulation: str | None = None,
               fsk_min_sep_hz: float = 4000.0, *, _whole: bool = True) -> list[PulseTrain]:
    """Demodulate one burst into pulse trains (one for OOK, and one for each long stretch of
    a weaker transmitter's keying its split left out, see :func:`quiet_active_runs`, whose
    ``meta["sub_burst"]`` is that stretch as a burst of its own; one per carrier-on span for
    FSK).

    modulation: "OOK", "FSK" or None for the automatic choice. Bursts whose carrier cannot be
    told from the noise give an empty list.
    """
    y, rate = burst.iq, burst.iq_rate
    noise = 10 ** (burst.channel_noise_db / 10)
    if modulation is not None and modulation.upper() not in ("OOK", "FSK"):
        raise ValueError(f"unknown modulation {modulation!r}: use 'OOK', 'FSK' or None")
    mask = getattr(burst, "on_mask", None)
    act = activity_from_mask(mask, y, power=False) if mask is not None else None
    tones = None
    if act is not None:
        # the burst detector already measured the carrier activity and the spectrum
        known = getattr(burst, "fsk_tones_hz", None)
        if known is not None:
            lo, hi = (f - burst.channel_offset_hz for f in known)
            tones = Tones(hi, lo, 0.0)
        mod = modulation.upper() if modulation else ("FSK" if known is not None else "OOK")
    else:
        act = carrier_activity(y, rate, noise)
        if act is None:
            return []
        tones = spectral_lobes(y[act.mask], rate, min_sep_hz=fsk_min_sep_hz)
        mod = modulation.upper() if modulation else choose_modulation(act, tones)
    if mod == "FSK" and tones is None:
        tones = spectral_lobes(y[act.mask], rate, min_sep_hz=fsk_min_sep_hz)
    ook_carrier = None
    mixers: dict = {}  # the tones of y mixed to 0 Hz, for the tone test and the FSK decision
    if mod == "FSK" and modulation is None and tones.two_lobes:
        envelopes: dict = {}
        steady = []
        # clipped, the stronger tone captures the ADC and the carrier drops more while the
        # pulses are on: a higher bound, but only for the carrier its idle runs name
        saturated = burst.rssi_db is not None and burst.rssi_db >= SATURATED_DBFS
        bound = SATURATED_SWITCH_DB if saturated else FSK_SWITCH_DB
        for keyed, other in ((tones.peak_hz, tones.second_hz), (tones.second_hz, tones.peak_hz)):
            rise = steady_rise_db(y, rate, act.mask, keyed, other, noise, envelopes, mixers,
                                  max_rise_db=bound)
            if rise is not None:
                steady.append((rise, keyed, other))
        if saturated and steady:
            idle = idle_tone(envelopes, tones.peak_hz, tones.second_hz, rate)
            steady = [s for s in steady if (s[2] == idle if idle is not None
                                             else s[0] < FSK_SWITCH_DB)]
        if steady:
            # not 2-FSK but OOK beside a steady carrier: take the carrier out, measure the
            # keyed signal's activity with the carrier's beat nulled, demodulate OOK. When
            # either lobe could be the carrier, it is the one that moves less as the other
            # keys (a RollJam replayer's LO leak rose 10 dB, the fob's frames it was taken
            # for 14 dB: held-out seed 915)
            _, keyed, other = min(steady)
            sep = abs(other - keyed)
            y = cancel_tone(y, rate, other, sep)
            mixers.clear()  # they mixed the samples before the carrier was taken out
            act = carrier_activity(tone_band(y, rate, keyed, sep), rate, noise)
            if act is None:
                return []
            mod, tones, ook_carrier = "OOK", None, keyed

    def to_time(pos: float) -> float:
        return (burst.iq_start + pos * burst.iq_step) / burst.sample_rate

    base_meta = {"offset_hz": None, "burst_start": burst.start, "burst_stop": burst.stop,
                 "channel_snr_db": burst.channel_snr_db, "continuous": burst.continuous,
                 "truncated_start": burst.truncated_start, "truncated_end": burst.truncated_end,
                 "duty_cycle": burst.duty_cycle, "bandwidth_hz": burst.bandwidth_hz}
    common = dict(rssi_db=burst.rssi_db, snr_db=burst.snr_db, noise_db=burst.noise_db)
    out: list[PulseTrain] = []
    if mod == "FSK":
        if tones.two_lobes:
            f_space, f_mark = sorted((tones.peak_hz, tones.second_hz))
        else:  # forced FSK on a one-lobe burst: split the spectrum's centroid ± nothing to gain
            f_space, f_mark = tones.peak_hz - fsk_min_sep_hz / 2, tones.peak_hz + fsk_min_sep_hz / 2
        # bridge carrier dips shorter than 1 ms: inside an FSK frame they are noise
        act_f = bridge_gaps(act, 1e-3 * rate)
        dec = demodulate_fsk(y, rate, act_f, f_space, f_mark, mixers)
        if dec is None:
            return []
        centre = 0.5 * (f_space + f_mark)
        offset = burst.channel_offset_hz + centre
        meta = dict(base_meta, offset_hz=offset, smoothing_us=dec.smoothing * 1e6 / rate,
                    decision_snr_db=dec.decision_snr_db, margin_noise=dec.noise_of_margins(),
                    fsk_tones_hz=(burst.channel_offset_hz + f_space,
                                                                      burst.channel_offset_hz + f_mark))
        freq = offset + burst.center_freq if burst.center_freq is not None else offset
        on_runs = np.flatnonzero(act_f.levels == 1)
        for k in on_runs:
            lo, hi = act_f.edges[k], act_f.edges[k + 1]
            pt = _pulse_train(dec.edges, dec.levels, dec.margins, lo, hi, burst, to_time,
                              modulation="FSK", freq_hz=freq, fsk_deviation_hz=0.5 * (f_mark - f_space),
                              meta=dict(meta), **common)
            if pt is not None:
                out.append(pt)
        return out
    # the detector measured the carrier of the same samples (unless it saw two lobes)
    known = (ook_carrier if ook_carrier is not None else None if tones is not None
             else burst.offset_hz - burst.channel_offset_hz)
    # the floor the detector learnt may predate a jammer's skirt: take the noise the burst's
    # own carrier-off samples show when that is higher (median of an exponential = ln 2 × mean)
    off = ~act.mask
    if off.sum() >= 64:
        y_off = y[off]
        p_off = y_off.real ** 2 + y_off.imag ** 2
        noise = max(noise, float(median(p_off)) / math.log(2))
    rssi = getattr(burst, "rssi_db", None)
    dec, f = demodulate_ook(y, rate, act, known, noise,
                            saturated=rssi is not None and rssi >= SATURATED_DBFS)
    if dec is None:
        return []
    offset = burst.channel_offset_hz + f
    freq = offset + burst.center_freq if burst.center_freq is not None else offset
    meta = dict(base_meta, offset_hz=offset, smoothing_us=dec.smoothing * 1e6 / rate,
                decision_snr_db=dec.decision_snr_db, margin_noise=dec.noise_of_margins(),
                grid_us=None if dec.grid is None else dec.grid * 1e6 / rate)
    pt = _pulse_train(dec.edges, dec.levels, dec.margins, 0.0, float(y.size), burst, to_time,
                      modulation="OOK", freq_hz=freq, meta=meta, **common)
    out = [pt] if pt is not None else []
    if _whole and ook_carrier is None:
        for a, b in quiet_active_runs(dec.edges, dec.levels, act.mask, rate):
            part = sub_burst(burst, a, b, act.mask)
            for tr in demodulate(part, modulation, fsk_min_sep_hz, _whole=False):
                # another transmitter's: its RF features are measured on this stretch, not
                # on the whole burst (keyguard.pipeline)
                tr.meta["sub_burst"] = part
                out.append(tr)
    return out


#: an off run of an OOK decision at least this long (s), in which the burst detector saw the
#: carrier on ...
QUIET_ACTIVE_MIN_S = 0.05
#: ... for at least this fraction of it, holds another, weaker transmitter's keying
QUIET_ACTIVE_MIN_ON = 0.2
#: (at most this many such runs are demodulated per burst)
QUIET_ACTIVE_MAX_RUNS = 4


def quiet_active_runs(edges: np.ndarray, levels: np.ndarray, mask: np.ndarray,
                      rate: float) -> list[tuple[int, int]]:
    """(first, stop) channel samples of the decision's off runs (``edges``, ``levels``) that
    last ``QUIET_ACTIVE_MIN_S`` or more while the carrier-on ``mask`` is set over
    ``QUIET_ACTIVE_MIN_ON`` of them: pulses the split of the whole burst put under its level.

    A held press that began beside a full-scale weather sensor's message, its carrier 18 kHz
    away and 10 dB under the sensor's leakage in the press's channel, made one 1.5 s burst;
    the split fell between the two on levels, so the press's frames after the sensor stopped
    were one off run 1.2 s long, nothing of the press decoded, and the burst was taken for a
    jammer (fresh benign soak seed 292136). The pulses of another carrier are not those a
    jammer pressed (:func:`pressed_keying` keeps to the burst's own carrier): they are
    demodulated as a burst of their own."""
    d = np.diff(edges)
    runs = np.flatnonzero((levels == 0) & (d >= QUIET_ACTIVE_MIN_S * rate))
    if runs.size == 0:
        return []
    cs = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
    out = []
    for k in runs.tolist():
        a = max(0, int(math.ceil(edges[k])))
        b = min(mask.size, int(math.floor(edges[k + 1])))
        if b - a >= QUIET_ACTIVE_MIN_S * rate and cs[b] - cs[a] >= QUIET_ACTIVE_MIN_ON * (b - a):
            out.append((a, b))
    return out[:QUIET_ACTIVE_MAX_RUNS]


def sub_burst(burst: "Burst", a: int, b: int, mask: np.ndarray) -> "Burst":
    """Channel samples ``a``..``b`` of ``burst`` as a burst of their own, flagged truncated
    where cut, with their own carrier (from the carrier-on ``mask``) and level."""
    step = max(burst.iq_step, 1)
    part = burst.channel_span(a, b, max(burst.iq_start + a * step, burst.start),
                              min(burst.iq_start + b * step, burst.stop), on_mask=mask)
    y, m = part.iq, part.on_mask
    noise = 10 ** (burst.channel_noise_db / 10)
    on = y[m]
    p_on = float(np.mean(power64(on))) if on.size else noise
    rssi = 10 * math.log10(max(p_on - noise, 1e-3 * noise))
    carrier = fine_carrier(y, m, burst.iq_rate) if on.size >= 2 else 0.0
    return replace(part, offset_hz=burst.channel_offset_hz + carrier, rssi_db=rssi,
                   snr_db=rssi - burst.noise_db, channel_snr_db=rssi - burst.channel_noise_db,
                   duty_cycle=float(m.mean()), fsk_tones_hz=None, fsk_lobes_hz=None)
