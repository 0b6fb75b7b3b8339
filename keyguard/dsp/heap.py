"""The C allocator's thresholds for the front end's streaming work (glibc only).

The front end allocates and frees arrays of a few MB for every block and every burst: a
block's samples and spectra, a burst's channel, envelopes and carrier products. glibc hands an
allocation over its mmap threshold (128 kB at start, raised to the largest such block freed
so far) straight back to the system when it is freed, and returns the heap's free top once it
exceeds twice that threshold; the next allocation then takes fresh pages, each faulted in and
zeroed by the kernel one at a time. Over a 60 s capture at 250 ksps that was 7 000 to 27 000
page faults, depending only on which large array happened to be freed first (a 4 MB start-up
table raised the threshold early and so halved the faults of every block after it), at a few
microseconds each: more than the arithmetic on those pages.

:func:`hold_freed_memory` fixes both thresholds, so freed memory stays in the process for the
next block or burst. It changes the allocator of the whole process, so the library does not
call it by itself: the ``keyguard`` command does at start, and a program that streams
captures through the front end may (the benchmarks do, as the command). Memory stays bounded: it is reused, not leaked, and at most
``TRIM_THRESHOLD`` of it is held beyond what the front end last used. Elsewhere (another C
library, another system) nothing changes.
"""

from __future__ import annotations

import ctypes
import sys

#: allocations up to this size (bytes) come from the heap: glibc's own ceiling for its
#: dynamic threshold, above any array the front end makes for a block or a burst
MMAP_THRESHOLD = 32 << 20
#: freed memory (bytes) kept at the top of the heap before it is returned to the system
TRIM_THRESHOLD = 64 << 20

# mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

_held = False


def hold_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds once per process (see the module docstring).

    Returns True when they are set, False where the C library has no glibc ``mallopt``
    (nothing is changed then)."""
    global _held
    if _held:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # musl and others export a mallopt that does nothing and returns 0
    _held = (mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
             and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1)
    return _held
