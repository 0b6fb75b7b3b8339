"""rtl_tcp client: stream cu8 IQ from a remote RTL-SDR (``rtl_tcp`` on a Raspberry Pi by the car).

Protocol (osmocom rtl_tcp): on connect the server sends a 12-byte header, ``b"RTL0"``, the tuner
type (u32 big-endian) and the number of gain steps (u32 BE), then raw cu8 IQ for as long as the
connection lasts. The client sends 5-byte commands: u8 command, u32 BE parameter.

The client never crashes on a bad server: a wrong magic or an absurd header is a SourceError
(it is not an rtl_tcp server); a truncated header, a disconnect or a stall longer than
``stall_timeout_s`` closes the link and reconnects with exponential back-off, counting the
outage as dropped air time, until ``max_reconnects`` is exhausted.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass

import numpy as np

from keyguard.errors import SourceError
from keyguard.sdr.source import QUEUE_S, EventCallback, Source, backoff_delays

MAGIC = b"RTL0"
HEADER_LEN = 12

# Commands (u8) of the rtl_tcp protocol.
CMD_FREQ = 0x01
CMD_SAMPLE_RATE = 0x02
CMD_GAIN_MODE = 0x03  # 0 = automatic (tuner AGC), 1 = manual
CMD_GAIN = 0x04  # tenths of dB
CMD_PPM = 0x05
CMD_IF_GAIN = 0x06
CMD_TEST_MODE = 0x07
CMD_AGC = 0x08  # RTL2832 digital AGC
CMD_DIRECT_SAMPLING = 0x09
CMD_OFFSET_TUNING = 0x0A
CMD_RTL_XTAL = 0x0B
CMD_TUNER_XTAL = 0x0C
CMD_GAIN_INDEX = 0x0D
CMD_BIAS_TEE = 0x0E

COMMAND_NAMES = {
    CMD_FREQ: "frequency", CMD_SAMPLE_RATE: "sample rate", CMD_GAIN_MODE: "gain mode",
    CMD_GAIN: "gain", CMD_PPM: "frequency correction", CMD_IF_GAIN: "IF gain",
    CMD_TEST_MODE: "test mode", CMD_AGC: "AGC", CMD_DIRECT_SAMPLING: "direct sampling",
    CMD_OFFSET_TUNING: "offset tuning", CMD_RTL_XTAL: "RTL xtal", CMD_TUNER_XTAL: "tuner xtal",
    CMD_GAIN_INDEX: "gain by index", CMD_BIAS_TEE: "bias tee",
}

#: Tuner types of librtlsdr's ``enum rtlsdr_tuner``.
TUNER_NAMES = {0: "unknown", 1: "E4000", 2: "FC0012", 3: "FC0013", 4: "FC2580", 5: "R820T",
               6: "R828D"}
#: The most gain steps any RTL tuner reports (E4000: 14, R820T: 29); more means not rtl_tcp.
MAX_GAIN_COUNT = 64


@dataclass(frozen=True)
class RtlTcpHeader:
    tuner_type: int
    gain_count: int

    @property
    def tuner_name(self) -> str:
        return TUNER_NAMES.get(self.tuner_type, f"tuner type {self.tuner_type}")

    def to_bytes(self) -> bytes:
        return MAGIC + struct.pack(">II", self.tuner_type, self.gain_count)


def parse_header(raw: bytes, where: str = "rtl_tcp server") -> RtlTcpHeader:
    """Decode the 12-byte greeting; SourceError when it is not one rtl_tcp would send."""
    if len(raw) != HEADER_LEN:
        raise SourceError(f"{where}: header is {len(raw)} bytes, expected {HEADER_LEN}")
    if raw[:4] != MAGIC:
        raise SourceError(f"{where}: not an rtl_tcp server (greeting {raw[:4]!r}, "
                          f"expected {MAGIC!r}); check the host and port")
    tuner, gains = struct.unpack(">II", raw[4:])
    if tuner not in TUNER_NAMES or gains > MAX_GAIN_COUNT:
        raise SourceError(f"{where}: implausible rtl_tcp header (tuner type {tuner}, "
                          f"{gains} gain steps); the server is not a working rtl_tcp")
    return RtlTcpHeader(tuner, gains)


def encode_command(cmd: int, param: int) -> bytes:
    """One 5-byte command; negative parameters (ppm) are sent as 32-bit two's complement."""
    if not 0 <= cmd <= 0xFF:
        raise ValueError(f"command {cmd} out of range")
    return struct.pack(">BI", cmd, int(param) & 0xFFFFFFFF)


#: Commands whose parameter is a signed integer (corrections and gains can be negative).
SIGNED_COMMANDS = frozenset({CMD_PPM, CMD_GAIN, CMD_IF_GAIN})


def decode_command(raw: bytes) -> tuple[int, int]:
    """(command, parameter) of a 5-byte command; signed for ppm and gains, else unsigned."""
    cmd, p = struct.unpack(">BI", raw)
    if cmd in SIGNED_COMMANDS and p >= 1 << 31:
        p -= 1 << 32
    return cmd, p


def tuning_commands(center_freq: float, sample_rate: float, gain: float | str | None = "auto",
                    ppm: int = 0, agc: bool = False, bias_tee: bool = False) -> list[bytes]:
    """The commands that set a server up: rate, gain, frequency, correction, AGC, bias tee."""
    cmds = [encode_command(CMD_SAMPLE_RATE, int(round(sample_rate)))]
    if gain is None or gain == "auto":
        cmds.append(encode_command(CMD_GAIN_MODE, 0))
    else:
        cmds.append(encode_command(CMD_GAIN_MODE, 1))
        cmds.append(encode_command(CMD_GAIN, int(round(float(gain) * 10))))
    cmds.append(encode_command(CMD_FREQ, int(round(center_freq))))
    if ppm:
        cmds.append(encode_command(CMD_PPM, int(ppm)))
    cmds.append(encode_command(CMD_AGC, int(bool(agc))))
    if bias_tee:
        cmds.append(encode_command(CMD_BIAS_TEE, 1))
    return cmds


class _LinkLost(Exception):
    """The connection ended or stalled; the reason is the message."""


