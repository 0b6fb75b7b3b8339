"""Delayed copies at µs scale (amplify-and-forward relays, replays through a second path).

A copy of the signal delayed by τ turns every edge of the envelope into two steps τ apart. The
autocorrelation of the (edge-averaged) envelope derivative then has a secondary peak at τ; a
single clean edge gives a correlation that dies out after its main lobe. The feature is the
largest correlation magnitude past the main lobe, over the zero-lag value.
"""

from __future__ import annotations

import math

import numpy as np


def edge_echo(env: np.ndarray, edges: np.ndarray, fs: float, max_lag_us: float = 40.0
              ) -> tuple[float, float]:
    """(echo ratio, lag µs) from the envelope around ``edges`` (sample indices).

    The edges are averaged first (noise falls by √edges, the edge shape stays), then the
    autocorrelation of the averaged edge's derivative is searched past its main lobe (where it
    first falls below 0.05) for the largest magnitude: a delayed copy adds or removes a second
    step there, a clean edge leaves nothing."""
    e = np.asarray(env, dtype=np.float64)  # read only: no copy
    if edges.size == 0 or e.size < 8:
        return math.nan, math.nan
    kmax = int(max(3, min(round(fs * max_lag_us * 1e-6), 256)))
    half = kmax + 2
    idx = edges[:, None] + np.arange(-half, 2 * half)[None, :]
    ok = (idx.min(axis=1) >= 0) & (idx.max(axis=1) < e.size - 1)
    if not ok.any():
        return math.nan, math.nan
    w = e[idx[ok]]
    # each edge scaled to its own step, so a drooping frame averages cleanly
    step = np.maximum(np.abs(w[:, -half:].mean(axis=1) - w[:, :half // 2].mean(axis=1)), 1e-12)
    g = np.diff(np.mean(w / step[:, None], axis=0))
    L = g.size
    r = np.array([np.dot(g[:L - k], g[k:]) for k in range(kmax + 1)])
    if r[0] <= 0:
        return math.nan, math.nan
    r = r / r[0]
    below = np.flatnonzero(r < 0.05)
    if below.size == 0:
        return 0.0, math.nan
    k0 = max(int(below[0]), 2)
    if k0 > kmax:
        return 0.0, math.nan
    k = k0 + int(np.argmax(np.abs(r[k0:])))
    return float(abs(r[k])), float(k / fs * 1e6)
