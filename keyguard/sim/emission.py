"""Emissions: what the receiver's antenna hears, and summing them into a capture chunk by chunk.

An :class:`Emission` is a signal present at the receiver input for samples [start, stop) of the
capture, in √mW (|x|² is power in mW), carrier offset relative to the receiver's LO already
applied. Two kinds:

- :class:`BurstEmission`: a finite waveform (one frame of a fob, a replayed burst). It is
  rendered lazily the first time a chunk needs it and freed once the chunk passes its end, so
  memory holds only the bursts in flight.
- :class:`StreamEmission`: a long signal (a jammer running for seconds, a relay's amplifier
  noise) generated for any span on demand, identically however the span is chunked.

:func:`render_chunks` sums the emissions with the receiver's thermal noise and digitises each
chunk: bounded memory whatever the capture length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import numpy as np

from keyguard.sim.receiver import RtlSdr

#: Samples per rendered chunk (a multiple of the noise block so noise is generated once).
CHUNK = 1 << 18


@dataclass(eq=False)
class Emission:
    """A signal at the receiver input for samples [start, stop) (√mW units)."""

    start: int
    stop: int
    source: str = ""

    def samples(self, a: int, b: int) -> np.ndarray:
        """The emission over [a, b) ⊆ [start, stop), complex64 of length b − a."""
        raise NotImplementedError

    def release(self) -> None:
        """Drop any cached waveform (called once the capture is past ``stop``)."""


@dataclass(eq=False)
class BurstEmission(Emission):
    """A finite waveform placed at a (fractional) time.

    make(lead_s) returns the waveform whose sample 0 is ``lead_s`` before the burst's nominal
    start time; ``lead_s`` carries the sub-sample part of the placement. ``stop`` is an upper
    bound; a longer waveform is cut there (the caller sizes it with margin).
    """

    make: Callable[[float], np.ndarray] | None = None
    lead_s: float = 0.0
    _cache: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def at(cls, t_s: float, sample_rate: float, max_len_s: float, make: Callable[[float], np.ndarray],
           source: str = "", pad_s: float = 0.0) -> "BurstEmission":
        """A burst starting at ``t_s`` (s), lasting at most ``max_len_s``, with ``pad_s`` of room
        before it for pre-echo of edge filters."""
        pos = (t_s - pad_s) * sample_rate
        start = int(math.floor(pos))
        lead = (t_s * sample_rate - start) / sample_rate
        stop = start + int(math.ceil((max_len_s + pad_s) * sample_rate)) + 2
        return cls(start=start, stop=stop, source=source, make=make, lead_s=lead)

    def waveform(self) -> np.ndarray:
        if self._cache is None:
            w = np.asarray(self.make(self.lead_s), dtype=np.complex64)
            n = self.stop - self.start
            self._cache = w[:n] if w.size >= n else np.concatenate([w, np.zeros(n - w.size, np.complex64)])
        return self._cache

    def samples(self, a: int, b: int) -> np.ndarray:
        return self.waveform()[a - self.start:b - self.start]

    def release(self) -> None:
        self._cache = None


@dataclass(eq=False)
class StreamEmission(Emission):
    """A long signal generated on demand: gen(a, b) returns samples [a, b) (absolute indices)."""

    gen: Callable[[int, int], np.ndarray] | None = None

    def samples(self, a: int, b: int) -> np.ndarray:
        return np.asarray(self.gen(a, b), dtype=np.complex64)


def render_chunks(emissions: Iterable[Emission], receiver: RtlSdr, num_samples: int, seed: int,
                  chunk: int = CHUNK, start: int = 0) -> Iterator[np.ndarray]:
    """Digitised capture samples [start, num_samples) in chunks of ``chunk`` samples.

    Each chunk is thermal noise plus every emission overlapping it, through the receiver's
    gain, IQ imbalance, DC offset and ADC. Emissions are consumed in start order; each burst is
    rendered once and freed when passed, so memory is a chunk plus the bursts in flight.
    """
    pending = sorted(emissions, key=lambda e: (e.start, e.stop))
    i = 0
    active: list[Emission] = []
    pos = start
    while pos < num_samples:
        end = min(pos + chunk, num_samples)
        while i < len(pending) and pending[i].start < end:
            if pending[i].stop > pos:
                active.append(pending[i])
            i += 1
        acc = receiver.thermal_noise(pos, end, seed)
        for e in active:
            lo, hi = max(pos, e.start), min(end, e.stop)
            if lo < hi:
                acc[lo - pos:hi - pos] += e.samples(lo, hi)
        keep = []
        for e in active:
            if e.stop <= end:
                e.release()
            else:
                keep.append(e)
        active = keep
        yield receiver.digitise(acc)
        pos = end
