"""Live-path numbers: rtl_tcp client throughput, a 2.4 Msps real-time stream's losses and CPU,
and how long an alert takes to reach the JSONL file (fsync'd) and a webhook.

Run: .venv/bin/python bench/bench_live.py   (prints one line per number; 127.0.0.1 only)
"""

from __future__ import annotations

import resource
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from keyguard.alerts.dispatch import SinkSet
from keyguard.alerts.jsonl_sink import JsonlFileSink
from keyguard.alerts.webhook_sink import WebhookSink
from keyguard.events import Alert
from keyguard.io.capture import Capture
from keyguard.sdr.rtl_tcp import RtlTcpSource
from keyguard.sdr.server import RtlTcpServer

RATE = 2.4e6


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def stream(seconds: float, realtime: bool) -> None:
    rng = np.random.default_rng(0)
    x = ((rng.integers(0, 256, 2 * int(RATE)).astype(np.float32) - 127.5) / 127.5).view(
        np.complex64)  # 1 s, looped
    cap = Capture.from_array(x, RATE, 433.92e6)
    with RtlTcpServer(cap, realtime=realtime, loop=True, on_event=lambda s: None) as srv:
        src = RtlTcpSource("127.0.0.1", srv.address[1], sample_rate=RATE,
                           on_event=lambda s: None)
        n, c0, t0 = 0, cpu_s(), time.monotonic()
        with src:
            for b in src.blocks():
                n += b.samples.size
                if n >= seconds * RATE:
                    break
            wall, cpu = time.monotonic() - t0, cpu_s() - c0
            st = src.stats
    mode = "real-time" if realtime else "as fast as possible"
    print(f"rtl_tcp {mode}: {n / wall / 1e6:.2f} Msps received over {wall:.2f} s, "
          f"CPU {cpu / wall * 100:.0f}% of one core (server and client in this process), "
          f"dropped {st.samples_dropped} samples, {st.gaps} gaps")


def sink_latency(n: int = 50) -> None:
    got: dict[float, float] = {}

    class H(BaseHTTPRequestHandler):
        def do_POST(self):
            import json
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            got[body["t"]] = time.monotonic()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "alerts.jsonl"
        sinks = SinkSet([JsonlFileSink(path),
                         WebhookSink(f"http://127.0.0.1:{http.server_address[1]}/",
                                     queue_dir=Path(d) / "q")])
        file_lat, hook_lat = [], []
        for i in range(n):
            t0 = time.monotonic()
            sinks.emit(Alert("replay", "bench", float(i), i + 0.1, "high", 0.9, "x").to_dict())
            while path.read_bytes().count(b"\n") < i + 1:
                time.sleep(0.0005)
            file_lat.append(time.monotonic() - t0)
            while float(i) not in got:
                time.sleep(0.0005)
            hook_lat.append(got[float(i)] - t0)
        sinks.close()
    http.shutdown()
    print(f"alert to JSONL line (fsync'd): median {np.median(file_lat) * 1e3:.1f} ms, "
          f"max {max(file_lat) * 1e3:.1f} ms over {n}")
    print(f"alert to webhook POST received (via on-disk queue): median "
          f"{np.median(hook_lat) * 1e3:.1f} ms, max {max(hook_lat) * 1e3:.1f} ms over {n}")


if __name__ == "__main__":
    stream(20.0, realtime=False)
    stream(3.0, realtime=True)
    sink_latency()
