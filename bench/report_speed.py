#!/usr/bin/env python3
"""Time and peak memory of a report on a long capture (issue 7: a 1-hour 1.024 Msps capture).

Generates a sparse cu8 recording (noise with a key-fob burst every 30 s; 60 min at 1.024 Msps is
7.4 GB) in a child process, then, in fresh child processes so each peak RSS is its own:
  1. the capture's overview spectrogram alone (``stream_power``: one streamed pass, 1200 rows ×
     512 bins);
  2. the whole HTML report (timeline, waterfall, a zoom per alert, packet table) with one packet
     per burst and two alerts.
Prints seconds, samples/s and peak RSS (``ru_maxrss``) for each. Asserts nothing.

    .venv/bin/python bench/report_speed.py                  # 60 min (needs ~7.4 GB of disk)
    .venv/bin/python bench/report_speed.py --minutes 10     # shorter; extrapolated to 1 h
    .venv/bin/python bench/report_speed.py --path rec.cu8 --rate 1.024M

A file just written is usually still in the page cache: the numbers then measure keyguard's
conversion and FFT cost rather than the disk.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CENTRE_HZ = 433.92e6
BURST_EVERY_S = 30.0
CHUNK_SAMPLES = 1 << 22  # samples written per step while generating (8 MB of cu8)
#: the burst: 12 preamble pulses, then 66 PWM bits of a KeeLoq-like frame (µs)
BURST_US = np.array([400.0, 400.0] * 12 + [400.0, 800.0, 800.0, 400.0] * 33)


def generate(path: Path, minutes: float, rate: float) -> None:
    """Noise at about −40 dBFS with a KeeLoq-like OOK burst every 30 s, written as cu8."""
    from keyguard.io.writers import encode
    from keyguard.pulse_train import PulseTrain
    from keyguard.sim.render import render_pulse_train

    rng = np.random.default_rng(7)
    total = int(minutes * 60 * rate)
    # one noise chunk reused (generating 3.7 G normals would dominate the run; the content
    # does not change the cost of a spectrogram)
    noise = encode((rng.standard_normal(CHUNK_SAMPLES) + 1j * rng.standard_normal(CHUNK_SAMPLES))
                   * 0.007, "cu8")
    burst = render_pulse_train(PulseTrain(BURST_US, np.tile([1, 0], BURST_US.size // 2)
                                          .astype(np.int8)), rate,
                               freq_offset_hz=15e3, amplitude=0.4)
    every = int(BURST_EVERY_S * rate)
    with open(path, "wb") as f:
        pos = 0
        while pos < total:
            n = min(CHUNK_SAMPLES, total - pos)
            chunk = noise[:2 * n].copy()
            first = -(-pos // every) * every + every // 2  # bursts at 15 s, 45 s, ...
            for b in range(first - every, pos + n, every):
                lo, hi = max(b, pos), min(b + burst.size, pos + n)
                if b >= 0 and lo < hi:  # the burst replaces the noise there
                    chunk[2 * (lo - pos):2 * (hi - pos)] = encode(burst[lo - b:hi - b], "cu8")
            f.write(chunk.tobytes())
            pos += n


def measure(path: str, rate: float, what: str) -> dict:
    """Run one measurement in this process; return its numbers."""
    from keyguard.events import Alert, Packet
    from keyguard.io import open_capture
    from keyguard.io.record import capture_record
    from keyguard.report import build_report
    from keyguard.report.waterfall import stream_power

    cap = open_capture(path, fmt="cu8", sample_rate=rate, center_freq=CENTRE_HZ)
    t0 = time.perf_counter()  # imports above: not counted
    if what == "waterfall":
        sg, _ = stream_power(cap, rows=1200, nfft=512)
        extra = {"rows": int(sg.peak_db.shape[0]), "bins": int(sg.peak_db.shape[1]),
                 "frames": int(sg.frames), "avg_frames": int(sg.avg_frames)}
    else:
        dur = float(BURST_US.sum()) * 1e-6
        recs = [capture_record(cap)]
        t = BURST_EVERY_S / 2
        while t < cap.duration:
            recs.append(Packet(capture=cap.path, t=t, t_end=t + dur, modulation="OOK",
                               protocol="keeloq", bits=66, data="0" * 17,
                               identity="keeloq:0D36C681", code=f"0D36C681:{int(t):08X}",
                               freq_hz=CENTRE_HZ + 15e3, snr_db=30.0))
            t += BURST_EVERY_S
        pk = [r for r in recs if isinstance(r, Packet)]
        recs.append(Alert(kind="jamming", capture=cap.path, t=pk[1].t - 1, t_end=pk[1].t + 1,
                          severity="medium", confidence=0.9, summary="bench jam"))
        recs.append(Alert(kind="replay", capture=cap.path, t=pk[-1].t, t_end=pk[-1].t_end,
                          severity="high", confidence=0.97, summary="bench replay",
                          evidence={"first_seen": {"capture": cap.path, "t": pk[0].t,
                                                   "t_end": pk[0].t_end}}))
        html = build_report([cap], recs, analysis_time="2024-01-01T00:00:00Z")
        extra = {"html_bytes": len(html.encode()), "packets": len(pk)}
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"what": what, "seconds": dt, "samples": cap.num_samples, "peak_rss": rss, **extra}


def _child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="length to generate (min)")
    ap.add_argument("--rate", default="1.024M", help="sample rate (Hz; k/M suffix)")
    ap.add_argument("--path", help="an existing cu8 file instead of generating one")
    ap.add_argument("--dir", help="where to generate (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the generated file")
    ap.add_argument("--measure", choices=["waterfall", "report"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    rate = float(a.rate[:-1]) * {"k": 1e3, "M": 1e6}[a.rate[-1]] if a.rate[-1] in "kM" \
        else float(a.rate)
    if a.measure:
        print(json.dumps(measure(a.path, rate, a.measure)))
        return

    tmp = None
    if a.path:
        path = Path(a.path)
    else:
        tmp = Path(tempfile.mkdtemp(prefix="kg-report-bench-", dir=a.dir))
        path = tmp / f"bench_{CENTRE_HZ / 1e6:.2f}M_{rate / 1e3:g}k.cu8"
        need = int(a.minutes * 60 * rate * 2)
        free = shutil.disk_usage(tmp).free
        if need > free * 0.9:
            sys.exit(f"need {need / 1e9:.1f} GB but {free / 1e9:.1f} GB free; use --minutes")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                        "import report_speed as r; from pathlib import Path; "
                        "r.generate(Path(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]))",
                        str(Path(__file__).parent), str(path), str(a.minutes), str(rate)],
                       check=True)
        print(f"generated {path.name}: {os.path.getsize(path) / 1e9:.2f} GB in "
              f"{time.perf_counter() - t0:.1f} s")
    try:
        size = os.path.getsize(path)
        minutes = size / 2 / rate / 60
        print(f"capture: {minutes:.1f} min at {rate / 1e6:g} Msps, {size / 1e9:.2f} GB cu8")
        for what in ("waterfall", "report"):
            r = _child(["--measure", what, "--path", str(path), "--rate", str(rate)])
            per_hour = r["seconds"] * 60 / minutes
            line = (f"{what:9s}: {r['seconds']:7.1f} s  ({r['samples'] / r['seconds'] / 1e6:6.1f} "
                    f"Msamples/s; {per_hour:6.1f} s per hour of capture)  peak RSS "
                    f"{r['peak_rss'] / 2**20:6.0f} MiB")
            if what == "waterfall":
                line += f"  [{r['rows']} rows × {r['bins']} bins, {r['frames']:,} FFT frames]"
            else:
                line += f"  [{r['packets']} packets, HTML {r['html_bytes'] / 1e6:.2f} MB]"
            print(line)
    finally:
        if tmp is not None and not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
