"""Webhook sink against a local HTTP server: POSTs of alert JSON, the endpoint down (refused
and 503) then back (queued alerts delivered in order, none lost, none duplicated), refusals,
and the on-disk queue surviving a restart of the sink."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from keyguard.alerts.dispatch import SinkSet
from keyguard.alerts.spec import parse_sink
from keyguard.alerts.webhook_sink import WebhookSink
from keyguard.events import Alert, Packet


class Endpoint:
    """A webhook receiver on 127.0.0.1; ``status`` decides the answer; it can go down and up."""

    def __init__(self, port: int = 0):
        self.received: list[dict] = []
        self.keys: list[str] = []
        self.status = 200
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = outer.status
                if status == 200:
                    with outer.lock:
                        outer.received.append(json.loads(body))
                        outer.keys.append(self.headers.get("Idempotency-Key"))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.handler = Handler
        self.server = None
        self.start(port)

    def start(self, port: int | None = None) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port if port is None else port),
                                          self.handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def wait_for(self, n: int, timeout_s: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= n:
                    break
            time.sleep(0.02)
        with self.lock:
            return list(self.received)


@pytest.fixture
def endpoint():
    e = Endpoint()
    yield e
    try:
        e.stop()
    except Exception:
        pass


def alert(i: int) -> dict:
    return Alert("rolljam", "rtl_tcp://127.0.0.1:1234", float(i), i + 0.5, "critical", 0.97,
                 f"code {i} replayed after jamming", identity="keeloq:0D36C681").to_dict()


def fast(url, tmp_path, **kw) -> WebhookSink:
    kw.setdefault("backoff_initial_s", 0.05)
    kw.setdefault("backoff_max_s", 0.2)
    kw.setdefault("timeout_s", 2.0)
    return WebhookSink(url, queue_dir=tmp_path / "queue", **kw)


def test_alerts_are_posted_as_json_and_other_records_skipped(endpoint, tmp_path):
    sink = parse_sink(f"webhook:{endpoint.url}", queue_dir=tmp_path / "q")
    sinks = SinkSet([sink])
    sinks.emit(Packet("cap", 1.0, 1.1, "OOK", "keeloq", 66, "AB").to_dict())
    sinks.emit(alert(1))
    assert sinks.close(timeout_s=10)
    assert endpoint.received == [alert(1)]
    assert sink.pending == 0


def test_endpoint_down_then_back_delivers_in_order_none_lost_none_duplicated(endpoint,
                                                                           tmp_path):
    lines: list[str] = []
    sink = fast(endpoint.url, tmp_path, on_event=lines.append)
    sink.emit(alert(0))
    assert endpoint.wait_for(1) == [alert(0)]
    endpoint.stop()  # connection refused from now on
    for i in range(1, 8):
        sink.emit(alert(i))
    time.sleep(0.4)
    assert sink.pending == 7
    endpoint.status = 503  # up, but failing
    endpoint.start()
    for i in range(8, 10):
        sink.emit(alert(i))
    time.sleep(0.4)
    assert sink.pending == 9 and len(endpoint.received) == 1
    endpoint.status = 200  # healthy again
    got = endpoint.wait_for(10)
    sink.close(timeout_s=10)
    assert [a["t"] for a in got] == [float(i) for i in range(10)]
    assert got == [alert(i) for i in range(10)]
    assert len(set(endpoint.keys)) == 10
    assert sink.pending == 0 and sink.delivered == 10
    assert any("delivery failed" in ln for ln in lines)
    assert any("endpoint back" in ln for ln in lines)


def test_queue_survives_a_restart_of_the_sink(endpoint, tmp_path):
    endpoint.stop()
    sink = fast(endpoint.url, tmp_path)
    for i in range(3):
        sink.emit(alert(i))
    sink.close(timeout_s=0.3)  # endpoint still down: alerts stay on disk
    assert sorted(p.name for p in (tmp_path / "queue").glob("*.json")) == [
        "000000000000.json", "000000000001.json", "000000000002.json"]
    endpoint.start()
    lines: list[str] = []
    again = fast(endpoint.url, tmp_path, on_event=lines.append)  # the next run
    again.emit(alert(3))
    got = endpoint.wait_for(4)
    again.close(timeout_s=5)
    assert [a["t"] for a in got] == [0.0, 1.0, 2.0, 3.0]
    assert any("3 alerts queued from an earlier run" in ln for ln in lines)


def test_a_refused_alert_is_set_aside_and_does_not_block_the_queue(endpoint, tmp_path):
    endpoint.status = 400
    lines: list[str] = []
    sink = fast(endpoint.url, tmp_path, on_event=lines.append)
    sink.emit(alert(0))
    deadline = time.monotonic() + 5
    while sink.rejected == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    endpoint.status = 200
    sink.emit(alert(1))
    got = endpoint.wait_for(1)
    sink.close(timeout_s=5)
    assert got == [alert(1)]
    assert (tmp_path / "queue" / "rejected" / "000000000000.json").exists()
    assert any("refused" in ln and "HTTP 400" in ln for ln in lines)


def test_bounded_queue_drops_the_oldest(endpoint, tmp_path):
    endpoint.stop()
    sink = fast(endpoint.url, tmp_path, max_queue=3)
    for i in range(5):
        sink.emit(alert(i))
    assert sink.pending == 3 and sink.dropped == 2
    endpoint.start()
    got = endpoint.wait_for(3)
    sink.close(timeout_s=5)
    assert [a["t"] for a in got] == [2.0, 3.0, 4.0]
