#!/usr/bin/env python3
"""Read throughput and peak memory of streaming a large cu8 capture through open_capture().

Generates a cu8 file of the given size (default 4 GB) in a temporary folder (in a child process,
so its buffers do not count here), then streams it with ``Capture.blocks()`` summing the power
(something trivial, so the reader is what is measured), and optionally the level statistics
that ``keyguard info`` computes. Prints samples/s and peak RSS (``ru_maxrss``); the target is a
peak RSS under ~200 MB whatever the file size. Asserts nothing.

    .venv/bin/python bench/read_throughput.py            # 4 GB
    .venv/bin/python bench/read_throughput.py --size 1G --levels
    .venv/bin/python bench/read_throughput.py --path existing.cu8

Note: a file just written is usually still in the page cache, so this measures keyguard's
conversion cost rather than the disk.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHUNK = 8 << 20  # bytes written per step while generating


def parse_size(text: str) -> int:
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    t = text.strip().upper().rstrip("B")
    unit = t[-1] if t and t[-1] in units else ""
    return int(float(t[: len(t) - len(unit)]) * units[unit])


def generate(path: Path, size: int, seed: int = 1) -> None:
    """Noise around 127.5 with an occasional strong burst; the same 8 MiB chunk pattern repeats
    with a varying offset so the content is not all identical."""
    rng = np.random.default_rng(seed)
    base = np.clip(rng.normal(127.5, 6.0, CHUNK), 0, 255).astype(np.uint8)
    base[CHUNK // 3:CHUNK // 3 + 40_000] = np.clip(
        127.5 + 90 * np.cos(np.arange(40_000) * 0.3), 0, 255).astype(np.uint8)
    written = 0
    with open(path, "wb") as f:
        k = 0
        while written < size:
            n = min(CHUNK, size - written)
            f.write(np.roll(base, 2 * k)[:n].tobytes())
            written += n
            k += 1


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="4G", help="file size to generate (e.g. 1G, 4G, 500M)")
    ap.add_argument("--path", type=Path, help="read this existing file instead of generating one")
    ap.add_argument("--block-size", type=int, default=1 << 18, help="samples per block")
    ap.add_argument("--overlap", type=int, default=4096, help="samples of overlap between blocks")
    ap.add_argument("--levels", action="store_true", help="also time the level statistics pass")
    ap.add_argument("--generate-only", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a.generate_only:
        generate(a.generate_only, parse_size(a.size))
        return

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from keyguard.io import open_capture
    from keyguard.io.levels import measure_levels

    tmp = None
    path = a.path
    if path is None:
        tmp = tempfile.TemporaryDirectory(prefix="keyguard-bench-")
        path = Path(tmp.name) / "bench_433.92M_250k.cu8"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--size", a.size, "--generate-only", str(path)],
                       check=True)
        print(f"generated {path.stat().st_size / 1e9:.2f} GB in {time.perf_counter() - t0:.1f} s")
    try:
        rss0 = rss_mb()
        cap = open_capture(path)
        t0 = time.perf_counter()
        n = 0
        acc = 0.0
        for b in cap.blocks(block_size=a.block_size, overlap=a.overlap):
            new = b.samples[b.overlap:]
            acc += float(np.vdot(new, new).real)  # total power: touches every sample
            n += new.size
        dt = time.perf_counter() - t0
        print(f"file            {path} ({os.path.getsize(path) / 1e9:.2f} GB, {cap.num_samples} samples)")
        print(f"blocks()        {n / dt / 1e6:.1f} M samples/s ({n * 2 / dt / 1e9:.2f} GB/s of cu8), "
              f"{dt:.1f} s, mean power {10 * np.log10(acc / n):.2f} dBFS")
        print(f"peak RSS        {rss_mb():.1f} MB (before opening: {rss0:.1f} MB)")
        if a.levels:
            t0 = time.perf_counter()
            lv = measure_levels(cap)
            dt = time.perf_counter() - t0
            print(f"levels          {lv.samples / dt / 1e6:.1f} M samples/s, {dt:.1f} s, noise floor "
                  f"{lv.noise_floor_dbfs:.1f} dBFS, clipping {lv.clipping_fraction:.2e}")
            t0 = time.perf_counter()
            _ = cap.sha256
            dt = time.perf_counter() - t0
            print(f"sha256          {os.path.getsize(path) / dt / 1e9:.2f} GB/s")
            print(f"peak RSS        {rss_mb():.1f} MB after levels")
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
