"""KeeLoq cipher speed: pure-Python single block vs numpy batch (one hop × many keys).

Run: .venv/bin/python bench/bench_keeloq.py  — prints blocks per second for each path.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np

from keyguard.protocols import keeloq


def main() -> None:
    rng = np.random.default_rng(0)
    key = 0x5CEC6701B79FD949
    n_single = 500
    t0 = time.perf_counter()
    for i in range(n_single):
        keeloq.decrypt(i * 2654435761 & 0xFFFFFFFF, key)
    dt = time.perf_counter() - t0
    print(f"scalar decrypt: {n_single / dt:,.0f} blocks/s ({dt / n_single * 1e6:.0f} µs per block)")

    for n in (1_000, 100_000, 1_000_000):
        keys = rng.integers(0, 2**63, n, dtype=np.uint64)
        t0 = time.perf_counter()
        keeloq.decrypt_batch(0x12345678, keys)
        dt = time.perf_counter() - t0
        print(f"batch decrypt, one hop x {n:>9,} keys: {n / dt:,.0f} blocks/s ({dt:.3f} s)")

    keys = rng.integers(0, 2**63, 1_000_000, dtype=np.uint64)
    tracemalloc.start()
    keeloq.decrypt_batch(0x12345678, keys)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"peak extra memory, one hop x 1,000,000 keys: {peak / 2**20:.1f} MiB "
          f"(inputs {keys.nbytes / 2**20:.1f} MiB)")

    blocks = rng.integers(0, 2**32, 100_000, dtype=np.uint64)
    t0 = time.perf_counter()
    keeloq.encrypt_batch(blocks, key)
    dt = time.perf_counter() - t0
    print(f"batch encrypt, 100,000 blocks x one key: {1e5 / dt:,.0f} blocks/s")

    serials = rng.integers(0, 2**28, 10_000, dtype=np.uint64)
    t0 = time.perf_counter()
    keeloq.normal_learning_keys(serials, key)
    dt = time.perf_counter() - t0
    print(f"normal-learning device keys, 10,000 serials: {1e4 / dt:,.0f} keys/s")


if __name__ == "__main__":
    main()
