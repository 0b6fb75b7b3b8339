"""Webhook sink: HTTP POST of each alert's JSON, through a bounded on-disk queue.

``emit`` only writes the alert into the queue directory (one file per alert, written to a
temporary name, fsync'd and renamed, so a crash never leaves half an alert) and wakes the
delivery thread. That thread POSTs the oldest queued alert, removes it on a 2xx answer, and
otherwise retries with exponential back-off, so alerts arrive in order, once each, when the
endpoint comes back. Alerts still queued at exit stay on disk and go out on the next run.
A 4xx answer other than 408/425/429 is a permanent refusal: the alert is moved to
``rejected/`` and reported rather than blocking the queue forever.
"""

from __future__ import annotations

import hashlib
import os
import threading
import urllib.error
import urllib.request
from pathlib import Path

from keyguard import __version__
from keyguard.alerts.sink import Sink, SinkError, SinkEventCallback
from keyguard.events import dumps
from keyguard.sdr.source import backoff_delays

#: HTTP statuses worth retrying: timeouts, rate limits, and every server-side error.
RETRY_STATUSES = frozenset({408, 425, 429})


def default_queue_dir(url: str) -> Path:
    """``$XDG_STATE_HOME/keyguard/webhook-<hash of url>`` (``~/.local/state`` when unset)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"),
                                                            ".local", "state")
    return Path(base) / "keyguard" / f"webhook-{hashlib.sha256(url.encode()).hexdigest()[:12]}"


class WebhookSink(Sink):
    """POST alerts (or the record ``types`` given) as JSON to ``url``.

    queue_dir: where undelivered alerts wait (default: :func:`default_queue_dir`).
    max_queue: alerts kept at most; beyond it the oldest is dropped and reported.
    timeout_s: per request. backoff_initial_s / backoff_max_s: retry delays (s).
    """

    def __init__(self, url: str, *, queue_dir: str | os.PathLike | None = None,
                 types: tuple[str, ...] = ("alert",), max_queue: int = 10_000,
                 timeout_s: float = 5.0, backoff_initial_s: float = 0.5,
                 backoff_max_s: float = 30.0, headers: dict | None = None,
                 on_event: SinkEventCallback | None = None):
        if not url.lower().startswith(("http://", "https://")):
            raise ValueError(f"webhook URL must start with http:// or https://: {url!r}")
        self.url = url
        self.name = f"webhook:{_redact(url)}"
        self.types = tuple(types)
        self.queue_dir = Path(queue_dir) if queue_dir is not None else default_queue_dir(url)
        self.max_queue = int(max_queue)
        self.timeout_s = float(timeout_s)
        self.backoff = (float(backoff_initial_s), float(backoff_max_s))
        self.headers = {"Content-Type": "application/json",
                        "User-Agent": f"keyguard/{__version__}", **(headers or {})}
        self._on_event = on_event
        self.delivered = 0
        self.rejected = 0
        self.dropped = 0
        try:
            self.queue_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise SinkError(f"{self.name}: cannot create queue directory {self.queue_dir}: "
                            f"{e.strerror}") from None
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Event()
        self._closing = threading.Event()
        existing = self._queued()
        self._seq = (int(existing[-1].stem) + 1) if existing else 0
        if existing:
            self._say(f"{len(existing)} alerts queued from an earlier run; delivering them first")
        self._thread = threading.Thread(target=self._deliver_loop, name=self.name, daemon=True)
        self._thread.start()

    # -- queue on disk -------------------------------------------------------------------------
    def _queued(self) -> list[Path]:
        """Queued alert files, oldest first (names are zero-padded sequence numbers)."""
        return sorted(p for p in self.queue_dir.glob("*.json") if p.stem.isdigit())

    @property
    def pending(self) -> int:
        return len(self._queued())

    def emit(self, record: dict) -> None:
        payload = (dumps(record) + "\n").encode("utf-8")
        with self._lock:
            queued = self._queued()
            while len(queued) >= self.max_queue:
                oldest = queued.pop(0)
                oldest.unlink(missing_ok=True)
                self.dropped += 1
                self._say(f"queue full ({self.max_queue}): dropped the oldest alert {oldest.name}")
            path = self.queue_dir / f"{self._seq:012d}.json"
            tmp = path.with_suffix(".tmp")
            try:
                with open(tmp, "wb") as f:
                    f.write(payload)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, path)
            except OSError as e:
                raise SinkError(f"{self.name}: cannot queue the alert in {self.queue_dir}: "
                                f"{e.strerror}") from None
            self._seq += 1
            self._idle.clear()
            self._wake.notify()

    # -- delivery ------------------------------------------------------------------------------
    def _say(self, line: str) -> None:
        if self._on_event is not None:
            self._on_event(f"{self.name}: {line}")

    def _post(self, payload: bytes, key: str) -> int:
        """POST once; the HTTP status, or raise OSError/URLError for transport failures."""
        req = urllib.request.Request(self.url, data=payload, method="POST",
                                     headers={**self.headers, "Idempotency-Key": key})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                resp.read()
                return resp.status
        except urllib.error.HTTPError as e:
            return e.code

    def _deliver_loop(self) -> None:
        delays = None
        failures = 0
        while True:
            with self._lock:
                queued = self._queued()
                if not queued:
                    self._idle.set()
                    if self._closing.is_set():
                        return
                    self._wake.wait(timeout=0.5)
                    continue
            path = queued[0]
            try:
                payload = path.read_bytes()
            except FileNotFoundError:  # dropped by a full queue meanwhile
                continue
            key = f"{path.stem}-{hashlib.sha256(payload).hexdigest()[:16]}"
            try:
                status = self._post(payload, key)
                error = None if 200 <= status < 300 else f"HTTP {status}"
            except (OSError, urllib.error.URLError) as e:
                status, error = None, str(getattr(e, "reason", None) or e)
            if error is None:
                path.unlink(missing_ok=True)
                self.delivered += 1
                if failures:
                    self._say(f"endpoint back after {failures} failed attempts; delivering "
                              f"{len(queued) - 1} queued alerts")
                failures, delays = 0, None
                continue
            if status is not None and 400 <= status < 500 and status not in RETRY_STATUSES:
                rejected = self.queue_dir / "rejected"
                rejected.mkdir(exist_ok=True)
                os.replace(path, rejected / path.name)
                self.rejected += 1
                self._say(f"endpoint refused an alert ({error}); kept in {rejected}")
                continue
            failures += 1
            if delays is None:
                delays = backoff_delays(*self.backoff)
            delay = next(delays)
            if failures == 1 or failures % 10 == 0:
                self._say(f"delivery failed ({error}); {len(queued)} alerts queued, "
                          f"retrying every ≤{delay:g} s")
            if self._closing.wait(delay):
                return  # closing: what is left stays queued on disk for the next run

    def flush(self, timeout_s: float = 10.0) -> None:
        """Wait (bounded) until every queued alert is delivered; SinkError if some are left."""
        if not self._idle.wait(timeout_s):
            raise SinkError(f"{self.name}: {self.pending} alerts still queued in "
                            f"{self.queue_dir} (endpoint down?); they are sent on the next run")

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop the delivery thread (after a bounded wait for delivery); keep what is left."""
        try:
            self.flush(timeout_s)
        except SinkError as e:
            self._say(str(e))
        self._closing.set()
        with self._lock:
            self._wake.notify()
        self._thread.join(timeout=self.timeout_s + 1.0)


def _redact(url: str) -> str:
    """The URL without a password (``https://user:***@host/``)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
