"""rtl_tcp client: protocol encoding, a clean stream from `keyguard serve`'s server, and a
protocol-level test server that misbehaves on purpose (truncated header, garbage, disconnect
mid-stream, stalls, odd byte counts)."""

from __future__ import annotations

import socket
import struct
import threading
import time

import numpy as np
import pytest

from keyguard.errors import SourceError
from keyguard.io.capture import Capture
from keyguard.io.raw import SAMPLE_FORMATS
from keyguard.io.writers import encode
from keyguard.sdr.rtl_tcp import (CMD_AGC, CMD_BIAS_TEE, CMD_FREQ, CMD_GAIN, CMD_GAIN_MODE,
                                  CMD_PPM, CMD_SAMPLE_RATE, RtlTcpHeader, RtlTcpSource,
                                  decode_command, encode_command, parse_header, tuning_commands)
from keyguard.sdr.server import RtlTcpServer

RATE = 250_000.0
GOOD_HEADER = b"RTL0" + struct.pack(">II", 5, 29)


def cu8_ramp(n_samples: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, 2 * n_samples, dtype=np.uint8).tobytes()


def to_complex(raw: bytes) -> np.ndarray:
    return SAMPLE_FORMATS["cu8"].to_complex(np.frombuffer(raw, np.uint8))


