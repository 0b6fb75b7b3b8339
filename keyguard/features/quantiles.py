"""Medians and percentiles of a burst's short measurement arrays, with numpy's values bit for bit.

A burst's features take a dozen medians and percentiles of arrays of tens to a thousand values
(pulse levels, edge times, run widths, spectrum bins). ``np.median`` and ``np.percentile`` cost
20–60 µs a call in Python-level argument handling, more than the partition itself; these take
one ``np.partition`` and the same arithmetic (numpy's mean of the middle pair, numpy's linear
interpolation), so they return the same float64 values, signed zeros and NaNs included.
"""

from __future__ import annotations

import math

import numpy as np


def median(x: np.ndarray) -> float:
    """``float(np.median(x))`` of a 1-D float64 array (NaN when empty or holding a NaN)."""
    n = x.size
    if n == 0:
        return math.nan
    h = n // 2
    # numpy's own partition points (equal values, such as ±0, land where numpy's land)
    part = np.partition(x, [h - 1, h, -1] if n % 2 == 0 else [h, -1])
    if math.isnan(part[-1]):  # NaNs sort last
        return math.nan
    # np.median is np.mean of the middle one or two: a sum from 0.0 over the count
    if n % 2:
        return (0.0 + float(part[h])) / 1
    return (0.0 + float(part[h - 1]) + float(part[h])) / 2


def percentile(x: np.ndarray, q: float) -> float:
    """``float(np.percentile(x, q))`` (linear interpolation) of a 1-D float64 array."""
    n = x.size
    if n == 0:
        return math.nan
    virtual = (n - 1) * (q / 100)
    prev = math.floor(virtual)
    if virtual >= n - 1:  # at the top: numpy takes the last value twice (index −1)
        prev = nxt = -1
    else:
        nxt = prev + 1
    gamma = virtual - prev  # against the index taken, as numpy does
    part = np.partition(x, sorted({0, -1, prev, nxt}))  # numpy's own partition points
    if math.isnan(part[-1]):
        return math.nan
    a, b = float(part[prev]), float(part[nxt])
    # numpy's _lerp: from below under one half, from above at or over it
    diff = b - a
    return b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma
