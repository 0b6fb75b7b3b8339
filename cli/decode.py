"""``keyguard decode``: decode key-fob transmissions in captures with the firmware profiles."""

from __future__ import annotations

import time

import click

from cli.options import decode_options, input_options
from keyguard.errors import InputError


def shorten(s: str | None, n: int) -> str:
    """``s`` cut to ``n`` characters with an ellipsis, ``-`` for None (table cells)."""
    if s is None:
        return "-"
    return s if len(s) <= n else s[: n - 1] + "…"


def _table_row(p) -> str:
    level = "" if p.snr_db is None else f"{p.snr_db:5.1f}"
    return (f"{p.t:10.4f}  {p.protocol:14s} {p.bits:4d}  {shorten(p.identity, 26):26s} "
            f"{shorten(p.code, 36):36s} {p.integrity:5s} {level:>5s}  {shorten(p.data, 40)}")


TABLE_HEADER = (f"{'t (s)':>10s}  {'protocol':14s} {'bits':>4s}  {'identity':26s} {'code':36s} "
                f"{'check':5s} {'snr':>5s}  data")


@click.command()
@click.argument("captures", nargs=-1, required=True, metavar="CAPTURE...")
@click.option("--format", "out_format", type=click.Choice(["table", "jsonl"]), default="table",
              show_default=True, help="A table for people, or the contract's JSON Lines "
              "(`capture`, `packet`..., then one `summary`).")
@click.option("--no-unknown", is_flag=True, help="Do not report frames that no profile matched.")
@decode_options
@input_options
def decode(captures: tuple[str, ...], out_format: str, protocols: tuple[str, ...],
           profile_dirs: tuple[str, ...], keys_file: str | None, no_unknown: bool,
           input_format: str | None, sample_rate: float | None, center_freq: float | None,
           start_time: str | None) -> int:
    """Decode key-fob transmissions in CAPTURE files: protocol, identity (serial), rolling
    code, fields and integrity of every frame.

    Pulse captures (Flipper .sub, rtl_433 .ook) are decoded from their pulse trains; IQ
    captures go through burst detection and OOK/FSK demodulation first. Frames that no profile
    matches but that frame cleanly are reported as protocol `unknown` with their estimated
    timing and bits (learn a profile for them with `keyguard profile learn`).

    Exit status: 0 if every capture was read, 2 if any could not be (each bad file gets one
    line on standard error; the others are still decoded).
    """
    from keyguard.events import Summary
    from keyguard.io import open_capture
    from keyguard.io.record import capture_record
    from keyguard.protocols.engine import Decoder, decode_capture
    from keyguard.protocols.registry import load_registry

    started = time.perf_counter()
    registry = load_registry(profile_dirs)
    ctx: dict = {}
    if keys_file:
        from keyguard.protocols.keys import load_keys

        ctx["manufacturer_keys"] = load_keys(keys_file)
    # validate the names before reading any capture
    if protocols:
        registry.select(protocols)
    n_packets = n_caps = bad = 0
    table = out_format == "table"
    for spec in captures:
        try:
            cap = open_capture(spec, fmt=input_format, sample_rate=sample_rate,
                               center_freq=center_freq, start_time=start_time)
            decoder = Decoder(registry, protocols=protocols or None,
                              strict_modulation=not cap.is_pulse_capture,
                              unknown=not no_unknown, codec_ctx=ctx)
            packets = decode_capture(cap, decoder)
            rec = capture_record(cap)
            if table:
                click.echo(f"{cap.path}: {cap.format}, {cap.duration:.3f} s"
                           + (f", {cap.center_freq / 1e6:.3f} MHz" if cap.center_freq else ""))
                click.echo(TABLE_HEADER)
            else:
                click.echo(rec.to_json())
            n = 0
            for pk in packets:
                click.echo(_table_row(pk) if table else pk.to_json())
                n += 1
        except InputError as e:
            click.echo(f"keyguard: error: {e}", err=True)
            bad += 1
            continue
        n_caps += 1
        n_packets += n
        if table:
            click.echo(f"{n} packet(s)\n")
    if not table:
        click.echo(Summary(captures=n_caps, packets=n_packets, alerts=0, alerts_by_kind={},
                           elapsed_s=time.perf_counter() - started).to_json())
    return 2 if bad else 0
