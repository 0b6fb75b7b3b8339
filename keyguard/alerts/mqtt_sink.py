"""MQTT sink (paho-mqtt 2.x), with rtl_433's topic layout.

Every record is published to ``<prefix>/events``; alerts are also published to
``<prefix>/alerts`` so a SIEM or home-automation rule can subscribe to attacks alone. Messages use
QoS 1 (at least once). paho keeps QoS 1 messages in its bounded outgoing queue while the broker
is unreachable, reconnects with back-off in its network thread, and re-sends them in order when
the link is back; a full queue is a :class:`SinkError` (the dispatcher counts and reports it).
"""

from __future__ import annotations

import os
import ssl
import threading
import time

from keyguard.alerts.sink import Sink, SinkError, SinkEventCallback
from keyguard.events import dumps


class MqttSink(Sink):
    """Publish records to an MQTT broker.

    host, port: the broker. prefix: topic prefix (``keyguard`` gives ``keyguard/events`` and
    ``keyguard/alerts``). username, password: broker credentials. tls: connect with TLS
    (ca_file: a CA bundle, else the system's; insecure: skip the host-name check).
    qos: 0, 1 or 2. max_queued: messages kept while disconnected. on_event: one line per
    connect / disconnect.
    """

    def __init__(self, host: str, port: int = 1883, prefix: str = "keyguard", *,
                 username: str | None = None, password: str | None = None, tls: bool = False,
                 ca_file: str | None = None, insecure: bool = False, client_id: str | None = None,
                 qos: int = 1, keepalive_s: int = 30, max_queued: int = 10_000,
                 reconnect_min_s: float = 1.0, reconnect_max_s: float = 30.0,
                 on_event: SinkEventCallback | None = None):
        import paho.mqtt.client as mqtt

        if qos not in (0, 1, 2):
            raise ValueError(f"MQTT QoS must be 0, 1 or 2, not {qos}")
        self.host, self.port, self.qos = host, int(port), int(qos)
        self.prefix = prefix.strip("/") or "keyguard"
        self.events_topic = f"{self.prefix}/events"
        self.alerts_topic = f"{self.prefix}/alerts"
        scheme = "mqtts" if tls else "mqtt"
        user = f"{username}@" if username else ""  # never the password
        self.name = f"{scheme}://{user}{host}:{self.port}/{self.prefix}"
        self._on_event = on_event
        self._lock = threading.Lock()
        self._pending: set[int] = set()
        self._acked_early: set[int] = set()
        self.connected = threading.Event()
        self._mqtt = mqtt
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                   client_id=client_id or f"keyguard-{os.getpid()}-{id(self):x}",
                                   protocol=mqtt.MQTTv311)
        if username:
            self._client.username_pw_set(username, password)
        if tls:
            self._client.tls_set(ca_certs=ca_file, cert_reqs=ssl.CERT_REQUIRED)
            if insecure:
                self._client.tls_insecure_set(True)
        self._client.max_queued_messages_set(max_queued)
        self._client.reconnect_delay_set(min_delay=max(1, int(reconnect_min_s)),
                                         max_delay=max(1, int(reconnect_max_s)))
        self._client.on_connect = self._handle_connect
        self._client.on_disconnect = self._handle_disconnect
        self._client.on_publish = self._handle_publish
        self._client.on_connect_fail = self._handle_connect_fail
        self._fail_said = False
        self._was_connected = False
        self._client.connect_async(host, self.port, keepalive=keepalive_s)
        self._client.loop_start()  # paho's thread connects, and reconnects with back-off

    # -- paho callbacks (network thread) -------------------------------------------------------
    def _say(self, line: str) -> None:
        if self._on_event is not None:
            self._on_event(f"{self.name}: {line}")

    def _handle_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._say(f"broker refused the connection: {reason_code}")
            return
        self.connected.set()
        self._fail_said = False
        self._say("reconnected" if self._was_connected else "connected")
        self._was_connected = True

    def _handle_connect_fail(self, client, userdata) -> None:
        if not self._fail_said:  # once per outage, not at every retry
            self._fail_said = True
            self._say("cannot reach the broker (refused, unreachable or TLS failure); retrying")

    def _handle_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        was = self.connected.is_set()
        self.connected.clear()
        if was:
            self._say(f"disconnected ({reason_code}); reconnecting, messages are kept")

    def _handle_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self._lock:
            if mid in self._pending:
                self._pending.discard(mid)
            else:
                self._acked_early.add(mid)  # acknowledged before publish() returned its mid

    # -- Sink ----------------------------------------------------------------------------------
    def emit(self, record: dict) -> None:
        payload = dumps(record).encode("utf-8")
        self._publish(self.events_topic, payload)
        if record.get("type") == "alert":
            self._publish(self.alerts_topic, payload)

    def _publish(self, topic: str, payload: bytes) -> None:
        info = self._client.publish(topic, payload, qos=self.qos)
        if info.rc == self._mqtt.MQTT_ERR_QUEUE_SIZE:
            raise SinkError(f"{self.name}: outgoing queue full (broker unreachable)")
        if info.rc not in (self._mqtt.MQTT_ERR_SUCCESS, self._mqtt.MQTT_ERR_NO_CONN):
            raise SinkError(f"{self.name}: publish failed: {self._mqtt.error_string(info.rc)}")
        # MQTT_ERR_NO_CONN: paho keeps the QoS>0 message and sends it after reconnecting
        if self.qos == 0:
            return
        with self._lock:
            if info.mid in self._acked_early:
                self._acked_early.discard(info.mid)
            else:
                self._pending.add(info.mid)

    @property
    def unacknowledged(self) -> int:
        """QoS 1/2 messages the broker has not acknowledged yet."""
        with self._lock:
            return len(self._pending)

    def flush(self, timeout_s: float = 5.0) -> None:
        """Wait (bounded) until the broker has acknowledged every message; SinkError if not."""
        deadline = time.monotonic() + timeout_s
        while self.unacknowledged and time.monotonic() < deadline:
            time.sleep(0.01)
        if self.unacknowledged:
            raise SinkError(f"{self.name}: {self.unacknowledged} messages not acknowledged "
                            f"within {timeout_s:g} s (broker unreachable?)")

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._client.disconnect()
            self._client.loop_stop()
