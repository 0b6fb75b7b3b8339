"""``SinkSet``: hands each record to every sink without ever holding up or stopping detection.

Each sink gets its own worker thread and bounded queue. ``emit`` only enqueues (never blocks,
never raises); a sink whose ``emit`` raises is reported on the error callback and the same record
is retried with exponential back-off, so records reach a sink in order. A sink that stays down
fills its queue; further records for it are dropped, counted and reported, while the other sinks
and the detector carry on.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from keyguard.alerts.sink import Sink, as_record
from keyguard.sdr.source import backoff_delays


def _stderr_line(line: str) -> None:
    print(f"keyguard: {line}", file=sys.stderr, flush=True)


@dataclass
class SinkStatus:
    """Counters of one sink: records delivered, failed attempts, records dropped, still queued."""

    name: str
    delivered: int = 0
    failures: int = 0
    dropped: int = 0
    pending: int = 0
    last_error: str | None = None


class _Flush:
    def __init__(self) -> None:
        self.done = threading.Event()


_CLOSE = object()


class _Worker:
    def __init__(self, sink: Sink, queue_size: int, report: Callable[[str], None],
                 retry: tuple[float, float]):
        self.sink = sink
        self.status = SinkStatus(sink.name)
        self.queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self.report = report
        self.retry = retry
        self.closing = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"sink {sink.name}", daemon=True)
        self.thread.start()

    def offer(self, record: dict) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            self.status.dropped += 1
            if self.status.dropped == 1 or self.status.dropped % 100 == 0:
                self.report(f"sink {self.sink.name}: queue full, {self.status.dropped} records "
                            f"dropped so far ({self.status.last_error or 'sink too slow'})")

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is _CLOSE:
                return
            if isinstance(item, _Flush):
                self._attempt(self.sink.flush)
                item.done.set()
                continue
            if self._attempt(lambda: self.sink.emit(item)):
                self.status.delivered += 1

    def _attempt(self, action: Callable[[], Any]) -> bool:
        """Run ``action`` until it succeeds; while closing, give up after one failure."""
        delays = None
        failed = 0
        while True:
            try:
                action()
            except Exception as e:  # any failure of a sink is reported, never propagated
                failed += 1
                self.status.failures += 1
                self.status.last_error = f"{type(e).__name__}: {e}"
                if self.closing.is_set():
                    self.report(f"sink {self.sink.name}: {self.status.last_error}; giving up "
                                f"on this record at shutdown")
                    return False
                if delays is None:
                    delays = backoff_delays(*self.retry)
                delay = next(delays)
                if failed == 1 or failed % 10 == 0:
                    self.report(f"sink {self.sink.name} failed ({self.status.last_error}); "
                                f"retrying in {delay:g} s")
                # woken early by close(): one last try, then the branch above gives up
                self.closing.wait(delay)
                continue
            if failed:
                self.report(f"sink {self.sink.name}: working again after {failed} failures")
            return True


class SinkSet:
    """Deliver records to several sinks, isolated from each other and from the caller.

    queue_size: records buffered per sink. on_error: receives one line per problem (default:
    standard error). retry_initial_s / retry_max_s: back-off between attempts (s).
    """

    def __init__(self, sinks: list[Sink], *, queue_size: int = 10_000,
                 on_error: Callable[[str], None] | None = None, retry_initial_s: float = 0.5,
                 retry_max_s: float = 30.0):
        self._report = on_error or _stderr_line
        self._workers = [_Worker(s, queue_size, self._report, (retry_initial_s, retry_max_s))
                         for s in sinks]
        self._closed = False

    @property
    def sinks(self) -> list[Sink]:
        return [w.sink for w in self._workers]

    def emit(self, record: Any) -> None:
        """Queue a contract record (dict or events dataclass) for every sink that wants it."""
        if self._closed:
            raise RuntimeError("SinkSet is closed")
        rec = as_record(record)
        for w in self._workers:
            if w.sink.wants(rec):
                w.offer(rec)

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until every sink has taken its queued records and flushed; False on timeout."""
        deadline = time.monotonic() + timeout_s
        marks = []
        for w in self._workers:
            mark = _Flush()
            try:
                w.queue.put(mark, timeout=max(0.0, deadline - time.monotonic()))
            except queue.Full:
                return False
            marks.append(mark)
        return all(m.done.wait(max(0.0, deadline - time.monotonic())) for m in marks)

    def close(self, timeout_s: float = 10.0) -> bool:
        """Flush (bounded), stop the workers and close the sinks. False if something was left."""
        if self._closed:
            return True
        self._closed = True
        ok = self.flush(timeout_s)
        for w in self._workers:
            w.closing.set()
            try:
                w.queue.put(_CLOSE, timeout=1.0)
            except queue.Full:
                ok = False
        for w in self._workers:
            w.thread.join(timeout=2.0)
            try:
                w.sink.close()
            except Exception as e:
                ok = False
                self._report(f"sink {w.sink.name}: close failed: {type(e).__name__}: {e}")
        return ok

    def status(self) -> list[SinkStatus]:
        """A snapshot of each sink's counters."""
        out = []
        for w in self._workers:
            s = w.status
            out.append(SinkStatus(s.name, s.delivered, s.failures, s.dropped, w.queue.qsize(),
                                  s.last_error))
        return out

    def __enter__(self) -> "SinkSet":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