class RtlTcpSource(Source):
    """A live stream from an rtl_tcp server.

    host, port: the server (a name or address and TCP port). center_freq, sample_rate: Hz.
    gain: ``"auto"`` or dB. ppm: tuner correction (parts per million). agc: RTL2832 digital AGC.
    bias_tee: power an LNA over the antenna cable (servers that support it).
    connect_timeout_s: for the TCP connect and the header. gap_threshold_s: silence counted as a
    gap. stall_timeout_s: silence after which the link is declared dead and re-opened.
    max_reconnects: attempts in a row before giving up with SourceError (None: forever).
    """

    def __init__(self, host: str, port: int, *, center_freq: float = 433.92e6,
                 sample_rate: float = 250_000.0, gain: float | str | None = "auto", ppm: int = 0,
                 agc: bool = False, bias_tee: bool = False, block_s: float = 0.1,
                 queue_s: float = QUEUE_S, connect_timeout_s: float = 5.0,
                 gap_threshold_s: float = 0.25, stall_timeout_s: float = 5.0,
                 max_reconnects: int | None = None, backoff_initial_s: float = 0.5,
                 backoff_max_s: float = 30.0, on_event: EventCallback | None = None):
        if not 0 < int(port) < 65536:
            raise ValueError(f"port {port} out of range")
        super().__init__(f"rtl_tcp://{host}:{int(port)}", sample_rate, center_freq,
                         block_s=block_s, queue_s=queue_s, on_event=on_event)
        self.host, self.port = host, int(port)
        self.gain, self.ppm, self.agc, self.bias_tee = gain, int(ppm), bool(agc), bool(bias_tee)
        self.connect_timeout_s = float(connect_timeout_s)
        self.gap_threshold_s = float(gap_threshold_s)
        self.stall_timeout_s = max(float(stall_timeout_s), self.gap_threshold_s)
        self.max_reconnects = max_reconnects
        self.backoff_initial_s, self.backoff_max_s = backoff_initial_s, backoff_max_s
        self.header: RtlTcpHeader | None = None
        self._sock: socket.socket | None = None

    # -- connection --------------------------------------------------------------------------
    def _connect(self) -> socket.socket:
        """Connect, read and check the header, send the tuning. SourceError if not rtl_tcp;
        _LinkLost for failures worth retrying (refused, timeout, truncated header)."""
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout_s)
        except OSError as e:
            raise _LinkLost(f"cannot connect: {e.strerror or e}") from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            raw = b""
            deadline = time.monotonic() + self.connect_timeout_s
            while len(raw) < HEADER_LEN:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    got = sock.recv(HEADER_LEN - len(raw))
                except socket.timeout:
                    raise _LinkLost(f"no rtl_tcp header within {self.connect_timeout_s:g} s "
                                    f"({len(raw)} of {HEADER_LEN} bytes)") from None
                if not got:
                    if raw[:len(MAGIC)] != MAGIC[:len(raw[:len(MAGIC)])]:
                        parse_header(raw.ljust(HEADER_LEN, b"\0"), self.uri)
                    raise _LinkLost(f"server closed the connection inside the header "
                                    f"({len(raw)} of {HEADER_LEN} bytes)")
                raw += got
            self.header = parse_header(raw, self.uri)
            self.hw = f"RTL-SDR ({self.header.tuner_name}) via rtl_tcp {self.host}:{self.port}"
            try:
                for cmd in tuning_commands(self.center_freq or 0.0, self.sample_rate, self.gain,
                                           self.ppm, self.agc, self.bias_tee):
                    sock.sendall(cmd)
            except OSError as e:
                raise _LinkLost(f"connection lost while tuning: {e.strerror or e}") from None
            sock.settimeout(self.gap_threshold_s)
            return sock
        except BaseException:
            sock.close()
            raise

    def _open(self) -> None:
        try:
            self._sock = self._connect()
        except _LinkLost as e:
            raise SourceError(f"{self.uri}: {e}; is rtl_tcp running there?") from None
        except OSError as e:
            raise SourceError(f"{self.uri}: {e.strerror or e}") from None
        self._event(f"{self.uri}: connected ({self.header.tuner_name}, "
                    f"{self.header.gain_count} gain steps)")

    def _interrupt(self) -> None:
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _release(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    # -- reading ----------------------------------------------------------------------------
    def _produce(self) -> None:
        while not self._stop.is_set():
            try:
                self._stream(self._sock)
                return  # stopped on request
            except _LinkLost as e:
                self._release()
                if self._stop.is_set():
                    return
                self._event(f"{self.uri}: connection lost ({e}); reconnecting")
            self._sock = self._reconnect()
            if self._sock is None:
                return
            # The air time between the last sample received and the new stream was never
            # received: the sample clock says where the stream should be by now.
            missing = max(0, self._samples_behind())
            self._skip(missing, f"reconnected after {missing / self.sample_rate:.1f} s of "
                                f"lost air time")
            self._count_reconnect()
            self._anchor = None

    def _reconnect(self) -> socket.socket | None:
        attempts = 0
        for delay in backoff_delays(self.backoff_initial_s, self.backoff_max_s):
            if self.max_reconnects is not None and attempts >= self.max_reconnects:
                raise SourceError(f"{self.uri}: gave up after {attempts} reconnect attempts "
                                  f"(the rtl_tcp server is gone)")
            if self._stop.wait(delay):
                return None
            attempts += 1
            try:
                sock = self._connect()
            except _LinkLost as e:
                self._event(f"{self.uri}: reconnect attempt {attempts} failed ({e}); "
                            f"next in {min(self.backoff_max_s, delay * 2):g} s")
                continue
            except OSError as e:
                self._event(f"{self.uri}: reconnect attempt {attempts} failed ({e})")
                continue
            self._event(f"{self.uri}: reconnected after {attempts} attempt(s)")
            return sock
        return None  # pragma: no cover - backoff_delays is endless

    def _stream(self, sock: socket.socket) -> None:
        """Read cu8 until stopped; raise _LinkLost on disconnect or a dead stall."""
        block_bytes = 2 * self.block_size
        buf = bytearray(block_bytes + 1)
        view = memoryview(buf)
        fill = 0  # bytes in buf, possibly odd: a half sample waits for its other byte
        silent_since: float | None = None
        last_flush = time.monotonic()
        while not self._stop.is_set():
            try:
                n = sock.recv_into(view[fill:block_bytes + 1])
            except socket.timeout:
                now = time.monotonic()
                if silent_since is None:
                    silent_since = now - self.gap_threshold_s
                # hand over what we have so the pipeline is not held up by a stalled link
                fill = self._flush(buf, fill)
                if now - silent_since >= self.stall_timeout_s:
                    # counted as lost air time when the link comes back (see _produce)
                    raise _LinkLost(f"no data for {now - silent_since:.1f} s") from None
                continue
            except OSError as e:
                if self._stop.is_set():
                    return
                self._flush(buf, fill)
                raise _LinkLost(e.strerror or str(e)) from None
            if n == 0:
                if self._stop.is_set():
                    return
                self._flush(buf, fill)
                raise _LinkLost("server closed the connection")
            now = time.monotonic()
            if self._anchor is None:
                # the first bytes were sampled just before they arrived
                self._set_anchor(time.time() - (n // 2) / self.sample_rate, self._next_index)
            if silent_since is not None:
                silence = now - silent_since
                self._count_stall(silence)
                self._event(f"{self.uri}: stream stalled for {silence:.2f} s")
                silent_since = None
            fill += n
            if fill >= block_bytes or now - last_flush > 2 * self.block_size / self.sample_rate:
                fill = self._flush(buf, fill)
                last_flush = now

    def _flush(self, buf: bytearray, fill: int) -> int:
        """Queue the whole samples in buf[:fill]; keep an odd trailing byte. Returns new fill."""
        even = fill & ~1
        if even:
            self._push(np.frombuffer(buf, dtype=np.uint8, count=even).copy())
            if fill & 1:
                buf[0] = buf[even]
        return fill - even
