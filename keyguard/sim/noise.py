"""Seeding and chunk-stable noise: the simulator's randomness, reproducible from one seed.

Every random draw in a scenario comes from a generator keyed by the scenario seed and the name of
what is drawn (``("fob", "owner", "press", 3)``), so adding a device does not change the others,
and noise is generated in fixed blocks so a capture rendered in any chunk size is bit-identical.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

#: Samples per independently seeded noise block.
NOISE_BLOCK = 1 << 16


def stable_entropy(key: tuple) -> list[int]:
    """Integer entropy for a key of strings and ints (Python's hash() is salted per process)."""
    out = []
    for k in key:
        if isinstance(k, str):
            out.append(zlib.crc32(k.encode()))
        elif isinstance(k, float):
            out.append(zlib.crc32(repr(k).encode()))
        else:
            out.append(int(k) & 0xFFFFFFFFFFFFFFFF)
    return out


def rng_for(*key) -> np.random.Generator:
    """A generator determined by ``key`` alone (strings and ints)."""
    return np.random.default_rng(stable_entropy(key))


def block_noise(key: tuple, start: int, stop: int, power: float) -> np.ndarray:
    """Complex white Gaussian noise of total ``power`` for samples [start, stop) (may be negative).

    Generated in blocks of :data:`NOISE_BLOCK` samples, each seeded from ``key`` and its block
    number, so the noise at any sample index is the same whatever span is asked for.
    """
    if stop <= start:
        return np.zeros(0, np.complex64)
    b0, b1 = start // NOISE_BLOCK, (stop - 1) // NOISE_BLOCK
    ent = stable_entropy(key)
    parts = []
    for b in range(b0, b1 + 1):
        rng = np.random.default_rng(ent + [b & 0xFFFFFFFFFFFFFFFF])
        parts.append(rng.standard_normal(2 * NOISE_BLOCK, dtype=np.float32).view(np.complex64))
    x = np.concatenate(parts) if len(parts) > 1 else parts[0]
    lo = start - b0 * NOISE_BLOCK
    # each of I and Q carries half the power
    return x[lo:lo + (stop - start)] * np.float32(math.sqrt(power / 2.0))
