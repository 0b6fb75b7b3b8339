#!/usr/bin/env python3
"""Alert latency and CPU of `keyguard monitor` on a real-time rtl_tcp stream.

A capture (default: the bundled RollJam scene) is served by `keyguard serve --realtime` on
127.0.0.1, so sample k is on air at wall time start + k/rate. The monitor runs in this process
with a sink that stamps every record's arrival. For each alert:

    latency = arrival wall time − wall time at which the alert's t_end sample was on air

which is how long after the end of the transmission that completes it the alert left. Target
(issue 6): < 1 s. Also printed: CPU seconds per stream second (one core = 1.0) and drops.

Usage: python bench/monitor_latency.py [CAPTURE] [--repeat N]
"""

from __future__ import annotations

import argparse
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from keyguard.alerts.dispatch import SinkSet  # noqa: E402
from keyguard.alerts.sink import Sink  # noqa: E402
from keyguard.errors import SourceError  # noqa: E402
from keyguard.io import open_capture  # noqa: E402
from keyguard.monitor import Monitor  # noqa: E402
from keyguard.pipeline import Scanner  # noqa: E402
from keyguard.sdr.open import open_source  # noqa: E402

DEFAULT = REPO / "captures/rolljam_sample/rolljam_sample_433.92M_250k.cu8"


class StampSink(Sink):
    """Keeps (arrival wall time, record) for every record."""

    name = "stamp"

    def __init__(self):
        self.seen: list[tuple[float, dict]] = []

    def emit(self, record: dict) -> None:
        self.seen.append((time.time(), record))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_once(capture: Path) -> dict:
    cap = open_capture(str(capture))
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", str(capture),
                               "--port", str(port), "--realtime"], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.5)  # let the server listen (a probe connection would use up its one pass)
        source = open_source(rtl_tcp=f"127.0.0.1:{port}", center_freq=cap.center_freq,
                             sample_rate=cap.sample_rate, max_reconnects=0)
        sink = StampSink()
        sinks = SinkSet([sink])
        mon = Monitor(source, Scanner(), sinks)
        cpu0 = time.process_time()
        wall0 = time.time()
        try:
            mon.run()
        except SourceError:  # the server closes after one pass of the file: end of stream
            pass
        sinks.close()
        summary = next(r for _, r in reversed(sink.seen) if r.get("type") == "summary")
        cpu = time.process_time() - cpu0
        wall = time.time() - wall0
    finally:
        server.kill()
        server.wait()
    # the stream's first sample was on air at source.start_time (set from the wall clock when
    # the first bytes arrived, i.e. slightly late: latencies below are upper bounds)
    t0 = source.start_time.timestamp()
    lat = [(arr - (t0 + rec["t_end"]), rec["kind"]) for arr, rec in sink.seen
           if rec.get("type") == "alert"]
    stream_s = cap.duration
    return {"latencies": lat, "cpu_per_stream_s": cpu / stream_s, "wall_s": wall,
            "dropped": summary.get("samples_dropped"), "gaps": summary.get("gaps"),
            "alerts": summary["alerts"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("capture", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    lats, cpus = [], []
    print(f"capture: {args.capture}")
    print(f"{'run':>3s} {'alerts':>6s} {'max latency s':>13s} {'median s':>9s} "
          f"{'CPU s per stream s':>18s} {'dropped':>8s}")
    for i in range(args.repeat):
        r = run_once(args.capture)
        ls = [x for x, _ in r["latencies"]]
        lats += ls
        cpus.append(r["cpu_per_stream_s"])
        print(f"{i + 1:3d} {r['alerts']:6d} {max(ls) if ls else float('nan'):13.3f} "
              f"{statistics.median(ls) if ls else float('nan'):9.3f} "
              f"{r['cpu_per_stream_s']:18.3f} {r['dropped']!s:>8s}")
        for x, kind in r["latencies"]:
            print(f"      {kind:10s} {x:7.3f} s after its transmission ended")
    if lats:
        print(f"alert latency: median {statistics.median(lats):.3f} s, max {max(lats):.3f} s "
              f"(target < 1 s)")
    print(f"CPU per stream second: median {statistics.median(cpus):.3f} (one core = 1.0); "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
