"""``keyguard scan``: decode and detect attacks in captures; packets and alerts out."""

from __future__ import annotations

import sys

import click

from cli.decode import shorten
from cli.options import decode_options, detect_options, input_options
from keyguard.events import Alert, CaptureRecord, Packet, Summary, severity_rank

_SEV_MARK = {"info": " ", "low": ".", "medium": "!", "high": "!!", "critical": "!!!"}


def _packet_row(p: Packet) -> str:
    snr = "   - dB" if p.snr_db is None else f"{p.snr_db:5.1f} dB"
    return (f"  {p.t:10.4f}s  {p.protocol:12s} {shorten(p.identity, 28):28s} "
            f"{shorten(p.code, 40):40s} {p.integrity:4s} {snr}")


def _alert_row(a: Alert) -> str:
    who = f" [{a.identity}]" if a.identity else ""
    return (f"{_SEV_MARK[a.severity]:>3s} ALERT {a.kind.upper()} {a.severity} "
            f"({a.confidence:.2f}) {a.t:.3f}–{a.t_end:.3f}s{who}: {a.summary}")


@click.command()
@click.argument("captures", nargs=-1, required=True, metavar="CAPTURE...")
@click.option("--format", "out_format", type=click.Choice(["table", "jsonl"]), default="table",
              show_default=True, help="A table for people, or the contract's JSON Lines.")
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write records to FILE instead of standard output.")
@click.option("--packets/--no-packets", default=True, show_default=True,
              help="Also list decoded packets (alerts are always listed).")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on standard error (default: when it is a terminal).")
@decode_options
@detect_options
@input_options
@click.pass_context
def scan(ctx: click.Context, captures: tuple[str, ...], out_format: str, output: str | None,
         packets: bool, progress: bool | None, protocols: tuple[str, ...],
         profile_dirs: tuple[str, ...], keys_file: str | None, state_path: str | None,
         model_path: str | None, receiver: str | None, min_severity: str,
         input_format: str | None,
         sample_rate: float | None, center_freq: float | None, start_time: str | None) -> int:
    """Decode every key-fob transmission in CAPTURE files and detect attacks: jamming, replay,
    RollJam, RollBack, relay, clone and brute force.

    Captures are processed in start-time order and share one timeline, so a code replayed in a
    later file is caught; with --state that memory persists between runs.

    Exit status: 0 no alert at or above --min-severity, 1 at least one, 2 bad input,
    130 interrupted.
    """
    from keyguard.pipeline import ScanOptions, Scanner

    opts = ScanOptions(profile_dirs=profile_dirs, protocols=protocols, keys_file=keys_file,
                       state_path=state_path, model_path=model_path, receiver=receiver,
                       input_format=input_format, sample_rate=sample_rate,
                       center_freq=center_freq, start_time=start_time)
    scanner = Scanner(opts)
    caps = scanner.open(captures)  # every input is checked before any output
    out = open(output, "w", encoding="utf-8") if output else sys.stdout
    bar = _progress_bar(caps, progress)
    floor = severity_rank(min_severity)
    reported = 0
    try:
        for rec in scanner.scan(caps, progress=bar.update if bar else None):
            if isinstance(rec, Alert):
                if severity_rank(rec.severity) < floor:
                    continue
                reported += 1
            elif isinstance(rec, Packet) and not packets:
                continue
            line = rec.to_json() if out_format == "jsonl" else _table_line(rec)
            if line is not None:
                if bar:
                    bar.clear()
                out.write(line + "\n")
                if isinstance(rec, Alert):
                    out.flush()
    finally:
        if bar:
            bar.close()
        if output:
            out.close()
    return 1 if reported else 0


def _table_line(rec) -> str | None:
    if isinstance(rec, CaptureRecord):
        d = rec.to_dict()
        centre = "centre unknown" if d["center_freq"] is None else f"{d['center_freq'] / 1e6:.3f} MHz"
        return (f"{d['capture']}: {d['format']}, {d['sample_rate'] / 1e3:g} ksps, {centre}, "
                f"{d['duration'] or 0:.2f} s, sha256 {d['sha256'] or '-'}")
    if isinstance(rec, Packet):
        return _packet_row(rec)
    if isinstance(rec, Alert):
        return _alert_row(rec)
    if isinstance(rec, Summary):
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(rec.alerts_by_kind.items())) or "none"
        return (f"{rec.captures} capture(s), {rec.packets} packet(s), {rec.alerts} alert(s) "
                f"({kinds}) in {rec.elapsed_s:.1f} s")
    return None


def _progress_bar(caps, progress: bool | None):
    total = sum(c.num_samples for c in caps)
    if progress is None:
        progress = sys.stderr.isatty() and total > 10_000_000
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="S", unit_scale=True, file=sys.stderr, desc="scan",
                leave=False)
