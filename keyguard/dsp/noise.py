"""Adaptive per-bin noise floor by minimum statistics.

The wideband detector sees the band as a grid of short-time power values (ticks × frequency
bins). Each bin's noise floor is the smallest *chunk mean* (the mean of ``chunk_ticks``
consecutive ticks) over a sliding window of ``window_chunks`` chunks, divided by the expected
value of that minimum for pure noise, which is known exactly: a tick that sums ``dof`` Hann-
windowed FFT frames is Gamma(dof)-distributed in noise, so a chunk mean is Gamma(dof·C)/(dof·C)
and the minimum of m such means has a mean we integrate once at start-up.

Why minimum statistics: a transmission raises its bins for as long as it lasts, so a floor
taken as a mean or median follows a jammer up within seconds and the jammer disappears. The
minimum over the window only rises once a bin has been busy for the whole window (default 8 s),
so bursts, frames and a RollJam jammer running through two presses stay above the floor, while
a slow change of receiver gain is followed within one window. Persistent carriers (the RTL-SDR
DC spike, a spur present from the start) become part of their bin's floor, which is what a
per-bin floor is for.

The floor of chunk k uses chunks ``[k − window + 1, max(k, warmup − 1)]``: the first
``warmup_chunks`` chunks look ahead so that the very first bursts of a capture are measured
against a floor computed from more than one chunk.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import special


@functools.lru_cache(maxsize=16)
def min_gamma_mean_table(shape: float, m_max: int) -> np.ndarray:
    """E[min of m iid Gamma(shape)/shape variables] for m = 0..m_max (index 0 and 1 give 1).

    The bias of a minimum-statistics floor: shape is the number of exponential power values
    summed into one mean, m the number of means the minimum is taken over.
    """
    # E[min] = ∫ P(X > x)^m dx for x ≥ 0, X = Gamma(shape)/shape; the integrand is negligible
    # beyond a dozen standard deviations above the mean.
    hi = 1.0 + 12.0 / math.sqrt(shape)
    x = np.linspace(0.0, hi, 2001)
    log_sf = np.log(np.maximum(special.gammaincc(shape, x * shape), 1e-300))
    m = np.arange(1, m_max + 1)[:, None]
    table = np.trapezoid(np.exp(m * log_sf[None, :]), x, axis=1)
    return np.concatenate([[1.0], table / table[0]])


class NoiseFloor:
    """Streaming per-bin noise floor over chunks of ticks (minimum statistics, bias corrected).

    n_bins: frequency bins. dof: exponential power values summed into one tick value (FFT frames
    per tick). chunk_ticks: ticks per chunk mean. window_chunks: chunks the minimum spans.
    warmup_chunks: chunks the first floors look ahead to.
    """

    def __init__(self, n_bins: int, dof: int, chunk_ticks: int, window_chunks: int,
                 warmup_chunks: int):
        if min(n_bins, dof, chunk_ticks, window_chunks, warmup_chunks) < 1:
            raise ValueError("NoiseFloor sizes must be positive")
        self.n_bins = int(n_bins)
        self.chunk_ticks = int(chunk_ticks)
        self.window_chunks = int(window_chunks)
        self.warmup_chunks = int(min(warmup_chunks, window_chunks))
        shape = float(dof * chunk_ticks)
        #: bias[m] = expected minimum of m noise-only chunk means (m = 1..window)
        self._bias = min_gamma_mean_table(shape, self.window_chunks)
        self._means = np.zeros((self.window_chunks, self.n_bins), dtype=np.float64)
        self._count = 0          # chunks pushed so far
        self._next_floor = 0     # next chunk index whose floor has not been handed out

    @property
    def chunks_pushed(self) -> int:
        return self._count

    def push(self, chunk_mean: np.ndarray) -> None:
        """Add the mean tick power of the next chunk (one value per bin, linear power)."""
        self._means[self._count % self.window_chunks] = chunk_mean
        self._count += 1

    def ready(self, final: bool = False) -> list[np.ndarray]:
        """Floors of the chunks that can be computed now, in chunk order.

        A chunk's floor needs its window and, for the first chunks, the warm-up chunks; with
        ``final`` (end of stream) whatever has been pushed is enough.
        """
        out = []
        while self._next_floor < self._count:
            k = self._next_floor
            last = max(k, self.warmup_chunks - 1)
            if last >= self._count:
                if not final:
                    break
                last = self._count - 1
            first = max(0, last - self.window_chunks + 1)
            if self._count - first > self.window_chunks:
                # the ring no longer holds chunk `first` (only possible for look-ahead floors
                # with a tiny window); start at the oldest chunk still held
                first = self._count - self.window_chunks
            idx = np.arange(first, last + 1) % self.window_chunks
            m = last - first + 1
            out.append(self._means[idx].min(axis=0) / self._bias[m])
            self._next_floor += 1
        return out
