"""The ``Capture``: one recording (or in-memory array) and a way to iterate its samples.

Every later stage reads through this object. IQ formats stream from disk in bounded memory;
pulse formats (Flipper ``.sub``, rtl_433 ``.ook``) carry pulse trains and render IQ on demand.
Open files with :func:`keyguard.io.open_capture`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator, Protocol

import numpy as np

from keyguard.pulse_train import PulseTrain

#: Default block length (samples) for streaming: 256 Ki complex64 samples = 2 MiB per block.
DEFAULT_BLOCK = 1 << 18


class SampleReader(Protocol):
    """What a format reader gives the Capture: random access to complex64 samples."""

    num_samples: int

    def read(self, start: int, count: int) -> np.ndarray:
        """Samples [start, start+count) as complex64 (fewer at the end of the recording)."""


@dataclass
class SampleBlock:
    """A run of consecutive samples from a capture.

    start: index of ``samples[0]`` in the capture (samples, not bytes).
    samples: complex64 array, full scale ±1.0.
    overlap: how many leading samples repeat the end of the previous block (0 for the first).
    sample_rate: Hz.
    """

    start: int
    samples: np.ndarray
    overlap: int
    sample_rate: float

    @property
    def t(self) -> float:
        """Time of ``samples[0]``, seconds from the first sample of the capture."""
        return self.start / self.sample_rate

    @property
    def end(self) -> int:
        return self.start + int(self.samples.size)


@dataclass
class Capture:
    """A recording's metadata and samples.

    path: the path (or URI) as given by the user; ``"<array>"`` for in-memory captures.
    format: ``cu8``, ``cs8``, ``cs16``, ``cf32``, ``sigmf``, ``wav``, ``sub``, ``ook``.
    sample_rate: Hz. center_freq: Hz or None when unknown.
    start_time: UTC datetime of the first sample, or None.
    num_samples: complex samples available (for pulse captures: at ``sample_rate`` when rendered).
    hw: receiver/hardware description when the file carries one.
    annotations: SigMF-style annotation dicts (``core:sample_start``, ``core:sample_count``, ...).
    assumed: names of metadata that fell back to rtl_433's defaults (e.g. ``("center_freq",)``).
    warnings: one-line notes for the user (a cut-off trailing sample, ...).
    pulse_trains: for pulse formats, the recorded bursts; None for IQ formats.
    """

    path: str
    format: str
    sample_rate: float
    center_freq: float | None = None
    start_time: datetime | None = None
    num_samples: int = 0
    hw: str | None = None
    annotations: list = field(default_factory=list)
    assumed: tuple = ()
    warnings: list = field(default_factory=list)
    pulse_trains: list[PulseTrain] | None = None
    file_paths: tuple = ()
    extra: dict = field(default_factory=dict)
    reader: SampleReader | None = field(default=None, repr=False)
    _sha256: str | None = field(default=None, repr=False)

    # ----------------------------------------------------------------------------------------
    @classmethod
    def from_array(cls, samples: np.ndarray, sample_rate: float, center_freq: float | None = None,
                   start_time: datetime | None = None, path: str = "<array>", **kw) -> "Capture":
        """Wrap an in-memory complex array (researchers, the simulator, tests)."""
        if sample_rate <= 0:
            raise ValueError("sample_rate must be positive")
        x = np.ascontiguousarray(samples, dtype=np.complex64)
        return cls(path=path, format="array", sample_rate=float(sample_rate),
                   center_freq=center_freq, start_time=start_time, num_samples=int(x.size),
                   reader=ArrayReader(x), **kw)

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.num_samples / self.sample_rate if self.sample_rate else 0.0

    @property
    def is_pulse_capture(self) -> bool:
        return self.pulse_trains is not None

    @property
    def sha256(self) -> str | None:
        """SHA-256 of the input file's bytes (data file for SigMF pairs); None for arrays."""
        if self._sha256 is None and self.file_paths:
            h = hashlib.sha256()
            with open(self.file_paths[0], "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            self._sha256 = h.hexdigest()
        return self._sha256

    def read(self, start: int = 0, count: int | None = None) -> np.ndarray:
        """Samples [start, start+count) as complex64; count None means to the end (careful: RAM)."""
        if self.reader is None:
            raise ValueError(f"{self.path}: this capture has no IQ samples")
        if count is None:
            count = self.num_samples - start
        return self.reader.read(start, max(0, count))

    def blocks(self, block_size: int = DEFAULT_BLOCK, overlap: int = 0,
               start: int = 0, stop: int | None = None) -> Iterator[SampleBlock]:
        """Iterate the samples in blocks of ``block_size`` new samples.

        Each block after the first is prefixed by the last ``overlap`` samples of the previous
        one, so a burst shorter than ``overlap`` that crosses a boundary is seen whole in one
        block. Memory use is one block whatever the capture size.
        """
        if block_size <= 0 or overlap < 0:
            raise ValueError("block_size must be positive and overlap non-negative")
        stop = self.num_samples if stop is None else min(stop, self.num_samples)
        pos = start
        tail = np.zeros(0, dtype=np.complex64)
        while pos < stop:
            new = self.read(pos, min(block_size, stop - pos))
            if new.size == 0:
                break
            samples = np.concatenate([tail, new]) if tail.size else new
            yield SampleBlock(start=pos - tail.size, samples=samples, overlap=int(tail.size),
                              sample_rate=self.sample_rate)
            pos += new.size
            tail = samples[-overlap:] if overlap else tail[:0]


class ArrayReader:
    """Sample reader over an in-memory complex64 array."""

    def __init__(self, samples: np.ndarray):
        self._x = samples
        self.num_samples = int(samples.size)

    def read(self, start: int, count: int) -> np.ndarray:
        return self._x[start:start + count]
