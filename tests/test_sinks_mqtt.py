"""MQTT sink against a real Mosquitto broker started on 127.0.0.1 by the test: topic layout,
QoS 1, username/password, and messages kept while the broker is down then delivered."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from keyguard.alerts.dispatch import SinkSet
from keyguard.alerts.mqtt_sink import MqttSink
from keyguard.alerts.spec import parse_sink
from keyguard.events import Alert, Packet

MOSQUITTO = shutil.which("mosquitto") or ("/usr/sbin/mosquitto"
                                          if Path("/usr/sbin/mosquitto").exists() else None)
pytestmark = pytest.mark.skipif(MOSQUITTO is None, reason="mosquitto not installed (Debian "
                                "package mosquitto; scripts/test.sh installs it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """A mosquitto process on 127.0.0.1:port with a config written to tmp."""

    def __init__(self, tmp: Path, port: int | None = None, password_file: Path | None = None,
                 tls: tuple[Path, Path] | None = None):
        self.port = port or free_port()
        self.tmp = tmp
        conf = [f"listener {self.port} 127.0.0.1", "persistence true",
                f"persistence_location {tmp}/", f"log_dest file {tmp}/mosquitto.log"]
        if tls:  # (certificate, key); the self-signed certificate is its own CA
            conf += [f"cafile {tls[0]}", f"certfile {tls[0]}", f"keyfile {tls[1]}"]
        if os.geteuid() == 0:
            conf.append("user root")  # else it drops to user mosquitto, who cannot read tmp
        if password_file:
            conf += ["allow_anonymous false", f"password_file {password_file}"]
        else:
            conf += ["allow_anonymous true"]
        self.conf = tmp / "mosquitto.conf"
        self.conf.write_text("\n".join(conf) + "\n")
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Broker":
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = self.tmp / "mosquitto.log"
                raise RuntimeError(f"mosquitto exited: {log.read_text() if log.exists() else ''}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: mosquitto saves its persistent sessions
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path).start()
    yield b
    b.stop()


class Subscriber:
    """A paho client that records (topic, JSON) for every message under ``prefix/#``."""

    def __init__(self, port: int, prefix: str, username=None, password=None,
                 client_id: str = "kg-test-sub", ca_file: Path | None = None):
        import paho.mqtt.client as mqtt

        self.messages: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.prefix = prefix
        # a persistent session: QoS 1 messages published while we are away are kept for us
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                             clean_session=False)
        if username:
            self.c.username_pw_set(username, password)
        if ca_file:
            self.c.tls_set(ca_certs=str(ca_file))
        self.c.on_connect = lambda c, u, f, rc, p: c.subscribe(f"{prefix}/#", qos=1)
        self.c.on_subscribe = lambda *a: self.subscribed.set()
        self.c.on_message = self._on_message
        self.c.reconnect_delay_set(1, 1)
        self.c.connect("127.0.0.1", port, keepalive=10)
        self.c.loop_start()
        assert self.subscribed.wait(10), "subscriber could not subscribe"

    def _on_message(self, c, u, msg):
        with self.lock:
            self.messages.append((msg.topic, json.loads(msg.payload)))

    def wait_for(self, n: int, timeout_s: float = 15.0) -> list[tuple[str, dict]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= n:
                    return list(self.messages)
            time.sleep(0.02)
        with self.lock:
            return list(self.messages)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def said(lines: list[str], text: str, timeout_s: float = 10.0) -> bool:
    """Wait (bounded) until a sink event line containing ``text`` has been reported."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(text in ln for ln in lines):
            return True
        time.sleep(0.05)
    return False


def packet(i: int) -> dict:
    return Packet("rtl_tcp://127.0.0.1:1234", i, i + 0.1, "OOK", "keeloq", 66, f"{i:017X}",
                  identity="keeloq:0D36C681").to_dict()


def alert(i: int) -> dict:
    return Alert("replay", "rtl_tcp://127.0.0.1:1234", i, i + 0.1, "high", 0.95,
                 f"code {i} seen before", identity="keeloq:0D36C681").to_dict()


def test_events_and_alerts_topics_with_qos1(broker):
    sub = Subscriber(broker.port, "kgtest")
    lines: list[str] = []
    sink = parse_sink(f"mqtt://127.0.0.1:{broker.port}/kgtest", on_event=lines.append)
    try:
        assert isinstance(sink, MqttSink) and sink.qos == 1
        sink.emit(packet(1))
        sink.emit(alert(2))
        sink.flush(timeout_s=10)  # every message acknowledged by the broker
        msgs = sub.wait_for(3)
    finally:
        sink.close()
        sub.close()
    assert sorted((t, m["type"], m["t"]) for t, m in msgs) == [
        ("kgtest/alerts", "alert", 2.0), ("kgtest/events", "alert", 2.0),
        ("kgtest/events", "packet", 1.0)]
    assert [m for t, m in msgs if t == "kgtest/alerts"][0] == alert(2)
    assert any("connected" in ln for ln in lines)


def test_username_and_password(tmp_path):
    mosquitto_passwd = shutil.which("mosquitto_passwd")
    if mosquitto_passwd is None:
        pytest.skip("mosquitto_passwd not installed")
    pw = tmp_path / "passwd"
    subprocess.run([mosquitto_passwd, "-b", "-c", str(pw), "keyguard", "s3cret:@/"], check=True,
                   timeout=10, capture_output=True)
    b = Broker(tmp_path, password_file=pw).start()
    try:
        sub = Subscriber(b.port, "secure", "keyguard", "s3cret:@/", client_id="kg-pw-sub")
        # the password is URL-quoted in the spec and never shown in the sink's name
        sink = parse_sink(f"mqtt://keyguard:s3cret%3A%40%2F@127.0.0.1:{b.port}/secure")
        assert "s3cret" not in sink.name
        sink.emit(alert(7))
        sink.flush(timeout_s=10)
        msgs = sub.wait_for(2)
        sink.close()
        sub.close()
        assert {t for t, _ in msgs} == {"secure/events", "secure/alerts"}

        lines: list[str] = []
        wrong = MqttSink("127.0.0.1", b.port, "secure", username="keyguard", password="nope",
                         on_event=lines.append)
        assert said(lines, "refused") and not wrong.connected.is_set()
        wrong.close()
    finally:
        b.stop()


def test_broker_down_then_back_delivers_kept_messages_in_order(tmp_path):
    b = Broker(tmp_path).start()
    sub = Subscriber(b.port, "kgr", client_id="kg-restart-sub")
    lines: list[str] = []
    sink = MqttSink("127.0.0.1", b.port, "kgr", reconnect_min_s=1, reconnect_max_s=1,
                    client_id="kg-restart-pub", on_event=lines.append)
    sinks = SinkSet([sink], on_error=lines.append, retry_initial_s=0.1, retry_max_s=0.5)
    try:
        assert sink.connected.wait(10)
        sinks.emit(alert(0))
        assert sinks.flush(10)
        b.stop()
        deadline = time.monotonic() + 10
        while sink.connected.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not sink.connected.is_set()
        for i in range(1, 6):  # raised while the broker is down: kept, not lost
            sinks.emit(alert(i))
        time.sleep(0.3)
        assert sink.unacknowledged >= 5
        b.start()
        assert sink.connected.wait(15), "the sink did not reconnect"
        sink.flush(timeout_s=15)
        msgs = sub.wait_for(12, timeout_s=15)
    finally:
        sinks.close(timeout_s=5)
        sub.close()
        b.stop()
    alerts = [m["t"] for t, m in msgs if t == "kgr/alerts"]
    # QoS 1 is at-least-once: the broker may hand the subscriber a message again after its
    # restart, but none is lost and they arrive in order
    first_seen = list(dict.fromkeys(alerts))
    assert first_seen == [float(i) for i in range(6)]
    assert alerts == sorted(alerts)
    assert any("disconnected" in ln for ln in lines) and any("reconnected" in ln for ln in lines)


def test_tls_with_a_private_ca(tmp_path):
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not installed (Debian package openssl)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, timeout=30,
                   capture_output=True)
    b = Broker(tmp_path, tls=(cert, key)).start()
    try:
        sub = Subscriber(b.port, "kgtls", client_id="kg-tls-sub", ca_file=cert)
        sink = parse_sink(f"mqtts://127.0.0.1:{b.port}/kgtls?ca={cert}")
        assert sink.name.startswith("mqtts://")
        sink.emit(alert(9))
        sink.flush(timeout_s=10)
        msgs = sub.wait_for(2)
        sink.close()
        sub.close()
        assert sorted(t for t, _ in msgs) == ["kgtls/alerts", "kgtls/events"]

        lines: list[str] = []  # without the CA the broker's certificate is not trusted
        untrusted = MqttSink("127.0.0.1", b.port, "kgtls", tls=True, on_event=lines.append)
        assert said(lines, "cannot reach the broker") and not untrusted.connected.is_set()
        untrusted.close()
    finally:
        b.stop()
