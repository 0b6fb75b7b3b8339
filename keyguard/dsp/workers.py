"""Threads that share one block's independent work (finishing regions, measuring bursts).

The heavy steps of a block (FFTs, envelope passes, extraction) are numpy and scipy calls that
release the GIL, so a second thread runs them on a second core: a swept jammer ending with
half a dozen wide regions at once then costs half the wall time, which is what an alert's
latency sees. Results come back in input order and every job is a pure function of its
input, so output is the same whatever the number of threads.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import threading
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_pools: dict[tuple[str, int], concurrent.futures.ThreadPoolExecutor] = {}
_lock = threading.Lock()


def _pool(workers: int, role: str = "worker") -> concurrent.futures.ThreadPoolExecutor:
    with _lock:
        pool = _pools.get((role, workers))
        if pool is None:
            pool = _pools[role, workers] = concurrent.futures.ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix=f"keyguard-{role}")
        return pool


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int = 1) -> list[R]:
    """``[fn(x) for x in items]``, spread over ``workers`` threads when there are two or more
    items. An exception in any job is raised here, as the plain loop would raise it."""
    items = list(items)
    if workers <= 1 or len(items) < 2:
        return [fn(x) for x in items]
    return list(_pool(int(workers)).map(fn, items))


class Ahead:
    """Results of a pure function, worked out in a background thread before they are asked
    for: the monitor measures a burst while it waits behind an earlier one (bursts leave the
    detector in start order), on the core that is otherwise idle, instead of at once with
    everything that leaves with it.

    ``submit`` items that will probably be asked for, ``take`` an item's result (waiting for
    it, or None when it was never submitted), ``keep`` only the listed items' jobs. Items are
    held by reference, so an id is never mistaken for another object's."""

    def __init__(self, fn: Callable[[T], R]):
        self.fn = fn
        self._jobs: dict[int, tuple[T, concurrent.futures.Future]] = {}
        self.served = 0  # results taken from the background thread

    def submit(self, items: Iterable[T]) -> None:
        for x in items:
            if id(x) not in self._jobs:
                self._jobs[id(x)] = (x, _background().submit(self.fn, x))

    def take(self, x: T) -> concurrent.futures.Future | None:
        """The job of ``x`` (its ``result()`` raises what ``fn`` raised), or None."""
        job = self._jobs.pop(id(x), None)
        if job is None or job[0] is not x:
            return None
        self.served += 1
        return job[1]

    def keep(self, items: Iterable[T]) -> None:
        ids = {id(x) for x in items}
        for key in [k for k in self._jobs if k not in ids]:
            self._jobs.pop(key)[1].cancel()


def _background() -> concurrent.futures.ThreadPoolExecutor:
    return _pool(1, "ahead")  # one thread of its own, apart from the block's workers


@atexit.register
def _shutdown() -> None:
    for pool in _pools.values():
        pool.shutdown(wait=False, cancel_futures=True)
