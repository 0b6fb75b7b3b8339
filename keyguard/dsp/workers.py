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

_pools: dict[int, concurrent.futures.ThreadPoolExecutor] = {}
_lock = threading.Lock()


def _pool(workers: int) -> concurrent.futures.ThreadPoolExecutor:
    with _lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = _pools[workers] = concurrent.futures.ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="keyguard-worker")
        return pool


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int = 1) -> list[R]:
    """``[fn(x) for x in items]``, spread over ``workers`` threads when there are two or more
    items. An exception in any job is raised here, as the plain loop would raise it."""
    items = list(items)
    if workers <= 1 or len(items) < 2:
        return [fn(x) for x in items]
    return list(_pool(int(workers)).map(fn, items))


@atexit.register
def _shutdown() -> None:
    for pool in _pools.values():
        pool.shutdown(wait=False, cancel_futures=True)
