"""Sink specifications as given on the command line (``--sink SPEC``).

=================================================  ===========================================
``stdout`` / ``stdout:jsonl`` / ``stdout:table``    standard output
``jsonl:PATH``                                      append-only JSON Lines file
``mqtt://[user[:pass]@]host[:port][/prefix]``       MQTT broker, topics ``prefix/events|alerts``
``mqtts://...``                                     the same over TLS (port 8883 by default)
``webhook:http[s]://host[:port]/path``              HTTP POST of each alert
=================================================  ===========================================

MQTT options go in the query string: ``?qos=1&client_id=...&ca=FILE&insecure=1``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from keyguard.alerts.sink import Sink, SinkEventCallback
from keyguard.errors import InputError

SPEC_HELP = ("stdout[:jsonl|table], jsonl:PATH, mqtt[s]://[user:pass@]host[:port][/prefix], "
             "webhook:http[s]://host[:port]/path")


class SinkSpecError(InputError):
    """A ``--sink`` specification cannot be understood."""


def _bad(spec: str, why: str) -> SinkSpecError:
    return SinkSpecError(f"--sink {spec!r}: {why}", hint=f"forms: {SPEC_HELP}")


def parse_sink(spec: str, *, queue_dir: str | Path | None = None,
               on_event: SinkEventCallback | None = None) -> Sink:
    """Build the sink a ``--sink`` string names; SinkSpecError (exit 2) if it is malformed.

    queue_dir: where a webhook sink keeps undelivered alerts (default: the user's state dir).
    """
    spec = spec.strip()
    kind, _, rest = spec.partition(":")
    kind = kind.lower()
    if kind == "stdout":
        from keyguard.alerts.stdout_sink import StdoutSink

        fmt = rest or "jsonl"
        if fmt not in ("jsonl", "table"):
            raise _bad(spec, f"unknown stdout format {fmt!r} (jsonl or table)")
        return StdoutSink(fmt)
    if kind in ("jsonl", "file"):
        from keyguard.alerts.jsonl_sink import JsonlFileSink

        if not rest:
            raise _bad(spec, "no file name after 'jsonl:'")
        return JsonlFileSink(rest)
    if kind in ("mqtt", "mqtts"):
        return _mqtt(spec, on_event)
    if kind == "webhook":
        from keyguard.alerts.webhook_sink import WebhookSink

        if not rest.lower().startswith(("http://", "https://")):
            raise _bad(spec, "the webhook needs an http:// or https:// URL")
        if not urlsplit(rest).hostname:
            raise _bad(spec, "the webhook URL has no host")
        return WebhookSink(rest, queue_dir=queue_dir, on_event=on_event)
    raise _bad(spec, f"unknown sink kind {kind!r}")


def _mqtt(spec: str, on_event: SinkEventCallback | None) -> Sink:
    from keyguard.alerts.mqtt_sink import MqttSink

    u = urlsplit(spec)
    if not u.hostname:
        raise _bad(spec, "no broker host")
    tls = u.scheme.lower() == "mqtts"
    try:
        port = u.port or (8883 if tls else 1883)
    except ValueError:
        raise _bad(spec, "the port is not a number from 1 to 65535") from None
    q = {k: v[-1] for k, v in parse_qs(u.query).items()}
    unknown = set(q) - {"qos", "client_id", "ca", "insecure"}
    if unknown:
        raise _bad(spec, f"unknown MQTT option(s) {', '.join(sorted(unknown))} "
                         f"(qos, client_id, ca, insecure)")
    try:
        qos = int(q.get("qos", 1))
    except ValueError:
        raise _bad(spec, "qos must be 0, 1 or 2") from None
    if qos not in (0, 1, 2):
        raise _bad(spec, "qos must be 0, 1 or 2")
    if "ca" in q and not Path(q["ca"]).is_file():
        raise _bad(spec, f"CA file {q['ca']!r} not found")
    prefix = unquote(u.path.strip("/")) or "keyguard"
    return MqttSink(u.hostname, port, prefix,
                    username=unquote(u.username) if u.username else None,
                    password=unquote(u.password) if u.password is not None else None,
                    tls=tls, ca_file=q.get("ca"), insecure=q.get("insecure") in ("1", "true"),
                    client_id=q.get("client_id"), qos=qos, on_event=on_event)
