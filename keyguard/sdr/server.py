"""An rtl_tcp server that plays a capture, so any SDR tool (rtl_433, GQRX, SDR++) can consume
recorded evidence as if a dongle were live.

Each client gets the 12-byte ``RTL0`` greeting and then the capture as cu8 bytes from its first
sample, as fast as the client reads or, with ``realtime``, at the capture's sample rate, then a
second of zero signal and the end of the connection (or the capture again, with ``loop``). Clients
are served one at a time, like rtl_tcp. Tuning commands are read, logged and remembered but do
not change the data: a recording cannot be re-tuned (a request for another rate or frequency is
reported, so the user knows the client expects something else).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from keyguard.io.capture import Capture
from keyguard.io.writers import encode
from keyguard.sdr.rtl_tcp import (CMD_FREQ, CMD_SAMPLE_RATE, COMMAND_NAMES, RtlTcpHeader,
                                  decode_command)

log = logging.getLogger("keyguard.sdr.server")

#: R820T, the tuner of most RTL-SDR dongles, and its 29 gain steps: what clients expect to see.
DEFAULT_HEADER = RtlTcpHeader(tuner_type=5, gain_count=29)


@dataclass
class ServerStats:
    """What the server has done so far (read it from any thread)."""

    clients: int = 0
    bytes_sent: int = 0
    commands: list = field(default_factory=list)  # (client "host:port", command, parameter)


class RtlTcpServer:
    """Serve ``capture`` over the rtl_tcp protocol on ``host``:``port`` (0 = a free port).

    realtime: pace the stream at the capture's sample rate (else as fast as the client reads).
    loop: start again from the first sample at the end (else close the client's connection).
    tail_s: seconds of no signal sent after the capture before closing (not with loop): a
    radio never stops, and decoders such as rtl_433 process their last buffers and close
    the last burst only when more samples follow; without it the end can be lost. The tail
    holds the capture's own DC offset (the median of its first second), as the receiver
    would give with nothing on the air: a step to exact zero would itself be a new "signal"
    at 0 Hz for a client that tracks and removes the DC offset.
    chunk_s: seconds of samples per send. on_event: receives one line per client event.
    """

    def __init__(self, capture: Capture, host: str = "127.0.0.1", port: int = 0, *,
                 realtime: bool = False, loop: bool = False, tail_s: float = 1.0,
                 chunk_s: float = 0.02,
                 header: RtlTcpHeader = DEFAULT_HEADER,
                 on_event: Callable[[str], None] | None = None):
        if capture.reader is None:
            raise ValueError(f"{capture.path}: this capture has no IQ samples to serve")
        self.capture = capture
        self.realtime, self.loop = bool(realtime), bool(loop)
        self.tail = max(0, int(round(tail_s * capture.sample_rate)))
        self.chunk = max(256, int(capture.sample_rate * chunk_s))
        self.header = header
        self.stats = ServerStats()
        self._on_event = on_event
        self._stop = threading.Event()
        self._client: socket.socket | None = None
        self._lsock = socket.create_server((host, int(port)), reuse_port=False)
        self.address: tuple[str, int] = self._lsock.getsockname()[:2]
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> "RtlTcpServer":
        """Accept clients in a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, name="rtl_tcp server",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self, max_clients: int | None = None) -> None:
        """Accept and serve clients one at a time until :meth:`stop` (or ``max_clients``)."""
        self._lsock.settimeout(0.2)
        served = 0
        while not self._stop.is_set() and (max_clients is None or served < max_clients):
            try:
                conn, peer = self._lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                break  # listening socket closed by stop()
            served += 1
            self._serve_client(conn, f"{peer[0]}:{peer[1]}")

    def stop(self) -> None:
        """Stop accepting, drop the current client, and return once the server thread ended."""
        self._stop.set()
        client = self._client
        if client is not None:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._lsock.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)

    def __enter__(self) -> "RtlTcpServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- one client ---------------------------------------------------------------------------
    def _event(self, line: str) -> None:
        if self._on_event is not None:
            self._on_event(line)
        else:
            log.info("%s", line)

    def _serve_client(self, conn: socket.socket, peer: str) -> None:
        self.stats.clients += 1
        self._client = conn
        self._event(f"client {peer} connected")
        reader = threading.Thread(target=self._read_commands, args=(conn, peer),
                                  name=f"rtl_tcp commands {peer}", daemon=True)
        reason = "end of capture"
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.sendall(self.header.to_bytes())
            reader.start()
            self._send_samples(conn)
            if self._stop.is_set():
                reason = "server stopping"
        except OSError as e:  # the client went away: that is its right
            reason = f"client gone ({e.strerror or e})"
        finally:
            self._client = None
            # A graceful end: FIN, then wait for the client to close its side. Closing at once
            # with the client's commands unread would send a reset, and a reset makes the
            # client's kernel discard samples it has received but not yet read.
            try:
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            if reader.is_alive():
                reader.join(timeout=0.2 if self._stop.is_set() else 5.0)
            conn.close()
        self._event(f"client {peer} disconnected: {reason}")

    def _send_samples(self, conn: socket.socket) -> None:
        cap = self.capture
        self._t0 = time.monotonic()
        self._sent = 0  # samples since _t0, for pacing
        while not self._stop.is_set():
            pos = 0
            while pos < cap.num_samples and not self._stop.is_set():
                x = cap.read(pos, min(self.chunk, cap.num_samples - pos))
                if x.size == 0:
                    break
                if not self._send(conn, x):
                    return
                pos += x.size
            if not self.loop:
                break
        head = cap.read(0, min(cap.num_samples, int(cap.sample_rate)))
        dc = (complex(np.median(head.real), np.median(head.imag)) if head.size else 0j)
        silence = np.full(min(self.chunk, max(1, self.tail)), dc, dtype=np.complex64)
        left = self.tail
        while left > 0 and not self._stop.is_set():
            if not self._send(conn, silence[:left]):
                return
            left -= min(left, silence.size)

    def _send(self, conn: socket.socket, x: np.ndarray) -> bool:
        """Send samples as cu8 (paced when realtime); False if the server is stopping."""
        if self.realtime:
            delay = self._t0 + self._sent / self.capture.sample_rate - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                return False
        data = encode(x, "cu8")
        conn.sendall(memoryview(data))
        self.stats.bytes_sent += data.size
        self._sent += x.size
        return True

    def _read_commands(self, conn: socket.socket, peer: str) -> None:
        pending = b""
        while True:
            try:
                got = conn.recv(4096)
            except OSError:
                return
            if not got:
                return
            pending += got
            while len(pending) >= 5:
                cmd, param = decode_command(pending[:5])
                pending = pending[5:]
                self._note_command(peer, cmd, param)

    def _note_command(self, peer: str, cmd: int, param: int) -> None:
        self.stats.commands.append((peer, cmd, param))
        name = COMMAND_NAMES.get(cmd, f"unknown command 0x{cmd:02x}")
        note = ""
        if cmd == CMD_SAMPLE_RATE and param != round(self.capture.sample_rate):
            note = f" (the capture is {self.capture.sample_rate:g} Hz: data is not resampled)"
        elif (cmd == CMD_FREQ and self.capture.center_freq is not None
              and param != round(self.capture.center_freq)):
            note = f" (the capture is centred on {self.capture.center_freq:g} Hz)"
        self._event(f"client {peer} set {name} {param}{note}")
