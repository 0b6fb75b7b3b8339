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
    x = np.linspace(0.0, hi, 1001)
    log_sf = np.log(np.maximum(special.gammaincc(shape, x * shape), 1e-300))
    m = np.arange(1, m_max + 1)[:, None]
    table = np.trapezoid(np.exp(m * log_sf[None, :]), x, axis=1)
    return np.concatenate([[1.0], table / table[0]])


class NoiseFloor:
    """Streaming per-bin noise floor over chunks of ticks (minimum statistics, bias corrected).

    n_bins: frequency bins. dof: exponential power values summed into one tick value (FFT frames
    per tick). chunk_ticks: ticks per chunk mean. window_chunks: chunks the minimum spans.
    warmup_chunks: chunks the first floors look ahead to.

    The window minimum is kept cheap with groups of ``GROUP`` chunks: each full group keeps
    its own minimum, so a floor costs (window/GROUP + GROUP) rows, not a window of rows.
    """

    GROUP = 16

    def __init__(self, n_bins: int, dof: int, chunk_ticks: int, window_chunks: int,
                 warmup_chunks: int):
        if min(n_bins, dof, chunk_ticks, window_chunks, warmup_chunks) < 1:
            raise ValueError("NoiseFloor sizes must be positive")
        self.n_bins = int(n_bins)
        self.chunk_ticks = int(chunk_ticks)
        g = self.GROUP
        # the window is a whole number of groups (≥ 1)
        self.window_chunks = max(g, int(round(window_chunks / g)) * g)
        self.warmup_chunks = int(min(warmup_chunks, self.window_chunks))
        shape = float(dof * chunk_ticks)
        m_max = -(-self.window_chunks // 256) * 256 + g  # a few sizes only: the table caches
        #: bias[m] = expected minimum of m noise-only chunk means
        self._bias = min_gamma_mean_table(shape, m_max)
        self._means: list[np.ndarray] = []           # chunk means not yet folded into a group
        self._first_kept = 0                         # chunk index of _means[0]
        self._groups: list[np.ndarray] = []          # minima of full groups, oldest first
        self._group_first = 0                        # chunk index of the first kept group
        self._groups_min: np.ndarray | None = None   # minimum over _groups
        self._tail_min: np.ndarray | None = None     # minimum over the first _tail_n of _means
        self._tail_n = 0
        self._count = 0
        self._next_floor = 0

    @property
    def chunks_pushed(self) -> int:
        return self._count

    def push(self, chunk_mean: np.ndarray) -> None:
        """Add the mean tick power of the next chunk (one value per bin, linear power)."""
        self._means.append(np.asarray(chunk_mean, dtype=np.float64))
        self._count += 1

    def ready(self, final: bool = False) -> list[np.ndarray]:
        """Floors of the chunks that can be computed now, in chunk order.

        A chunk's floor is the bias-corrected minimum over the window of chunks ending with it
        (for the first chunks: the warm-up chunks, which need looking ahead; with ``final``,
        the end of the stream, whatever has been pushed is enough). Windows start on a group
        boundary, so a floor spans between window − GROUP and window chunks.
        """
        out = []
        g = self.GROUP
        while self._next_floor < self._count:
            k = self._next_floor
            last = max(k, self.warmup_chunks - 1)
            if last >= self._count:
                if not final:
                    break
                last = self._count - 1
            # fold complete groups that precede `last`'s group into group minima
            while self._first_kept + g <= (last // g) * g:
                self._groups.append(np.min(self._means[:g], axis=0))
                del self._means[:g]
                self._first_kept += g
                self._groups_min = None
                self._tail_n = 0  # the running minimum was over chunks now folded
            n_groups_max = self.window_chunks // g - 1
            while len(self._groups) > n_groups_max:
                self._groups.pop(0)
                self._group_first += g
                self._groups_min = None
            if self._groups_min is None and self._groups:
                self._groups_min = np.min(self._groups, axis=0)
            n_tail = last - self._first_kept + 1
            # running minimum of the current group's chunks (extended one chunk at a time)
            while self._tail_n < n_tail:
                m = self._means[self._tail_n]
                self._tail_min = m if self._tail_n == 0 else np.minimum(self._tail_min, m)
                self._tail_n += 1
            low = self._tail_min if self._groups_min is None else (
                self._groups_min if n_tail == 0 else np.minimum(self._groups_min, self._tail_min))
            m_count = len(self._groups) * g + n_tail
            out.append(low / self._bias[min(m_count, self._bias.size - 1)])
            self._next_floor += 1
        return out
