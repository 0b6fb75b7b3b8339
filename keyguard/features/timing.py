"""Symbol timing of a burst from its run widths: base unit Te, its error against the profile,
and the timing jitter (a transmitter's bit clock is part of its fingerprint: HCS RC oscillators
run ±10 % off, CC1101 replayers within 0.2 %)."""

from __future__ import annotations

import math

import numpy as np

from keyguard.features.quantiles import median, percentile


def te_estimate(widths_us: np.ndarray) -> tuple[float, float]:
    """(Te µs, jitter µs) from run widths (µs) of a line code built on multiples of Te.

    Te starts at the 20th percentile of the widths (short runs are the commonest symbol part in
    PWM, PPM and Manchester alike), then is refined by least squares over every run within 4 Te
    as ``k·Te`` with ``k = round(width / Te)``; the jitter is the RMS residual of that fit."""
    w = np.asarray(widths_us, dtype=np.float64)
    w = w[np.isfinite(w) & (w > 0)]
    if w.size < 4:
        return math.nan, math.nan
    te0 = percentile(w, 20)
    near = w[(w > 0.6 * te0) & (w < 1.4 * te0)]
    if near.size:
        te0 = median(near)
    k = np.round(w / te0)
    use = (k >= 1) & (k <= 4) & (np.abs(w - k * te0) < 0.35 * te0)
    if use.sum() < 3:
        return te0, math.nan
    kw, ww = k[use], w[use]
    te = float(np.sum(kw * ww) / np.sum(kw * kw))
    resid = ww - kw * te
    return te, math.sqrt(float((resid * resid).sum() / resid.size))


def run_widths_us(rise: np.ndarray, fall: np.ndarray, fs: float) -> np.ndarray:
    """On and off run widths (µs) from sub-sample edge times (samples); NaN edges drop out."""
    on = fall - rise
    off = rise[1:] - fall[:-1]
    w = np.concatenate([on, off]) / fs * 1e6
    return w[np.isfinite(w) & (w > 0)]
