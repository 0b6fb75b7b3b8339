"""The streaming-source interface shared by RTL-SDR dongles, rtl_tcp servers and file replay.

A :class:`Source` yields :class:`StreamBlock` objects: ordinary
:class:`~keyguard.io.capture.SampleBlock` objects (complex64, full scale ±1.0) that also carry the
UTC time of their first sample and how many samples were lost just before them. ``start`` counts
the source's sample clock *including* lost samples, so ``block.t`` stays aligned with the air
time even after a USB overrun or an rtl_tcp reconnect.

Live sources read in a background thread into a bounded queue. When the consumer (the detection
pipeline) falls behind, whole blocks are dropped and counted in :class:`SourceStats` instead of
letting memory grow or the device overrun silently.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator

import numpy as np

from keyguard.errors import SourceError
from keyguard.events import CaptureRecord
from keyguard.io.capture import SampleBlock
from keyguard.io.raw import SAMPLE_FORMATS

_CU8 = SAMPLE_FORMATS["cu8"]

log = logging.getLogger("keyguard.sdr")

#: Called with one human line whenever a source connects, loses its link, reconnects or drops.
EventCallback = Callable[[str], None]


@dataclass
class StreamBlock(SampleBlock):
    """A :class:`SampleBlock` from a stream.

    time: UTC datetime of ``samples[0]`` (None when unknown, e.g. replay of an undated file).
    gap_before: samples lost immediately before this block (0: contiguous with the previous one).
    """

    time: datetime | None = None
    gap_before: int = 0


@dataclass
class SourceStats:
    """Counters of a stream since it was opened.

    samples_received: samples that reached the reader (including ones later dropped locally).
    samples_dropped: samples known to be lost: local queue overflow, USB overruns, the air time
        of a reconnect outage.
    gaps: interruptions: stalls with no data for longer than the source's gap threshold,
        outages, and each run of dropped blocks.
    gap_s: total seconds of those interruptions.
    reconnects: successful re-connections after the link was lost.
    lag_s: how far the newest sample is behind the wall clock at the nominal rate (live only).
    queue_high_water: the most blocks ever waiting in the source's queue for the pipeline (of
        ``queue_capacity``; reaching it means blocks were dropped).
    """

    samples_received: int = 0
    samples_dropped: int = 0
    gaps: int = 0
    gap_s: float = 0.0
    reconnects: int = 0
    lag_s: float = 0.0
    queue_high_water: int = 0
    queue_capacity: int = 0


@dataclass
class _Chunk:
    index: int
    data: np.ndarray  # uint8 cu8 bytes or complex64 samples
    time: datetime | None
    gap_before: int


@dataclass
class _End:
    error: BaseException | None = None


#: Seconds of samples a live source's queue holds for the pipeline (default). Processing is
#: bursty: the block in which a jammer's region closes carries that whole burst (≈ 2 s of CPU
#: for a 3 s jammer at 2.4 Msps on a slow core). A queue that absorbs such a spike turns it into
#: a moment of latency instead of lost samples (a press lost to a drop is lost for good);
#: 8 s at 2.4 Msps is 38 MB of cu8.
QUEUE_S = 8.0


def blocks_for(sample_rate: float, block_s: float) -> int:
    """Block length (samples) for ``block_s`` seconds at ``sample_rate`` Hz, at least 1024."""
    return max(1024, int(round(sample_rate * block_s)))


class Source(ABC):
    """A stream of sample blocks: open it, iterate :meth:`blocks`, close it.

    uri: what the contract's ``capture`` field says for this stream (``rtl_tcp://host:port``,
    ``rtlsdr://0``, or the replayed file's path). sample_rate: Hz. center_freq: Hz or None.
    format: the wire format (``cu8`` for RTL-SDR and rtl_tcp).
    on_event: receives one line per connection event (default: the ``keyguard.sdr`` logger).
    """

    live: bool = True

    def __init__(self, uri: str, sample_rate: float, center_freq: float | None, *,
                 block_s: float = 0.1, queue_s: float = QUEUE_S, fmt: str = "cu8",
                 on_event: EventCallback | None = None):
        if not (sample_rate > 0 and math.isfinite(sample_rate)):
            raise ValueError("sample_rate must be a positive number of Hz")
        if block_s <= 0 or queue_s <= 0:
            raise ValueError("block_s and queue_s must be positive")
        self.uri = uri
        self.sample_rate = float(sample_rate)
        self.center_freq = None if center_freq is None else float(center_freq)
        self.format = fmt
        self.block_size = blocks_for(self.sample_rate, block_s)
        self.start_time: datetime | None = None
        self.hw: str | None = None
        self._on_event = on_event
        self._stats = SourceStats()
        self._lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue(maxsize=max(2, int(math.ceil(queue_s / block_s))))
        self._stats.queue_capacity = self._queue.maxsize
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_index = 0
        self._pending_gap = 0
        self._anchor: tuple[float, int] | None = None  # (wall time of sample index, index)
        self._opened = False

    # -- public interface -------------------------------------------------------------------
    def open(self) -> "Source":
        """Connect / open the device and start reading. Raises SourceError with one line."""
        if self._opened:
            return self
        self._open()
        self._opened = True
        self._thread = threading.Thread(target=self._run, name=f"source {self.uri}", daemon=True)
        self._thread.start()
        return self

    def blocks(self, overlap: int = 0) -> Iterator[StreamBlock]:
        """Blocks of about ``block_size`` new samples, until the stream ends or :meth:`stop`.

        With ``overlap`` > 0 each block repeats the last ``overlap`` samples of the previous one
        (as :meth:`Capture.blocks` does), except right after a gap, where nothing is bridged.
        Raises SourceError if the stream fails for good (after its reconnect attempts).
        """
        if not self._opened:
            self.open()
        tail = np.zeros(0, dtype=np.complex64)
        while True:
            try:
                item = self._queue.get(timeout=0.2)
            except queue.Empty:
                if self._stop.is_set() and not (self._thread and self._thread.is_alive()):
                    return
                continue
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            new = _CU8.to_complex(item.data) if item.data.dtype == np.uint8 else item.data
            if item.gap_before:
                tail = tail[:0]
            samples = np.concatenate([tail, new]) if tail.size else new
            t0 = item.time
            if t0 is not None and tail.size:
                t0 = t0 - timedelta(seconds=tail.size / self.sample_rate)
            yield StreamBlock(start=item.index - tail.size, samples=samples,
                              overlap=int(tail.size), sample_rate=self.sample_rate,
                              time=t0, gap_before=item.gap_before)
            tail = samples[-overlap:] if overlap else tail[:0]

    def stop(self) -> None:
        """Ask the stream to end (thread-safe, e.g. from a signal handler); blocks() returns."""
        self._stop.set()
        self._interrupt()

    def close(self) -> None:
        """Stop reading and release the device or connection."""
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self._release()

    @property
    def stats(self) -> SourceStats:
        """A consistent snapshot of the counters."""
        with self._lock:
            return replace(self._stats)

    def capture_record(self) -> CaptureRecord:
        """The contract's ``capture`` record for this stream (sha256 and duration null if live)."""
        return CaptureRecord(capture=self.uri, sha256=None, format=self.format,
                             sample_rate=self.sample_rate, center_freq=self.center_freq,
                             start_time=self.start_time, duration=None)

    def __enter__(self) -> "Source":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- for subclasses ----------------------------------------------------------------------
    @abstractmethod
    def _open(self) -> None:
        """Open synchronously (so that the first failure reaches the caller as SourceError)."""

    @abstractmethod
    def _produce(self) -> None:
        """Read until the stream ends or ``self._stop`` is set, handing data to :meth:`_push`."""

    def _release(self) -> None:
        """Free the device/connection (called once, after the reader thread ended)."""

    def _interrupt(self) -> None:
        """Wake the reader thread up if it is blocked (cancel a USB read, close a socket)."""

    def _event(self, line: str) -> None:
        if self._on_event is not None:
            try:
                self._on_event(line)
                return
            except Exception:  # a faulty callback must not kill the reader
                log.exception("source event callback failed")
        log.warning("%s", line)

    def _run(self) -> None:
        error: BaseException | None = None
        try:
            self._produce()
        except SourceError as e:
            error = e
        except Exception as e:  # never let the reader thread die silently
            log.exception("source %s failed", self.uri)
            error = SourceError(f"{self.uri}: reader failed: {type(e).__name__}: {e}")
        self._put_blocking(_End(error))

    def _put_blocking(self, item) -> None:
        while True:
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                if self._stop.is_set():
                    # the consumer is gone: make room for the end marker
                    try:
                        self._queue.get_nowait()
                    except queue.Empty:
                        pass

    def _set_anchor(self, wall: float, index: int) -> None:
        """Sample ``index`` was (or will be) on air at ``wall`` (time.time() seconds)."""
        self._anchor = (wall, index)
        if self.start_time is None:
            self.start_time = datetime.fromtimestamp(wall - index / self.sample_rate,
                                                     tz=timezone.utc)

    def _time_of(self, index: int) -> datetime | None:
        if self._anchor is None:
            return None
        wall, i0 = self._anchor
        return datetime.fromtimestamp(wall + (index - i0) / self.sample_rate, tz=timezone.utc)

    def _samples_behind(self) -> int:
        """How many samples the sample clock is behind the wall clock (0 without an anchor)."""
        if self._anchor is None:
            return 0
        wall, i0 = self._anchor
        return int(round(i0 + (time.time() - wall) * self.sample_rate - self._next_index))

    def _push(self, data: np.ndarray, *, drop_when_full: bool = True) -> bool:
        """Queue one chunk (cu8 uint8 bytes, or complex64 samples) at the current sample index.

        When the queue is full and ``drop_when_full``, the chunk is dropped and counted; the next
        queued chunk then carries the gap. Returns False when the chunk was dropped.
        """
        n = data.size // 2 if data.dtype == np.uint8 else data.size
        index = self._next_index
        self._next_index += n
        chunk = _Chunk(index=index, data=data, time=self._time_of(index),
                       gap_before=self._pending_gap)
        with self._lock:
            self._stats.samples_received += n
            if self._anchor is not None and self.live:
                wall, i0 = self._anchor
                self._stats.lag_s = time.time() - (wall + (index + n - i0) / self.sample_rate)
        if drop_when_full:
            try:
                self._queue.put_nowait(chunk)
            except queue.Full:
                self._drop(n, "processing is falling behind: block dropped")
                return False
        else:
            while not self._stop.is_set():
                try:
                    self._queue.put(chunk, timeout=0.2)
                    break
                except queue.Full:
                    continue
            else:
                return False
        waiting = self._queue.qsize()
        with self._lock:
            self._stats.queue_high_water = max(self._stats.queue_high_water, waiting)
        self._pending_gap = 0
        return True

    def _drop(self, n: int, why: str) -> None:
        """Count ``n`` samples lost at the current position (already past ``_next_index``)."""
        with self._lock:
            new_run = self._pending_gap == 0
            self._stats.samples_dropped += n
            if new_run:
                self._stats.gaps += 1
            self._stats.gap_s += n / self.sample_rate
        self._pending_gap += n
        if new_run:
            self._event(f"{self.uri}: {why} ({n} samples lost)")

    def _skip(self, n: int, why: str) -> None:
        """Advance the sample clock over ``n`` samples that were never received (an outage)."""
        if n <= 0:
            return
        self._next_index += n
        self._drop(n, why)

    def _count_stall(self, seconds: float) -> None:
        with self._lock:
            self._stats.gaps += 1
            self._stats.gap_s += seconds

    def _count_reconnect(self) -> None:
        with self._lock:
            self._stats.reconnects += 1


def backoff_delays(initial_s: float = 0.5, max_s: float = 30.0) -> Iterator[float]:
    """Exponential back-off: initial_s, 2·initial_s, ... capped at max_s (seconds), forever."""
    d = initial_s
    while True:
        yield d
        d = min(max_s, d * 2)
