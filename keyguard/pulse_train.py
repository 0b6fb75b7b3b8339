"""Pulse trains: a burst as alternating on/off durations (µs).

A pulse train is the common currency between stages: demodulators produce it from IQ, Flipper
``.sub`` and rtl_433 ``.ook`` files hold it directly, slicers turn it into bits, protocol encoders
produce it and the simulator renders it back into IQ. For OOK, level 1 is carrier on; for 2-FSK,
level 1 is the mark (the higher) frequency.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator

import numpy as np


@dataclass
class PulseTrain:
    """One burst as (level, duration) runs with strictly alternating levels.

    durations_us: float64 array of run lengths in µs.
    levels: int8 array of 0/1, same length, adjacent entries differ.
    t: start time of the first run, seconds from the first sample of the capture.
    modulation: "OOK" or "FSK".
    freq_hz: carrier (absolute Hz when the centre is known, else offset from centre), or None.
    rssi_db, snr_db, noise_db: levels measured by the demodulator (dB), None when unknown.
    fsk_deviation_hz: for FSK, half the mark/space separation (Hz), None otherwise.
    """

    durations_us: np.ndarray
    levels: np.ndarray
    t: float = 0.0
    modulation: str = "OOK"
    freq_hz: float | None = None
    rssi_db: float | None = None
    snr_db: float | None = None
    noise_db: float | None = None
    fsk_deviation_hz: float | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        d = np.asarray(self.durations_us, dtype=np.float64).ravel()
        lv = np.asarray(self.levels, dtype=np.int8).ravel()
        if d.shape != lv.shape:
            raise ValueError("durations_us and levels must have the same length")
        if d.size and (np.any(d < 0) or not np.all(np.isfinite(d))):
            raise ValueError("durations must be finite and non-negative")
        self.durations_us, self.levels = _merge_runs(d, lv)

    # construction -------------------------------------------------------------------------
    @classmethod
    def from_signed_us(cls, values: Iterable[float], **kw) -> "PulseTrain":
        """From Flipper-style signed durations: +µs carrier on, −µs off. Same-sign runs merge."""
        v = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=np.float64)
        v = v[v != 0]
        return cls(np.abs(v), (v > 0).astype(np.int8), **kw)

    @classmethod
    def from_pairs(cls, pulses_us: Iterable[float], gaps_us: Iterable[float], **kw) -> "PulseTrain":
        """From rtl_433-style (pulse, gap) pairs: each pair is an on run then an off run."""
        p = np.asarray(list(pulses_us), dtype=np.float64)
        g = np.asarray(list(gaps_us), dtype=np.float64)
        if p.shape != g.shape:
            raise ValueError("pulses and gaps must pair up")
        d = np.empty(2 * p.size)
        d[0::2], d[1::2] = p, g
        lv = np.tile(np.array([1, 0], dtype=np.int8), p.size)
        keep = d > 0
        return cls(d[keep], lv[keep], **kw)

    # views --------------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.durations_us.size)

    @property
    def duration_us(self) -> float:
        return float(self.durations_us.sum())

    @property
    def t_end(self) -> float:
        return self.t + self.duration_us * 1e-6

    def signed_us(self) -> np.ndarray:
        """Durations with sign = level (+ on, − off), as Flipper writes them."""
        return np.where(self.levels == 1, self.durations_us, -self.durations_us)

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """rtl_433-style (pulse, gap) pairs; leading off time is dropped, a missing last gap is 0."""
        d, lv = self.durations_us, self.levels
        if d.size and lv[0] == 0:
            d, lv = d[1:], lv[1:]
        n = (d.size + 1) // 2
        pulses = d[0::2][:n]
        gaps = np.zeros(n)
        g = d[1::2]
        gaps[: g.size] = g
        return pulses, gaps

    def edges_us(self) -> np.ndarray:
        """Start time (µs from ``t``) of every run, plus the end time as the last entry."""
        return np.concatenate([[0.0], np.cumsum(self.durations_us)])

    def split(self, gap_us: float) -> Iterator["PulseTrain"]:
        """Split at off-runs of at least ``gap_us`` (frame/packet boundaries); trims edge gaps."""
        d, lv = self.durations_us, self.levels
        starts = self.edges_us()[:-1]
        cut = np.flatnonzero((lv == 0) & (d >= gap_us))
        bounds = np.concatenate([[-1], cut, [d.size]])
        for a, b in zip(bounds[:-1], bounds[1:]):
            lo, hi = a + 1, b
            if hi > lo and np.any(lv[lo:hi] == 1):
                while lv[lo] == 0:
                    lo += 1
                while lv[hi - 1] == 0:
                    hi -= 1
                yield replace(self, durations_us=d[lo:hi].copy(), levels=lv[lo:hi].copy(),
                              t=self.t + float(starts[lo]) * 1e-6, meta=dict(self.meta))

    def trimmed(self) -> "PulseTrain":
        """Without leading/trailing off runs (the start time moves accordingly)."""
        d, lv = self.durations_us, self.levels
        on = np.flatnonzero(lv == 1)
        if on.size == 0:
            return replace(self, durations_us=d[:0], levels=lv[:0])
        lo, hi = on[0], on[-1] + 1
        return replace(self, durations_us=d[lo:hi].copy(), levels=lv[lo:hi].copy(),
                       t=self.t + float(d[:lo].sum()) * 1e-6)


def _merge_runs(d: np.ndarray, lv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge adjacent runs of the same level and drop zero-length runs."""
    keep = d > 0
    d, lv = d[keep], lv[keep]
    if d.size < 2:
        return d.copy(), lv.copy()
    new_run = np.concatenate([[True], lv[1:] != lv[:-1]])
    idx = np.cumsum(new_run) - 1
    merged = np.bincount(idx, weights=d)
    return merged.astype(np.float64), lv[new_run].astype(np.int8)
