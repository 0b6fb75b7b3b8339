"""SinkSet isolation (a failing or hanging sink never stops the others or the caller; it is
reported and retried), sink spec parsing, and the stdout formats."""

from __future__ import annotations

import io
import threading
import time

import pytest

from keyguard.alerts.dispatch import SinkSet
from keyguard.alerts.jsonl_sink import JsonlFileSink
from keyguard.alerts.sink import Sink, SinkError
from keyguard.alerts.spec import SinkSpecError, parse_sink
from keyguard.alerts.stdout_sink import StdoutSink
from keyguard.alerts.webhook_sink import WebhookSink
from keyguard.events import Alert, CaptureRecord, Packet, Summary, dumps


def alert(i: int) -> Alert:
    return Alert("replay", "cap", float(i), i + 0.1, "high", 0.9, f"alert {i}")


class Recorder(Sink):
    """Keeps what it is given; fails the first ``fail`` attempts; can block on a gate."""

    def __init__(self, name: str, fail: int = 0, gate: threading.Event | None = None):
        self.name, self.fail, self.gate = name, fail, gate
        self.got: list[dict] = []
        self.attempts = 0
        self.closed = False

    def emit(self, record: dict) -> None:
        self.attempts += 1
        if self.gate is not None:
            self.gate.wait(10)
        if self.attempts <= self.fail:
            raise SinkError(f"{self.name} is down (attempt {self.attempts})")
        self.got.append(record)

    def close(self) -> None:
        self.closed = True


def test_a_failing_sink_is_reported_retried_and_does_not_hold_up_others():
    lines: list[str] = []
    bad, good = Recorder("flaky", fail=3), Recorder("good")
    sinks = SinkSet([bad, good], on_error=lines.append, retry_initial_s=0.02, retry_max_s=0.05)
    t0 = time.monotonic()
    for i in range(5):
        sinks.emit(alert(i))
    assert time.monotonic() - t0 < 0.05  # emit never waits for a sink
    assert sinks.flush(5)
    assert [r["t"] for r in good.got] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert [r["t"] for r in bad.got] == [0.0, 1.0, 2.0, 3.0, 4.0]  # retried, in order
    st = {s.name: s for s in sinks.status()}
    assert st["flaky"].failures == 3 and st["flaky"].delivered == 5
    assert "flaky is down" in st["flaky"].last_error
    assert any("sink flaky failed" in ln and "retrying" in ln for ln in lines)
    assert any("sink flaky: working again after 3 failures" in ln for ln in lines)
    assert sinks.close(5) and bad.closed and good.closed


def test_a_hung_sink_fills_its_queue_drops_and_counts_while_others_carry_on():
    gate = threading.Event()
    lines: list[str] = []
    hung, good = Recorder("hung", gate=gate), Recorder("good")
    sinks = SinkSet([hung, good], queue_size=4, on_error=lines.append)
    for i in range(20):
        sinks.emit(alert(i))
        time.sleep(0.01)  # the good sink keeps up with this pace
    deadline = time.monotonic() + 5
    while len(good.got) < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(good.got) == 20
    st = {s.name: s for s in sinks.status()}
    assert st["hung"].dropped == 20 - 4 - 1  # 4 queued, 1 in the sink's hands
    assert any("sink hung: queue full" in ln for ln in lines)
    gate.set()
    assert sinks.close(5)
    assert [r["t"] for r in hung.got] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_a_sink_failing_at_shutdown_is_given_up_within_the_bound():
    lines: list[str] = []
    dead = Recorder("dead", fail=10**9)
    sinks = SinkSet([dead], on_error=lines.append, retry_initial_s=0.05, retry_max_s=0.05)
    sinks.emit(alert(1))
    t0 = time.monotonic()
    assert sinks.close(timeout_s=0.5) is False  # the record never got through: said so
    assert time.monotonic() - t0 < 5 and dead.got == [] and dead.closed
    assert any("giving up on this record at shutdown" in ln for ln in lines)


