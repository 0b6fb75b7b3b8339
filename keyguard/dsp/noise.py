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
    arg = m * log_sf[None, :]
    # e^−700 ≈ 1e−304 is far below the last bit of any row's integral (≥ 1e−3: the integrand
    # starts at 1), so it counts as 0 and is not computed: exp's underflow handling made the
    # large-m rows cost ten times the others
    y = np.zeros(arg.shape)
    np.exp(arg, out=y, where=arg > -700.0)
    table = np.trapezoid(y, x, axis=1)
    return np.concatenate([[1.0], table / table[0]])


class NoiseFloor:
    """Streaming per-bin noise floor over chunks of ticks (minimum statistics, bias corrected).

    n_bins: frequency bins. dof: exponential power values summed into one tick value (FFT frames
    per tick). chunk_ticks: ticks per chunk mean. window_chunks: chunks the minimum spans.
    warmup_chunks: chunks the first floors look ahead to.

    The window minimum is kept cheap with groups of ``GROUP`` chunks: each full group keeps
    its own minimum, so a floor costs (window/GROUP + GROUP) rows, not a window of rows, and a
    batch of chunks costs a few whole-array operations (a running minimum within each group),
    not a Python step per chunk.
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
        self._pending = np.zeros((0, self.n_bins))  # chunk means pushed, floors not given yet
        self._first_pending = 0                     # chunk index of _pending[0]
        # minima of the last full groups (at most the window's groups before the current one),
        # in the rows of a ring: their minimum is taken over an array, not a list of rows
        # (which numpy would copy into one first, at every group's end)
        self._groups = np.zeros((max(1, self.window_chunks // g - 1), self.n_bins))
        self._n_groups = 0                           # full groups held (≤ rows of _groups)
        self._groups_next = 0                        # row the next full group goes to
        self._groups_min: np.ndarray | None = None   # minimum over the held groups
        self._tail_min: np.ndarray | None = None     # minimum over the current group's chunks so far
        self._count = 0
        self._next_floor = 0

    @property
    def chunks_pushed(self) -> int:
        return self._count

    def push(self, chunk_mean: np.ndarray) -> None:
        """Add the mean tick power of the next chunk (one value per bin, linear power)."""
        self.push_many(np.asarray(chunk_mean, dtype=np.float64)[None, :])

    def push_many(self, chunk_means: np.ndarray) -> None:
        """Add the mean tick power of the next chunks (rows = chunks, columns = bins)."""
        m = np.asarray(chunk_means, dtype=np.float64)
        if m.ndim != 2 or m.shape[1] != self.n_bins:
            raise ValueError(f"chunk means must have shape (chunks, {self.n_bins})")
        self._pending = np.concatenate([self._pending, m]) if self._pending.size else m
        self._count += m.shape[0]

    def ready(self, final: bool = False) -> list[np.ndarray]:
        """Floors of the chunks that can be computed now, in chunk order (one array each);
        see :meth:`ready_array`."""
        return list(self.ready_array(final))

    def ready_array(self, final: bool = False) -> np.ndarray:
        """Floors of the chunks that can be computed now, in chunk order (chunks × bins).

        A chunk's floor is the bias-corrected minimum over the window of chunks ending with it
        (for the first chunks: the warm-up chunks, which need looking ahead; with ``final``,
        the end of the stream, whatever has been pushed is enough). Windows start on a group
        boundary, so a floor spans between window − GROUP and window chunks.
        """
        empty = np.zeros((0, self.n_bins))
        if self._next_floor >= self._count:
            return empty
        lead = []
        if self._next_floor < self.warmup_chunks - 1:
            # the first chunks all take the floor of the last warm-up chunk (look-ahead)
            last = self.warmup_chunks - 1
            if last >= self._count:
                if not final:
                    return empty
                last = self._count - 1
            floors = self._advance(last)
            lead = [np.repeat(floors[-1:], last + 1 - self._next_floor, axis=0)]
            self._next_floor = last + 1
        if self._count > self._next_floor:
            lead.append(self._advance(self._count - 1))
            self._next_floor = self._count
        return np.concatenate(lead) if len(lead) > 1 else (lead[0] if lead else empty)

    def _advance(self, last: int) -> np.ndarray:
        """Fold chunks up to ``last`` into the window; the floors of the chunks folded now."""
        g = self.GROUP
        n_keep = self.window_chunks // g - 1   # full groups kept before the current one
        out = []
        while self._first_pending <= last:
            k0 = self._first_pending
            seg_end = min(last + 1, (k0 // g + 1) * g)   # the rest of k0's group, up to last
            seg = self._pending[: seg_end - k0]
            run = np.minimum.accumulate(seg, axis=0)
            if self._tail_min is not None and k0 % g:
                np.minimum(run, self._tail_min, out=run)
            self._tail_min = run[-1].copy()
            # chunks in each floor's window: the kept groups and its own group up to it
            m = self._n_groups * g + (np.arange(k0, seg_end) % g) + 1
            low = run if self._groups_min is None else np.minimum(run, self._groups_min)
            out.append(low / self._bias[np.minimum(m, self._bias.size - 1)][:, None])
            self._pending = self._pending[seg_end - k0:]
            self._first_pending = seg_end
            if seg_end % g == 0:  # the group is complete: it joins the window's groups
                # (in the oldest one's row once the window is full; a minimum has no order)
                if n_keep > 0:
                    self._groups[self._groups_next] = self._tail_min
                    self._groups_next = (self._groups_next + 1) % n_keep
                    self._n_groups = min(self._n_groups + 1, n_keep)
                self._tail_min = None
                self._groups_min = (np.minimum.reduce(self._groups[:self._n_groups], axis=0)
                                    if self._n_groups else None)
        return np.concatenate(out) if len(out) > 1 else out[0]
