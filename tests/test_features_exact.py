"""The features' faster paths give the plain computations' values bit for bit (the feature
vectors of every burst must not move when a computation is made cheaper)."""

import numpy as np
import pytest
import scipy.fft

from keyguard.features.envelope import _histogram, span_indices, span_labels
from keyguard.features.frequency import _band_in_place, fft_freqs
from keyguard.features.quantiles import median, percentile


def _same(a, b) -> bool:
    return np.asarray(a, np.float64).tobytes() == np.asarray(b, np.float64).tobytes()


def _samples(rng, n):
    kind = rng.integers(5)
    if kind == 0:
        return rng.normal(size=n)
    if kind == 1:  # ties
        return rng.integers(-3, 3, size=n) * 0.5
    if kind == 2:  # signed zeros: which one a partition leaves in the middle matters
        return rng.choice([-0.0, 0.0, 1.0, -1.0], size=n)
    if kind == 3:
        return rng.exponential(size=n) * 1e3
    x = rng.normal(size=n)
    x[rng.integers(n)] = rng.choice([np.nan, np.inf, -np.inf, -0.0])
    return x


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_median_and_percentile_are_numpys():
    rng = np.random.default_rng(0)
    for t in range(4000):
        x = _samples(rng, int(rng.integers(1, 40 if t % 2 else 1500)))
        assert _same(median(x), np.median(x)), x
        for q in (10, 20, 50, 33.3, 90):
            assert _same(percentile(x, q), np.percentile(x, q)), (q, x)
    assert np.isnan(median(np.zeros(0)))


def test_histogram_is_numpys():
    rng = np.random.default_rng(1)
    for t in range(300):
        x = 20 * np.log10(np.abs(rng.normal(size=int(rng.integers(2, 5000)))) + 1e-6)
        if t % 3 == 0:  # values on the bin edges themselves
            x = np.concatenate([x, np.linspace(x.min(), x.max(), 129)])
        lo, hi = float(x.min()), float(x.max())
        h, e = np.histogram(x, bins=128, range=(lo, hi))
        h2, e2 = _histogram(x, 128, lo, hi)
        assert np.array_equal(h, h2) and e.tobytes() == e2.tobytes()


def test_span_indices_are_the_labelled_samples():
    rng = np.random.default_rng(2)
    for _ in range(300):
        n = int(rng.integers(1, 400))
        cuts = np.sort(rng.integers(0, n + 1, size=2 * int(rng.integers(0, 12))))
        start, stop = cuts[0::2], cuts[1::2]
        lab = span_labels(n, start, stop)
        idx, which = span_indices(start, stop)
        assert np.array_equal(idx, np.flatnonzero(lab >= 0))
        assert np.array_equal(which, lab[idx])


def test_band_by_slices_is_the_bin_mask():
    rng = np.random.default_rng(3)
    fs = 250e3
    for size in (977, 4096, 11451, 30011):
        x = (rng.normal(size=size) + 1j * rng.normal(size=size)).astype(np.complex64)
        n = scipy.fft.next_fast_len(size)
        for f0 in (0.0, -770.68, 12_345.6, -fs / 2 + 3e3, fs / 2 - 100.0, 110e3):
            spec = scipy.fft.fft(x.astype(np.complex128), n, workers=1)
            spec[np.abs(fft_freqs(n, fs) - f0) > 15e3] = 0.0
            plain = scipy.fft.ifft(spec, workers=1, overwrite_x=True)[:size]
            buf = np.zeros(n, np.complex128)
            buf[:size] = x
            assert plain.tobytes() == _band_in_place(buf, size, fs, f0, 15e3).tobytes()


def _plain_segment_edges(env, fs):
    """segment()'s hysteresis and deglitching as first written, sample by sample."""
    from keyguard.features.envelope import otsu_split
    n = env.size
    ldb = 20.0 * np.log10(np.maximum(env, 1e-12))
    th, _sep = otsu_split(ldb)
    on_cls = ldb > th
    a, z = env[on_cls].sum() / on_cls.sum(), env[~on_cls].sum() / (~on_cls).sum()
    hi, lo = z + 0.6 * (a - z), z + 0.4 * (a - z)
    idx = np.maximum.accumulate(np.where((env >= hi) | (env <= lo), np.arange(n), -1))
    state = np.where(idx >= 0, env[np.maximum(idx, 0)] >= hi, False)
    min_run = max(2, int(round(fs * 8e-6)))
    for _ in range(2):
        starts = np.concatenate([[0], np.flatnonzero(state[1:] != state[:-1]) + 1])
        lens = np.diff(np.concatenate([starts, [n]]))
        short = np.flatnonzero(lens < min_run)
        short = short[(short > 0) & (short < starts.size - 1)]
        if short.size == 0:
            break
        flip = np.zeros(starts.size, bool)
        flip[short] = True
        state = state ^ np.repeat(flip, lens)
    d = np.diff(state.astype(np.int8))
    rising, falling = np.flatnonzero(d == 1) + 1, np.flatnonzero(d == -1) + 1
    if state[0]:
        rising = np.concatenate([[0], rising])
    if state[-1]:
        falling = np.concatenate([falling, [n]])
    m = min(rising.size, falling.size)
    return rising[:m], falling[:m]


def test_segment_runs_are_the_sample_by_sample_hysteresis():
    from keyguard.features.envelope import segment
    rng = np.random.default_rng(4)
    fs = 250e3
    for t in range(200):
        n = int(rng.integers(200, 3000))
        keyed = np.repeat(rng.random(n // 8 + 1) < 0.5, 8)[:n]
        if t % 4 == 0:
            keyed[:] = keyed[0]  # on (or off) from the first sample to the last
            keyed[n // 3: n // 2] = not keyed[0]
        env = np.abs(keyed * 1.0 + rng.normal(0, 0.05 + 0.3 * rng.random(), n)) + 1e-3
        seg = segment(env, fs)
        if not seg.has_gaps:
            continue
        rising, falling = _plain_segment_edges(env, fs)
        assert np.array_equal(seg.rising, rising) and np.array_equal(seg.falling, falling)
