"""Choose and build a stream source from the monitor's options (--device, --rtl-tcp, --replay)."""

from __future__ import annotations

from datetime import datetime

from keyguard.errors import InputError
from keyguard.sdr.source import EventCallback, Source


class SourceSpecError(InputError):
    """The source options name no source, several, or a malformed HOST:PORT."""


def parse_host_port(text: str, default_port: int = 1234) -> tuple[str, int]:
    """``host:port``, ``host`` or ``[v6addr]:port`` → (host, port); SourceSpecError if bad."""
    t = text.strip()
    if t.startswith("["):
        host, _, rest = t[1:].partition("]")
        port_s = rest[1:] if rest.startswith(":") else ""
    elif t.count(":") == 1:
        host, _, port_s = t.partition(":")
    else:
        host, port_s = t, ""
    if not host:
        raise SourceSpecError(f"--rtl-tcp {text!r}: no host", hint="e.g. --rtl-tcp 127.0.0.1:1234")
    try:
        port = int(port_s) if port_s else default_port
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise SourceSpecError(f"--rtl-tcp {text!r}: port must be 1–65535",
                              hint="e.g. --rtl-tcp 127.0.0.1:1234")
    return host, port


def open_source(*, device: int | str | None = None, rtl_tcp: str | None = None,
                replay: str | None = None, center_freq: float | None = None,
                sample_rate: float | None = None, gain: float | str = "auto", ppm: int = 0,
                bias_tee: bool = False, realtime: bool = False,
                start_time: datetime | None = None, block_s: float = 0.1,
                max_reconnects: int | None = None,
                on_event: EventCallback | None = None) -> Source:
    """The one source the options name, not yet opened (call ``.open()`` or use ``with``).

    device: dongle index (int or digits), or serial (other text, or ``:SERIAL`` as in rtl_433).
    rtl_tcp: ``HOST:PORT``.
    replay: a capture file (its own rate/centre unless given). center_freq, sample_rate: Hz
    (defaults 433.92 MHz, 250 ksps for live sources).
    """
    chosen = [n for n, v in (("--device", device), ("--rtl-tcp", rtl_tcp), ("--replay", replay))
              if v is not None]
    if len(chosen) != 1:
        raise SourceSpecError("give exactly one of --device, --rtl-tcp, --replay"
                              + (f" (got {', '.join(chosen)})" if chosen else ""))
    freq = 433.92e6 if center_freq is None else float(center_freq)
    rate = 250_000.0 if sample_rate is None else float(sample_rate)
    if replay is not None:
        from keyguard.io import open_capture
        from keyguard.sdr.replay import ReplaySource

        cap = open_capture(replay, sample_rate=sample_rate, center_freq=center_freq)
        return ReplaySource(cap, realtime=realtime, start_time=start_time, block_s=block_s,
                            on_event=on_event)
    if rtl_tcp is not None:
        from keyguard.sdr.rtl_tcp import RtlTcpSource

        host, port = parse_host_port(rtl_tcp)
        return RtlTcpSource(host, port, center_freq=freq, sample_rate=rate, gain=gain, ppm=ppm,
                            bias_tee=bias_tee, block_s=block_s, max_reconnects=max_reconnects,
                            on_event=on_event)
    from keyguard.sdr.rtlsdr_source import RtlSdrSource

    text = str(device)
    if text.startswith(":"):  # rtl_433's form for a serial made of digits: -d :00000001
        index, serial = 0, text[1:]
    else:
        index, serial = (int(text), None) if text.isdigit() else (0, text)
    return RtlSdrSource(index, serial=serial, center_freq=freq, sample_rate=rate, gain=gain,
                        ppm=ppm, bias_tee=bias_tee, block_s=block_s,
                        max_reconnects=max_reconnects, on_event=on_event)