class ScriptedServer:
    """Accepts connections on 127.0.0.1 and runs one script per connection, in order.

    A script is a function (conn, server) -> None, run in its own thread. Commands the client
    sends are collected.
    After the scripts run out, further connections are refused by closing them at once.
    """

    def __init__(self, *scripts):
        self.scripts = list(scripts)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.commands: list[tuple[int, int]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _read_commands(self, conn):
        buf = b""
        while True:
            try:
                got = conn.recv(1024)
            except OSError:
                return
            if not got:
                return
            buf += got
            while len(buf) >= 5:
                self.commands.append(decode_command(buf[:5]))
                buf = buf[5:]

    def _run(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            script = self.scripts.pop(0) if self.scripts else None
            if script is None:
                conn.close()
                continue
            threading.Thread(target=self._serve, args=(conn, script), daemon=True).start()

    def _serve(self, conn, script):
        reader = threading.Thread(target=self._read_commands, args=(conn,), daemon=True)
        reader.start()
        try:
            script(conn, self)
        except OSError:
            pass
        finally:
            # a graceful end: FIN first, so the client reads everything sent before it
            try:
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            reader.join(timeout=1.0)
            conn.close()

    def close(self):
        self.stop.set()
        self.sock.close()
        self.thread.join(timeout=5)


@pytest.fixture
def scripted():
    servers = []

    def make(*scripts):
        s = ScriptedServer(*scripts)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()


def collect(src: RtlTcpSource, timeout_s: float = 10.0):
    """All blocks until the stream ends; (blocks, error or None)."""
    blocks, error = [], None
    deadline = time.monotonic() + timeout_s
    try:
        with src:
            for b in src.blocks():
                blocks.append(b)
                assert time.monotonic() < deadline, "stream did not end in time"
    except SourceError as e:
        error = e
    return blocks, error


def source(port: int, **kw) -> RtlTcpSource:
    kw.setdefault("max_reconnects", 0)
    kw.setdefault("backoff_initial_s", 0.05)
    kw.setdefault("backoff_max_s", 0.2)
    kw.setdefault("connect_timeout_s", 2.0)
    kw.setdefault("block_s", 0.05)
    events = kw.pop("events", None)
    return RtlTcpSource("127.0.0.1", port, sample_rate=RATE, center_freq=433.92e6,
                        on_event=(events.append if events is not None else (lambda line: None)),
                        **kw)


# -- protocol ---------------------------------------------------------------------------------
def test_commands_are_five_bytes_big_endian_and_ppm_is_signed():
    assert encode_command(CMD_FREQ, 433_920_000) == bytes([1]) + struct.pack(">I", 433_920_000)
    assert decode_command(encode_command(CMD_PPM, -42)) == (CMD_PPM, -42)
    assert decode_command(encode_command(CMD_FREQ, 3_000_000_000)) == (CMD_FREQ, 3_000_000_000)
    cmds = [decode_command(c) for c in tuning_commands(433.92e6, 250e3, gain=40.2, ppm=-3,
                                                        agc=True, bias_tee=True)]
    assert cmds == [(CMD_SAMPLE_RATE, 250000), (CMD_GAIN_MODE, 1), (CMD_GAIN, 402),
                    (CMD_FREQ, 433920000), (CMD_PPM, -3), (CMD_AGC, 1), (CMD_BIAS_TEE, 1)]
    auto = [decode_command(c) for c in tuning_commands(868.3e6, 1e6)]
    assert (CMD_GAIN_MODE, 0) in auto and all(c != CMD_GAIN for c, _ in auto)


def test_header_parsing_accepts_rtl0_and_rejects_garbage():
    h = parse_header(GOOD_HEADER)
    assert h == RtlTcpHeader(5, 29) and h.tuner_name == "R820T"
    assert RtlTcpHeader(5, 29).to_bytes() == GOOD_HEADER
    with pytest.raises(SourceError, match="not an rtl_tcp server"):
        parse_header(b"HTTP/1.1 400")
    with pytest.raises(SourceError, match="implausible"):
        parse_header(b"RTL0" + struct.pack(">II", 5, 0xFFFFFFFF))
    with pytest.raises(SourceError, match="implausible"):
        parse_header(b"RTL0" + struct.pack(">II", 99, 29))


# -- a clean stream ---------------------------------------------------------------------------
def test_client_receives_exact_samples_and_sends_tuning_from_keyguard_server():
    x = to_complex(cu8_ramp(60_000, seed=1))
    cap = Capture.from_array(x, RATE, 433.92e6, path="ramp.cu8")
    with RtlTcpServer(cap, tail_s=0, on_event=lambda line: None) as srv:
        events: list[str] = []
        blocks, error = collect(source(srv.address[1], gain=20.7, ppm=5, events=events))
        # the server closed after the capture; with no reconnects allowed that ends the stream
        assert error is not None and "gave up" in str(error)
        # the server's command reader runs in its own thread: give it a bounded moment
        deadline = time.monotonic() + 5.0
        while len(srv.stats.commands) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        cmds = {(c, p) for _, c, p in srv.stats.commands}
    got = np.concatenate([b.samples for b in blocks])
    assert np.array_equal(got, x)
    assert [b.start for b in blocks] == list(np.cumsum([0] + [b.samples.size
                                                             for b in blocks[:-1]]))
    assert {(CMD_SAMPLE_RATE, 250000), (CMD_FREQ, 433920000), (CMD_GAIN_MODE, 1),
            (CMD_GAIN, 207), (CMD_PPM, 5)} <= cmds
    assert all(b.time is not None and b.time.tzinfo is not None for b in blocks)
    assert any("connected (R820T" in e for e in events)


def test_odd_byte_counts_keep_the_half_sample_for_the_next_read(scripted):
    raw = cu8_ramp(5001, seed=2)

    def dribble(conn, srv):
        conn.sendall(GOOD_HEADER)
        # odd-sized pieces: every sample boundary falls mid-read at some point
        sizes = [1, 3, 7, 1, 2, 5, 333, 1]
        pos, i = 0, 0
        while pos < len(raw):
            n = sizes[i % len(sizes)]
            conn.sendall(raw[pos:pos + n])
            pos += n
            i += 1
            if i % 50 == 0:
                time.sleep(0.001)

    srv = scripted(dribble)
    blocks, _ = collect(source(srv.port))
    got = np.concatenate([b.samples for b in blocks])
    assert np.array_equal(got, to_complex(raw))


# -- faults -----------------------------------------------------------------------------------
def test_connection_refused_is_one_clear_source_error():
    s = socket.create_server(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(SourceError, match=rf"rtl_tcp://127.0.0.1:{port}: cannot connect.*"
                                          r"is rtl_tcp running there"):
        source(port).open()


def test_wrong_magic_is_a_source_error_not_a_retry(scripted):
    srv = scripted(lambda c, s: c.sendall(b"SSH-2.0-OpenSSH_9.2\r\n"))
    with pytest.raises(SourceError, match="not an rtl_tcp server"):
        source(srv.port, max_reconnects=5).open()
    assert srv.connections == 1


def test_garbage_server_without_header_fails_cleanly(scripted):
    junk = np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    srv = scripted(lambda c, s: c.sendall(b"\x00\xffRT" + junk))
    with pytest.raises(SourceError, match="not an rtl_tcp server"):
        source(srv.port).open()


def test_truncated_header_is_retried_then_streams(scripted):
    raw = cu8_ramp(20_000, seed=4)

    def truncated(conn, srv):
        conn.sendall(GOOD_HEADER[:7])

    def good(conn, srv):
        conn.sendall(GOOD_HEADER + raw)

    srv = scripted(truncated, good)
    # the very first connection must succeed (a user typo should fail fast) ...
    with pytest.raises(SourceError, match=r"closed the connection inside the header \(7 of 12"):
        source(srv.port).open()
    # ... but after a truncated header on a reconnect, the client tries again
    srv2 = scripted(lambda c, s: c.sendall(GOOD_HEADER + raw[:2000]), truncated, good)
    events: list[str] = []
    blocks, error = collect(source(srv2.port, max_reconnects=3, events=events))
    assert srv2.connections >= 3
    got = np.concatenate([b.samples for b in blocks])
    assert got.size == 1000 + 20_000
    assert np.array_equal(got[1000:], to_complex(raw))
    assert any("reconnect attempt 1 failed" in e and "inside the header" in e for e in events)
    assert "gave up" in str(error)


def test_disconnect_mid_stream_reconnects_and_counts_lost_air_time(scripted):
    first, second = cu8_ramp(30_000, seed=5), cu8_ramp(30_000, seed=6)
    half = len(first) // 2 + 1  # odd: cut inside a sample

    def cut(conn, srv):
        conn.sendall(GOOD_HEADER + first[:half])
        time.sleep(0.05)

    def resume(conn, srv):
        time.sleep(0.3)  # the server comes back after a while: that air time is lost
        conn.sendall(GOOD_HEADER + second)

    events: list[str] = []
    srv = scripted(cut, resume)
    src = source(srv.port, max_reconnects=5, events=events)
    blocks, error = collect(src)
    st = src.stats
    assert st.reconnects == 1
    # the half sample at the cut is never completed, so never delivered
    got = np.concatenate([b.samples for b in blocks])
    assert got.size == half // 2 + 30_000
    assert np.array_equal(got[:half // 2], to_complex(first[:half - 1]))
    assert np.array_equal(got[half // 2:], to_complex(second))
    after = [b for b in blocks if b.gap_before]
    assert len(after) == 1
    gap = after[0].gap_before
    # lost ≈ the outage (≥ 0.3 s of server absence plus back-off), at 250 ksps
    assert 0.25 * RATE < gap < 3.0 * RATE
    assert after[0].start == half // 2 + gap  # the sample clock counts the lost samples
    assert st.samples_dropped == gap and st.gaps >= 1
    assert any("connection lost (server closed the connection)" in e for e in events)
    assert any("reconnected after" in e for e in events)
    # every command set is re-sent on the new connection
    assert sum(1 for c, p in srv.commands if c == CMD_FREQ) == 2


def test_short_stall_is_counted_as_a_gap_without_reconnecting(scripted):
    raw = cu8_ramp(10_000, seed=7)

    def stall(conn, srv):
        conn.sendall(GOOD_HEADER + raw[:8000])
        time.sleep(0.6)
        conn.sendall(raw[8000:])

    srv = scripted(stall)
    events: list[str] = []
    src = source(srv.port, gap_threshold_s=0.1, stall_timeout_s=5.0, events=events)
    blocks, _ = collect(src)
    st = src.stats
    assert st.reconnects == 0 and st.gaps == 1 and 0.4 < st.gap_s < 1.5
    assert np.array_equal(np.concatenate([b.samples for b in blocks]), to_complex(raw))
    assert any("stalled for" in e for e in events)
    # the data before the stall was handed over during the stall, not held back for more
    assert 4000 in np.cumsum([b.samples.size for b in blocks])


def test_dead_stall_reconnects(scripted):
    raw = cu8_ramp(4000, seed=8)

    def hang(conn, srv):
        conn.sendall(GOOD_HEADER + raw)
        srv.stop.wait(3.0)  # keeps the socket open and silent

    srv = scripted(hang, lambda c, s: c.sendall(GOOD_HEADER + raw))
    events: list[str] = []
    src = source(srv.port, gap_threshold_s=0.05, stall_timeout_s=0.3, max_reconnects=2,
                 events=events)
    t0 = time.monotonic()
    blocks, error = collect(src)
    assert time.monotonic() - t0 < 3.0
    assert src.stats.reconnects == 1
    assert any("no data for" in e for e in events)
    got = np.concatenate([b.samples for b in blocks])
    assert np.array_equal(got, np.concatenate([to_complex(raw), to_complex(raw)]))


def test_gives_up_after_max_reconnects_with_a_clear_error(scripted):
    srv = scripted(lambda c, s: c.sendall(GOOD_HEADER + cu8_ramp(100)))
    events: list[str] = []
    blocks, error = collect(source(srv.port, max_reconnects=2, events=events))
    assert isinstance(error, SourceError)
    assert "gave up after 2 reconnect attempts" in str(error)
    assert sum("reconnect attempt" in e for e in events) == 2


def test_stop_from_another_thread_ends_a_live_stream(scripted):
    def endless(conn, srv):
        conn.sendall(GOOD_HEADER)
        chunk = cu8_ramp(2500)
        while not srv.stop.is_set():
            conn.sendall(chunk)
            time.sleep(0.01)

    srv = scripted(endless)
    src = source(srv.port)
    threading.Timer(0.3, src.stop).start()
    t0 = time.monotonic()
    n = 0
    with src:
        for b in src.blocks():
            n += b.samples.size
    assert time.monotonic() - t0 < 2.0 and n > 0


def test_server_tail_holds_the_captures_own_dc_offset():
    """After the capture, the server goes on sending "no signal" as the receiver would give
    it: the capture's DC offset, not exact zero (a step there would be a new line at 0 Hz for
    a client that removes the DC offset)."""
    rng = np.random.default_rng(3)
    dc = 0.03 - 0.02j
    x = (dc + 0.01 * (rng.standard_normal(40_000) + 1j * rng.standard_normal(40_000)))
    x = to_complex(encode(x.astype(np.complex64), "cu8").tobytes())
    cap = Capture.from_array(x, RATE, 433.92e6, path="dc.cu8")
    with RtlTcpServer(cap, tail_s=0.1, on_event=lambda line: None) as srv:
        blocks, _ = collect(source(srv.address[1]))
    got = np.concatenate([b.samples for b in blocks])
    assert got.size == x.size + int(0.1 * RATE)
    assert np.array_equal(got[:x.size], x)
    tail = got[x.size:]
    assert np.all(tail == tail[0])
    assert abs(tail[0] - dc) < 2 / 127.5
