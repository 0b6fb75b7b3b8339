#!/usr/bin/env python3
"""Alert latency, per stage, and CPU of `keyguard monitor` on a real-time rtl_tcp stream.

A capture (default: the bundled RollJam scene, 250 ksps; for the 2.4 Msps run render
bench/live24.toml with `keyguard simulate bench/live24.toml -o /tmp/live24`) is served by
`keyguard serve --realtime` on 127.0.0.1, so sample k is on air at wall time start + k/rate. The
monitor runs in this process with a sink that stamps every record's arrival. For each alert:

    latency = arrival wall time − wall time at which the alert's t_end sample was on air

which is how long after the end of the transmission that completes it the alert left (target,
issue 6: < 1 s). It is split into stages (all in seconds):

- front end: stream time at which the burst holding the alert's t_end left the burst detector,
  minus t_end (the detector's release horizon plus the block the burst ended in);
- engine: stream time at which the alert left the detection engine, minus the above (press
  closing, decision windows);
- behind: wall time of the engine's output minus the on-air time of the stream position it had
  reached (queueing and processing: how far the pipeline trails the radio);
- sink: arrival at the sink minus the engine's output.

Also printed: CPU of this process as a fraction of one core (CPU time / wall time; the rtl_tcp
server runs in its own process and is reported apart), samples received and dropped, the
source queue's high-water mark, and, with the scene's truth.json next to the capture, detection
against ground truth (keyguard.detect.scoring).

Usage: python bench/monitor_latency.py [CAPTURE] [--repeat N] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from keyguard.alerts.dispatch import SinkSet  # noqa: E402
from keyguard.alerts.sink import Sink  # noqa: E402
from keyguard.errors import SourceError  # noqa: E402
from keyguard.events import Alert  # noqa: E402
from keyguard.io import open_capture  # noqa: E402
from keyguard.monitor import Monitor  # noqa: E402
from keyguard.pipeline import CaptureSession, ScanOptions, Scanner, StreamSession  # noqa: E402
from keyguard.sdr.open import open_source  # noqa: E402

DEFAULT = REPO / "captures/rolljam_sample/rolljam_sample_433.92M_250k.cu8"


class StampSink(Sink):
    """Keeps (arrival wall time, record) for every record."""

    name = "stamp"

    def __init__(self):
        self.seen: list[tuple[float, dict]] = []

    def emit(self, record: dict) -> None:
        self.seen.append((time.time(), record))


class Clock:
    """Stream position (s) the pipeline has reached, and what left each stage when."""

    def __init__(self):
        self.pos = 0.0
        self.released: list[tuple[float, float, float]] = []  # (burst t, t_end, stream pos)
        self.alerts: list[tuple[Alert, float, float]] = []     # (alert, stream pos, wall time)


def instrument(clock: Clock, rate: float) -> None:
    """Patch the pipeline's stages to stamp their output with the stream position."""
    orig_process, orig_observe, orig_alerts = (StreamSession.process, CaptureSession._observe,
                                              Scanner._alerts)

    def process(self, block):
        clock.pos = (block.start + block.samples.size) / rate
        return orig_process(self, block)

    def observe(self, bursts):
        out = orig_observe(self, bursts)
        for ob in out:
            if ob.burst is not None:
                clock.released.append((ob.burst.t, ob.burst.t_end, clock.pos))
        return out

    def alerts(self, items):
        for a in orig_alerts(self, items):
            clock.alerts.append((a, clock.pos, time.time()))
            yield a

    StreamSession.process, CaptureSession._observe, Scanner._alerts = process, observe, alerts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(capture: Path, workers: int = 2) -> dict:
    cap = open_capture(str(capture))
    clock = Clock()
    instrument(clock, cap.sample_rate)
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
        mon = Monitor(source, Scanner(ScanOptions(workers=workers)), sinks)
        cpu0, wall0, srv0 = time.process_time(), time.time(), proc_cpu_s(server.pid)
        try:
            mon.run()
        except SourceError:  # the server closes after one pass of the file: end of stream
            pass
        cpu, wall = time.process_time() - cpu0, time.time() - wall0
        srv_cpu = proc_cpu_s(server.pid) - srv0
        sinks.close()
        summary = next(r for _, r in reversed(sink.seen) if r.get("type") == "summary")
    finally:
        server.kill()
        server.wait()
    # the stream's first sample was on air at source.start_time (set from the wall clock when
    # the first bytes arrived, i.e. slightly late: latencies below are upper bounds)
    t0 = source.start_time.timestamp()
    # the sink gets the alerts in the order the engine gave them (no severity filter here)
    arrivals = [arr for arr, rec in sink.seen if rec.get("type") == "alert"]
    rows = []
    for (a, pos, wall_out), arr in zip(clock.alerts, arrivals):
        # the burst that completes the alert: the one holding its t_end (released first)
        rel = [p for bt, be, p in clock.released if bt - 1e-3 <= a.t_end <= be + 1e-3]
        fe = (min(rel) - a.t_end) if rel else float("nan")
        rows.append({"kind": a.kind, "t": a.t, "t_end": a.t_end,
                     "latency": arr - (t0 + a.t_end), "front_end": fe,
                     "engine": (pos - a.t_end) - fe if rel else float("nan"),
                     "behind": wall_out - (t0 + pos), "sink": arr - wall_out,
                     "escalates": a.evidence.get("escalates")})
    truth = capture.parent / "truth.json"
    score = None
    if truth.exists():
        from keyguard.detect.scoring import score_alerts
        events = json.loads(truth.read_text())["events"]
        score = score_alerts([a for a, _, _ in clock.alerts], events, cap.duration).to_dict()
    return {"rows": rows, "cpu": cpu, "wall": wall, "server_cpu": srv_cpu,
            "stream_s": cap.duration, "rate": cap.sample_rate,
            "received": summary.get("samples_received"), "dropped": summary.get("samples_dropped"),
            "gaps": summary.get("gaps"), "queue_high_water": summary.get("queue_high_water"),
            "queue_capacity": summary.get("queue_capacity"), "alerts": summary["alerts"],
            "score": score}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("capture", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2,
                    help="threads for one block's work, as `keyguard monitor --workers` (default 2)")
    args = ap.parse_args()
    lats, cpus = [], []
    by_kind = defaultdict(list)
    print(f"capture: {args.capture}")
    for i in range(args.repeat):
        r = run_once(args.capture, args.workers)
        cpus.append(r["cpu"] / r["wall"])
        print(f"run {i + 1}: {r['stream_s']:.1f} s of air at {r['rate'] / 1e6:.3f} Msps in "
              f"{r['wall']:.1f} s wall; monitor CPU {r['cpu'] / r['wall']:.1%} of one core "
              f"({r['cpu'] / r['stream_s']:.3f} CPU s per stream s); rtl_tcp server CPU "
              f"{r['server_cpu'] / r['wall']:.1%}")
        print(f"       samples received {r['received']}, dropped {r['dropped']} in {r['gaps']} "
              f"gaps; source queue high-water {r['queue_high_water']} of "
              f"{r['queue_capacity']} blocks; {r['alerts']} alerts")
        print(f"       {'kind':9s} {'t':>8s} {'t_end':>8s} {'latency':>8s} {'front end':>9s} "
              f"{'engine':>7s} {'behind':>7s} {'sink':>6s}")
        for x in r["rows"]:
            lats.append(x["latency"])
            by_kind[x["kind"]].append(x["latency"])
            esc = "" if not x["escalates"] else "  escalates " + ", ".join(
                f"{e['kind']}@{e['t']:.2f}" for e in x["escalates"])
            print(f"       {x['kind']:9s} {x['t']:8.3f} {x['t_end']:8.3f} {x['latency']:8.3f} "
                  f"{x['front_end']:9.3f} {x['engine']:7.3f} {x['behind']:7.3f} "
                  f"{x['sink']:6.3f}{esc}")
        if r["score"] is not None:
            ks = {k: (v["detected"], v["events"], v["false_alarms"])
                  for k, v in r["score"]["kinds"].items()}
            print("       truth (detected/events, false alarms): " + ", ".join(
                f"{k} {d}/{e}, {f} FA" for k, (d, e, f) in sorted(ks.items())))
    if lats:
        print(f"alert latency: median {statistics.median(lats):.3f} s, max {max(lats):.3f} s "
              f"(target < 1 s); per kind: " + ", ".join(
                  f"{k} max {max(v):.3f} s" for k, v in sorted(by_kind.items())))
    print(f"monitor CPU: median {statistics.median(cpus):.1%} of one core (target < 50 % at "
          f"2.4 Msps); peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} "
          "MiB")


if __name__ == "__main__":
    main()