def test_sinks_take_only_the_record_types_they_want(tmp_path):
    rec = Recorder("all")
    hook = WebhookSink("http://127.0.0.1:9/none", queue_dir=tmp_path / "q")
    try:
        sinks = SinkSet([rec])
        for r in (CaptureRecord("c", None, "cu8", 250e3, 433.92e6, None, None), alert(1),
                  Packet("c", 1, 1.1, "OOK", "keeloq", 66, "AB"),
                  Summary(1, 1, 1, {"replay": 1}, 1.0)):
            sinks.emit(r)  # dataclass records are accepted as well as dicts
            assert hook.wants(r.to_dict()) == (r.to_dict()["type"] == "alert")
        sinks.close(5)
        assert [r["type"] for r in rec.got] == ["capture", "alert", "packet", "summary"]
    finally:
        hook.close(timeout_s=0.1)


# -- stdout -----------------------------------------------------------------------------------
def test_stdout_jsonl_is_the_contract_and_table_is_for_people():
    buf = io.StringIO()
    StdoutSink("jsonl", stream=buf).emit(alert(3).to_dict())
    assert buf.getvalue() == dumps(alert(3).to_dict()) + "\n"
    buf = io.StringIO()
    s = StdoutSink("table", stream=buf)
    s.emit(CaptureRecord("rtl_tcp://127.0.0.1:1234", None, "cu8", 250e3, 433.92e6, None,
                         None).to_dict())
    s.emit(Packet("c", 1.5, 1.6, "OOK", "keeloq", 66, "0D36C681", identity="keeloq:0D36C681",
                  snr_db=21.0).to_dict())
    s.emit(alert(3).to_dict())
    s.emit(Summary(1, 1, 1, {"replay": 1}, 2.0).to_dict())
    out = buf.getvalue().splitlines()
    assert out[0].startswith("== rtl_tcp://127.0.0.1:1234") and "433.92 MHz" in out[0]
    assert "keeloq:0D36C681" in out[1] and "SNR 21.0 dB" in out[1]
    assert "ALERT HIGH" in out[2] and "replay" in out[2] and "alert 3" in out[2]
    assert out[3] == "== 1 packets, 1 alerts (replay 1) from 1 captures in 2.0 s"


# -- spec parsing -----------------------------------------------------------------------------
def test_sink_specs_build_the_right_sinks(tmp_path):
    assert isinstance(parse_sink("stdout"), StdoutSink)
    assert parse_sink("stdout:table").fmt == "table"
    j = parse_sink(f"jsonl:{tmp_path / 'a.jsonl'}")
    assert isinstance(j, JsonlFileSink) and j.path == tmp_path / "a.jsonl"
    j.close()
    w = parse_sink("webhook:http://127.0.0.1:9/hook", queue_dir=tmp_path / "q")
    assert isinstance(w, WebhookSink) and w.url == "http://127.0.0.1:9/hook"
    w.close(timeout_s=0.1)


@pytest.mark.parametrize("spec,msg", [
    ("carrier-pigeon:home", "unknown sink kind 'carrier-pigeon'"),
    ("stdout:xml", "unknown stdout format 'xml'"),
    ("jsonl:", "no file name"),
    ("webhook:ftp://127.0.0.1/x", "http:// or https://"),
    ("mqtt://", "no broker host"),
    ("mqtt://127.0.0.1:99999/x", "port is not a number"),
    ("mqtt://127.0.0.1/x?qos=7", "qos must be 0, 1 or 2"),
    ("mqtt://127.0.0.1/x?retain=1", "unknown MQTT option"),
])
def test_bad_sink_specs_are_one_line_input_errors(spec, msg):
    with pytest.raises(SinkSpecError, match=msg) as e:
        parse_sink(spec)
    assert "\n" not in str(e.value) and "forms:" in str(e.value)
