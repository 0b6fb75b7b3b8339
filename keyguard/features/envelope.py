"""Envelope of a burst: on/off segmentation and sub-sample edge timing.

Segmentation splits the envelope's log-histogram into two classes (Otsu), then slices with
hysteresis and drops glitches shorter than a few samples, so noise at 10 dB SNR does not cut
pulses. Edges are then timed on the raw envelope against each pulse's own on-level (a drooping
frame keeps correct 10/50/90 % points): linear interpolation between the two samples that
straddle each level gives sub-sample times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from keyguard.features.quantiles import median


@dataclass
class Segmentation:
    """Pulses of a burst, in samples of its IQ.

    rising / falling: sample index of each pulse's first on sample / first off sample after it
    (equal length, rising[i] < falling[i] < rising[i+1]). on_levels: each pulse's interior mean
    envelope; noise_level: mean envelope of the off class; has_gaps: the burst switches off
    inside (OOK) rather than holding a constant envelope (FSK, CW, noise).
    """

    rising: np.ndarray
    falling: np.ndarray
    on_levels: np.ndarray
    on_level: float
    noise_level: float
    has_gaps: bool
    separation_db: float

    @property
    def pulses(self) -> int:
        return int(self.rising.size)


def otsu_split(x: np.ndarray, bins: int = 128) -> tuple[float, float]:
    """Otsu threshold of ``x`` and the between-class separation (difference of class means)."""
    lo, hi = float(np.min(x)), float(np.max(x))
    if not hi > lo:
        return lo, 0.0
    h, edges = _histogram(x, bins, lo, hi)
    c = 0.5 * (edges[:-1] + edges[1:])
    w0 = np.cumsum(h)
    w1 = w0[-1] - w0
    s0 = np.cumsum(h * c)
    m0 = s0 / np.maximum(w0, 1)
    m1 = (s0[-1] - s0) / np.maximum(w1, 1)
    between = w0 * w1 * (m0 - m1) ** 2
    k = int(np.argmax(between[:-1]))
    return float(edges[k + 1]), float(m1[k] - m0[k])


def _histogram(x: np.ndarray, bins: int, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """``np.histogram(x, bins, range=(lo, hi))`` for float64 ``x`` within [lo, hi]: the same
    counts and edges. numpy's first guess of each bin and its ±1 correction against the edges,
    with the corrections as arithmetic on the guesses rather than masked assignments (numpy's
    general path makes four more passes over a burst's samples)."""
    edges = np.linspace(lo, hi, bins + 1)
    idx = ((x - lo) / (hi - lo) * bins).astype(np.intp)
    np.minimum(idx, bins - 1, out=idx)  # x == hi falls in the last bin
    idx -= x < edges[idx]
    idx += (x >= edges[idx + 1]) & (idx != bins - 1)
    return np.bincount(idx, minlength=bins), edges


def deglitch_runs(starts: np.ndarray, levels: np.ndarray, n: int, min_run: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Runs shorter than ``min_run`` samples flipped (never the first or last run), twice, in
    a boolean sequence of ``n`` samples given as its runs (start indices, levels; maximal
    runs, so levels alternate): the runs of the result. Works on the runs alone, a few per
    pulse, instead of every sample."""
    if min_run <= 1:
        return starts, levels
    for _ in range(2):
        lens = np.empty(starts.size, np.intp)
        lens[:-1] = starts[1:] - starts[:-1]
        lens[-1] = n - starts[-1]
        short = np.flatnonzero(lens < min_run)
        short = short[(short > 0) & (short < starts.size - 1)]
        if short.size == 0:
            break
        levels = levels.copy()
        levels[short] ^= True
        # a flipped run joins its neighbours of the same level
        keep = np.ones(starts.size, bool)
        keep[1:] = levels[1:] != levels[:-1]
        starts, levels = starts[keep], levels[keep]
    return starts, levels


def segment(env: np.ndarray, fs: float, min_gap_db: float = 6.0) -> Segmentation:
    """On/off pulses of an envelope sampled at ``fs`` (Hz)."""
    n = env.size
    e = np.asarray(env, dtype=np.float64)  # read only: no copy
    if n < 4 or not np.any(e > 0):
        z = np.zeros(0, np.intp)
        return Segmentation(z, z, np.zeros(0), 0.0, 0.0, False, 0.0)
    # light smoothing (≈ 2 µs) only for slicing; edges are timed on the raw envelope
    k = max(1, int(round(fs * 2e-6)))
    s = np.convolve(e, np.ones(k) / k, mode="same") if k > 1 else e
    ldb = np.maximum(s, 1e-12)  # 20·log10, in place
    np.log10(ldb, out=ldb)
    ldb *= 20.0
    th, sep = otsu_split(ldb)
    on_cls = ldb > th
    if not on_cls.any() or on_cls.all() or sep < min_gap_db:
        # constant envelope: one "pulse" over the whole burst
        lvl = float(e.sum() / n)
        return Segmentation(np.array([0]), np.array([n]), np.array([lvl]), lvl, 0.0, False,
                            float(sep))
    # sums over sizes: np.mean's own bookkeeping costs more than a burst's sum
    on, off = e[on_cls], e[~on_cls]
    a = float(on.sum() / on.size)
    z = float(off.sum() / off.size)
    hi = z + 0.6 * (a - z)
    lo = z + 0.4 * (a - z)
    # hysteresis: the state is the class of the last sample outside (lo, hi), off before the
    # first; built as runs from those samples' class changes, never as a per-sample array
    up = s >= hi
    at = np.flatnonzero(up | (s <= lo))
    cls = up[at]
    change = np.empty(cls.size, bool)
    change[1:] = cls[1:] != cls[:-1]
    change[:1] = cls[:1]  # off before the first decisive sample
    starts = np.concatenate([[0], at[change]])
    run_on = np.zeros(starts.size, bool)
    run_on[1::2] = True  # maximal runs alternate, from off
    if starts.size > 1 and starts[1] == 0:  # on from the first sample
        starts, run_on = starts[1:], run_on[1:]
    min_run = max(2, int(round(fs * 8e-6)))
    starts, run_on = deglitch_runs(starts, run_on, n, min_run)
    rising = starts[run_on]
    falling = starts[~run_on]
    falling = falling[falling > 0]
    if run_on[-1]:
        falling = np.append(falling, n)
    m = min(rising.size, falling.size)
    rising, falling = rising[:m], falling[:m]
    levels = interior_means(e, rising, falling)
    has_gaps = m >= 2 or (m == 1 and (rising[0] > 0 or falling[0] < n))
    return Segmentation(rising, falling, levels, median(levels) if m else a, z,
                        bool(has_gaps), float(sep))


def interior_means(x: np.ndarray, start: np.ndarray, stop: np.ndarray,
                   trim: float = 0.25) -> np.ndarray:
    """Mean of ``x`` over the middle of each [start, stop) span (``trim`` cut at each end)."""
    if start.size == 0:
        return np.zeros(0)
    ln = stop - start
    a = start + np.floor(ln * trim).astype(np.intp)
    b = np.maximum(stop - np.floor(ln * trim).astype(np.intp), a + 1)
    b = np.minimum(b, x.size)
    # the running sum up to the last span's end only (it is sequential: the same values)
    top = int(b.max())
    c = np.empty(top + 1)
    c[0] = 0.0
    np.cumsum(x[:top], dtype=np.float64, out=c[1:])
    return (c[b] - c[a]) / np.maximum(b - a, 1)


def interior_mask(n: int, start: np.ndarray, stop: np.ndarray, trim: float = 0.25) -> np.ndarray:
    """Boolean mask of the middles of spans (as in :func:`interior_means`)."""
    m = np.zeros(n + 1, np.int32)
    ln = stop - start
    a = start + np.floor(ln * trim).astype(np.intp)
    b = np.maximum(stop - np.floor(ln * trim).astype(np.intp), a + 1)
    np.add.at(m, np.minimum(a, n), 1)
    np.add.at(m, np.minimum(b, n), -1)
    return np.cumsum(m[:-1]) > 0


def span_labels(n: int, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Index of the span [start, stop) holding each of ``n`` samples, -1 outside every span
    (spans must not overlap)."""
    if start.size == 0:
        return np.full(n, -1, np.intp)
    marks = np.zeros(n + 1, np.intp)
    ok = stop > start
    s, e, k = np.minimum(start[ok], n), np.minimum(stop[ok], n), np.flatnonzero(ok)
    # spans do not overlap, so starts (and stops) are distinct below n, where marks are kept;
    # a stop may fall on the next span's start, hence two separate additions
    marks[s] += k + 1
    marks[e] -= k + 1
    lab = np.cumsum(marks[:-1])  # the span's index + 1 inside a span, 0 outside
    lab -= 1
    return lab


def span_indices(start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sample indices inside spans [start, stop) in order, and the index of the span each
    lies in: ``flatnonzero(labels >= 0)`` and ``labels`` there for ``labels =
    span_labels(n, start, stop)`` (spans ascending, not overlapping; empty ones hold none),
    built from the spans alone rather than over all n samples."""
    lens = np.maximum(stop - start, 0)
    which = np.repeat(np.arange(start.size), lens)
    # each span's first index, less the number of indices before it
    idx = (start - (np.cumsum(lens) - lens))[which]
    idx += np.arange(which.size)
    return idx, which


def _windows(x: np.ndarray, centres: np.ndarray, half: int) -> np.ndarray:
    idx = centres[:, None] + np.arange(-half, half)[None, :]
    np.maximum(idx, 0, out=idx)  # np.clip's wrapper costs more than both passes
    np.minimum(idx, x.size - 1, out=idx)
    return x[idx]


def _first_at_or_above(w: np.ndarray, lvl: np.ndarray, start: np.ndarray) -> np.ndarray:
    cols = np.arange(w.shape[1])[None, :]
    ok = (w >= lvl[:, None]) & (cols >= start[:, None])
    i = np.argmax(ok, axis=1)
    return np.where(ok.any(axis=1), i, -1)


def _last_below_before(w: np.ndarray, lvl: np.ndarray, before: np.ndarray) -> np.ndarray:
    cols = np.arange(w.shape[1])[None, :]
    ok = (w < lvl[:, None]) & (cols < before[:, None])
    rev = np.argmax(ok[:, ::-1], axis=1)
    i = w.shape[1] - 1 - rev
    return np.where(ok.any(axis=1), i, -1)


def _interp_up(w: np.ndarray, i: np.ndarray, lvl: np.ndarray) -> np.ndarray:
    """Fractional position where the rising windows cross ``lvl`` between i-1 and i (``i`` and
    ``lvl`` may hold several crossings per window: k·rows values, window by window k times)."""
    r = np.tile(np.arange(w.shape[0]), i.size // w.shape[0])
    i = np.minimum(np.maximum(i, 1), w.shape[1] - 1)
    a, b = w[r, i - 1], w[r, i]
    frac = np.where(b > a, (lvl - a) / np.where(b > a, b - a, 1.0), 1.0)
    # clipped to [0, 1] (frac is never −0: lvl > 0)
    return i - 1 + np.minimum(np.maximum(frac, 0.0), 1.0)


def edge_times(env: np.ndarray, seg: Segmentation, fs: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sub-sample 50 % crossing times (samples) of every rising and falling edge, and each
    edge's 10–90 % duration (µs; NaN where noise hides it): (rise50, fall50, rise_us, fall_us)."""
    e = np.asarray(env, dtype=np.float64)  # read only: no copy
    n = e.size
    if seg.pulses == 0:
        z = np.zeros(0)
        return z, z, z, z
    # window: ± the shortest pulse/gap so neighbouring edges stay out, at least 3 samples
    widths = np.diff(np.sort(np.concatenate([seg.rising, seg.falling])))
    widths = widths[widths > 0]
    half = int(max(3, min(np.min(widths) if widths.size else 64, round(fs * 60e-6))))
    zlvl = seg.noise_level
    amp = np.maximum(seg.on_levels - zlvl, 1e-12)

    # a falling edge is a rising edge of the time-reversed envelope: both kinds are timed in
    # one pass over their windows, rising edges first
    m = seg.pulses
    centres = np.concatenate([seg.rising, n - seg.falling])
    w = np.concatenate([_windows(e, seg.rising, half), _windows(e[::-1], centres[m:], half)])
    amp2 = np.concatenate([amp, amp])
    l10, l50, l90 = zlvl + 0.1 * amp2, zlvl + 0.5 * amp2, zlvl + 0.9 * amp2
    i50 = _first_at_or_above(w, l50, np.zeros(centres.size, np.intp))
    i90 = _first_at_or_above(w, l90, np.maximum(i50, 0))
    i10 = _last_below_before(w, l10, np.where(i90 >= 0, i90, w.shape[1]))
    # the three crossings of every window interpolated in one pass
    t50, t90, t10 = np.split(_interp_up(
        w, np.concatenate([i50, i90, np.minimum(i10 + 1, w.shape[1] - 1)]),
        np.concatenate([l50, l90, l10])), 3)
    # edges at the burst's own boundary (IQ starts or ends mid-pulse) cannot be timed
    valid = np.concatenate([seg.rising > 0, seg.falling < n])
    ok = valid & (i50 >= 0) & (i90 >= 0) & (i10 >= 0) & (i10 < i90)
    dur = np.where(ok, (t90 - t10) / fs * 1e6, np.nan)
    pos = np.where(valid & (i50 >= 0), centres - half + t50, np.nan)
    f50 = (n - 1) - pos[m:]  # reversed index k is original index n-1-k
    return pos[:m], f50, dur[:m], dur[m:]


def moments(x: np.ndarray) -> tuple[float, float, float, float]:
    """Mean, standard deviation, skewness and excess kurtosis (NaN for fewer than 4 values)."""
    if x.size < 4:
        return (math.nan,) * 4
    n = x.size
    m = float(x.sum() / n)
    d = x - m
    d2 = d * d
    v = float(d2.sum() / n)
    if v <= 0:
        return m, 0.0, 0.0, 0.0
    sd = math.sqrt(v)
    # products, not ``d ** 3``: numpy's integer powers above 2 go through pow(), ~50× slower
    return m, sd, float((d2 * d).sum() / n) / sd ** 3, float((d2 * d2).sum() / n) / v ** 2 - 3.0


#: the envelope is smoothed over this many µs before its ripple inside pulses is measured:
#: receiver noise (as wide as the channel) averages down while a beat between two carriers a
#: few kHz apart (a period of 100 µs or more) passes
BEAT_SMOOTH_US = 40.0


def steady_spans(rising: np.ndarray, falling: np.ndarray, fs: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Each pulse's steady part [start, stop) in samples (unclipped): past the turn-on and its
    chirp (10 µs or a fifth of the pulse, whichever is longer) and before the fall (the last
    tenth)."""
    ln = falling - rising
    skip = np.maximum(np.round(fs * 10e-6), np.floor(0.2 * ln)).astype(np.intp)
    tail = np.floor(0.1 * ln).astype(np.intp) + 1
    return rising + skip, falling - tail


def pulse_beats(env: np.ndarray, seg: Segmentation, fs: float) -> np.ndarray:
    """Per pulse, the ripple of the smoothed envelope over the pulse's steady part: the std of
    the envelope (moving mean over ``BEAT_SMOOTH_US``) over its mean there (pulses whose
    steady part is too short to hold two smoothing windows are left out).

    A keyed oscillator holds a flat envelope; a second transmitter keyed over it on another
    carrier Δf away makes the two beat at Δf, swinging the envelope between the difference and
    the sum of their amplitudes, in the pulses the two share and in no others."""
    w = max(1, int(round(fs * BEAT_SMOOTH_US * 1e-6)))
    if seg.pulses == 0 or env.size < w:
        return np.zeros(0)
    c = np.empty(env.size + 1)
    c[0] = 0.0
    np.cumsum(env, out=c[1:])
    # windows [k, k + w) inside each pulse's steady part, for k in [a0, b0)
    a0, b = steady_spans(seg.rising, seg.falling, fs)
    b0 = np.maximum(b - w + 1, a0)
    idx, lab = span_indices(a0, b0)
    n = np.bincount(lab, minlength=seg.pulses)
    keep = n >= max(4, 2 * w)
    if not keep.any():
        return np.zeros(0)
    sm = (c[idx + w] - c[idx]) / w
    mean = np.bincount(lab, sm, minlength=seg.pulses) / np.maximum(n, 1)
    rel = sm / np.maximum(mean[lab], 1e-12) - 1.0
    var = np.bincount(lab, rel * rel, minlength=seg.pulses) / np.maximum(n, 1)
    return np.sqrt(var[keep])
