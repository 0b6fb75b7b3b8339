"""``keyguard serve``: play a capture as an rtl_tcp server, for any SDR tool to consume."""

from __future__ import annotations

import signal
import threading

import click


@click.command()
@click.argument("capture")
@click.option("--port", type=click.IntRange(0, 65535), default=1234, show_default=True,
              help="TCP port (0: any free port, printed on standard error).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 to serve other machines).")
@click.option("--realtime", is_flag=True, help="Pace the stream at the capture's sample rate.")
@click.option("--loop", is_flag=True, help="Start over at the end instead of disconnecting.")
@click.option("--once", is_flag=True, help="Exit after the first client has been served.")
@click.option("--tail", "tail_s", type=click.FloatRange(0), default=1.0, show_default=True,
              help="Seconds of zero signal after the capture, so clients finish decoding.")
@click.option("--format", "fmt", default=None, help="Force the capture format (cu8, cs16, ...).")
@click.option("--rate", type=float, default=None, help="Sample rate of a raw file (Hz).")
@click.option("--freq", type=float, default=None, help="Centre frequency of a raw file (Hz).")
@click.option("-q", "--quiet", is_flag=True, help="Do not log client connections and commands.")
def serve(capture: str, port: int, host: str, realtime: bool, loop: bool, once: bool,
          tail_s: float, fmt: str | None, rate: float | None, freq: float | None,
          quiet: bool) -> int:
    """Serve CAPTURE over the rtl_tcp protocol (e.g. `rtl_433 -d rtl_tcp:127.0.0.1:1234`).

    Clients get the capture as cu8 from its first sample, one client at a time. The data is
    not re-tuned: requests for another rate or frequency are logged on standard error.
    Stop with Ctrl-C.
    """
    from keyguard.errors import InputError
    from keyguard.io import open_capture
    from keyguard.sdr.server import RtlTcpServer

    cap = open_capture(capture, fmt=fmt, sample_rate=rate, center_freq=freq)
    if cap.reader is None:
        raise InputError("has no IQ samples to serve", cap.path)

    def say(line: str) -> None:
        if not quiet:
            click.echo(f"keyguard serve: {line}", err=True)

    try:
        server = RtlTcpServer(cap, host, port, realtime=realtime, loop=loop, tail_s=tail_s,
                              on_event=say)
    except OSError as e:
        raise click.UsageError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    centre = f"{cap.center_freq / 1e6:.6g} MHz" if cap.center_freq else "centre unknown"
    # always printed: with --port 0 this is how callers learn the port
    click.echo(f"keyguard serve: {cap.path} ({cap.format}, {cap.sample_rate:g} Hz, {centre}, "
               f"{cap.duration:.3f} s) on rtl_tcp {server.address[0]}:{server.address[1]}",
               err=True)

    done = threading.Event()

    def on_signal(signum, frame):  # SIGTERM ends the server like Ctrl-C
        done.set()
        server.stop()

    old = signal.signal(signal.SIGTERM, on_signal)
    try:
        server.serve_forever(max_clients=1 if once else None)
    finally:  # Ctrl-C goes on to the CLI's "interrupted" (exit 130) after this
        signal.signal(signal.SIGTERM, old)
        server.stop()
        click.echo(f"keyguard serve: served {server.stats.clients} client(s), "
                   f"{server.stats.bytes_sent} bytes", err=True)
    return 0
