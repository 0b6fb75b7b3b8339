"""Delayed copies at µs scale (amplify-and-forward relays, replays through a second path).

A copy of the signal delayed by τ turns every edge of the envelope into two steps τ apart. The
autocorrelation of the envelope's derivative around the edges then has a secondary peak at τ; a
single clean edge gives a correlation that only decays. The feature is the height of the largest
secondary peak above the running minimum before it, over the zero-lag value.
"""

from __future__ import annotations

import math

import numpy as np


def edge_echo(env: np.ndarray, edges: np.ndarray, fs: float, max_lag_us: float = 40.0
              ) -> tuple[float, float]:
    """(echo ratio, lag µs) from the envelope around ``edges`` (sample indices)."""
    e = env.astype(np.float64)
    if edges.size == 0 or e.size < 8:
        return math.nan, math.nan
    kmax = int(max(3, min(round(fs * max_lag_us * 1e-6), 256)))
    half = kmax + 2
    idx = edges[:, None] + np.arange(-half, 2 * half)[None, :]
    ok = (idx.min(axis=1) >= 0) & (idx.max(axis=1) < e.size - 1)
    if not ok.any():
        return math.nan, math.nan
    w = e[idx[ok]]
    g = np.abs(np.diff(w, axis=1))
    L = g.shape[1]
    r = np.array([np.sum(g[:, :L - k] * g[:, k:]) for k in range(kmax + 1)])
    if r[0] <= 0:
        return math.nan, math.nan
    r = r / r[0]
    runmin = np.minimum.accumulate(r)
    prom = r[2:] - runmin[1:-1]  # a lag-k value above the lowest value at any smaller lag
    k = int(np.argmax(prom))
    return float(max(prom[k], 0.0)), float((k + 2) / fs * 1e6)
