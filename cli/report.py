"""``keyguard report``: an evidence report (one self-contained HTML file, or PDF) on captures."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

import click

from cli.info import HZ
from keyguard.errors import InputError
from keyguard.io.naming import FORMAT_WORDS


class ReportOptionError(InputError):
    """A `keyguard report` option or option combination that cannot work."""


@click.command()
@click.argument("captures", nargs=-1, metavar="CAPTURE...")
@click.option("-o", "--output", required=True, metavar="FILE", type=click.Path(dir_okay=False),
              help="Where to write the report (report.html, report.pdf).")
@click.option("--format", "out_format", type=click.Choice(["html", "pdf"]), default=None,
              help="html (default; one self-contained file) or pdf; default from the "
              "output's extension.")
@click.option("--records", "records_file", metavar="FILE.jsonl",
              type=click.Path(exists=True, dir_okay=False),
              help="Build the report from the records of an earlier `keyguard scan --format "
              "jsonl` run instead of scanning again. CAPTURE files are then only read for the "
              "spectrograms; without CAPTURE, the files the records name are opened.")
@click.option("--state", "state_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Detection state (SQLite) the scan reads and updates, as for `keyguard scan`.")
@click.option("--profiles", "profile_dirs", multiple=True, metavar="DIR",
              type=click.Path(exists=True), help="Extra firmware profiles (repeatable).")
@click.option("--protocol", "protocols", multiple=True, metavar="NAME",
              help="Only decode with this profile (repeatable).")
@click.option("--keys", "keys_file", metavar="FILE", type=click.Path(exists=True, dir_okay=False),
              help="KeeLoq manufacturer keys (your own) to decrypt hops.")
@click.option("--model", "model_file", metavar="FILE", type=click.Path(exists=True, dir_okay=False),
              help="Classifier model file to scan with (default: the shipped one).")
@click.option("--title", default=None, help="Report title.")
@click.option("--case-ref", default=None, metavar="TEXT",
              help="Case reference shown in the header.")
@click.option("--fixed-time", metavar="ISO", default=None,
              help="Show this UTC time as the analysis time (reproducible reports, tests).")
@click.option("--input-format", "input_format", metavar="FMT",
              type=click.Choice(sorted(FORMAT_WORDS), case_sensitive=False),
              help="Force the input format (like rtl_433's FMT:path prefix).")
@click.option("--sample-rate", type=HZ, help="Sample rate in Hz (250k, 2.4M...) of raw IQ files.")
@click.option("--center-freq", type=HZ, help="Centre frequency in Hz (433.92M...).")
@click.option("--start-time", metavar="ISO", help="UTC time of the first sample (ISO-8601).")
@click.option("--quiet", is_flag=True, help="No progress lines on standard error.")
def report(captures: tuple[str, ...], output: str, out_format: str | None,
           records_file: str | None, state_file: str | None, profile_dirs: tuple[str, ...],
           protocols: tuple[str, ...], keys_file: str | None,
           model_file: str | None, title: str | None, case_ref: str | None,
           fixed_time: str | None, input_format: str | None, sample_rate: float | None,
           center_freq: float | None, start_time: str | None, quiet: bool) -> int:
    """Write an evidence report on CAPTURE files: what was received, what keyguard concluded,
    and how to reproduce it.

    The report holds the inputs with their SHA-256, a timeline of the session, a spectrogram
    of every capture with its bursts and alerts marked, one section per alert (evidence, the
    related packets side by side, zoomed bursts, the command that reproduces it), the table of
    decoded packets, and the limits of what one RTL-SDR can observe. The HTML needs no network
    and runs no script. The same inputs and options give the same bytes, apart from the
    analysis time (pin it with --fixed-time).

    Exit status: 0 when written, 2 for bad input.
    """
    from keyguard.io import open_capture
    from keyguard.report import FORMATS, read_jsonl, write_report

    fmt = out_format or ("pdf" if output.lower().endswith(".pdf") else "html")
    if fmt not in FORMATS:
        raise ReportOptionError(f"unknown report format {fmt!r}")
    if not captures and not records_file:
        raise ReportOptionError("no capture given", hint="name CAPTURE files, or give --records "
                                "FILE.jsonl from `keyguard scan --format jsonl`")
    analysis_time = _parse_fixed_time(fixed_time) if fixed_time else datetime.now(timezone.utc)
    out = Path(output)
    _refuse_to_overwrite_inputs(out, captures, records_file)
    open_args = dict(fmt=input_format, sample_rate=sample_rate, center_freq=center_freq,
                     start_time=start_time)
    # the scan options as `keyguard scan` spells them: shown, and turned into its command line
    options = {k: v for k, v in (("profiles", list(profile_dirs) or None),
                                 ("protocol", list(protocols) or None), ("keys", keys_file),
                                 ("state", state_file), ("model", model_file),
                                 ("input_format", input_format), ("sample_rate", sample_rate),
                                 ("center_freq", center_freq), ("start_time", start_time))
               if v is not None}

    def say(msg: str) -> None:
        if not quiet:
            click.echo(f"keyguard report: {msg}", err=True)

    sources: dict[str, str] = {}
    if records_file:
        records = list(read_jsonl(records_file))
        digest = hashlib.sha256(Path(records_file).read_bytes()).hexdigest()
        sources["scan records"] = f"{records_file} (SHA-256 {digest})"
        paths = list(captures) or [r["capture"] for r in records if r.get("type") == "capture"]
        inputs = []
        for p in paths:
            try:
                inputs.append(open_capture(p, **open_args))
            except InputError as e:
                if captures:
                    raise
                say(f"cannot open {p} ({e}); its spectrograms are left out")
    else:
        say(f"scanning {len(captures)} capture(s)")
        inputs, records = _scan(list(captures), profile_dirs, protocols, keys_file, state_file,
                                model_file, input_format, sample_rate, center_freq, start_time)
        kinds = [type(r).__name__ for r in records]
        say(f"scanned: {kinds.count('Packet')} packet(s), {kinds.count('Alert')} alert(s)")
    versions = _versions(profile_dirs, model_file)
    write_report(out, inputs, records, fmt=fmt, title=title, case_ref=case_ref, options=options,
                 analysis_time=analysis_time, versions=versions, sources=sources, progress=say)
    say(f"wrote {out}")
    return 0


def _scan(paths: list[str], profile_dirs, protocols, keys_file, state_file, model_file,
          input_format, sample_rate, center_freq, start_time) -> tuple[list, list]:
    """Open and scan ``paths`` with the scan pipeline: (captures, records). The report reads
    the very Capture objects the scan read, so each file is opened and hashed once."""
    from keyguard.io.metadata import as_utc
    from keyguard.pipeline import Scanner, ScanOptions

    opts = ScanOptions(profile_dirs=tuple(profile_dirs), protocols=tuple(protocols),
                       keys_file=keys_file, state_path=state_file, model_path=model_file,
                       input_format=input_format, sample_rate=sample_rate,
                       center_freq=center_freq, start_time=as_utc(start_time, "--start-time"))
    scanner = Scanner(opts)
    inputs = scanner.open(paths)
    return inputs, list(scanner.scan(inputs))


def _parse_fixed_time(text: str) -> datetime:
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ReportOptionError(f"--fixed-time {text!r} is not an ISO-8601 time",
                                hint="e.g. 2024-05-01T12:00:00Z") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _refuse_to_overwrite_inputs(out: Path, captures: tuple[str, ...],
                                records_file: str | None) -> None:
    """-o must not name an input: a typo would destroy the evidence."""
    try:
        target = out.resolve()
    except OSError:
        return
    for p in list(captures) + ([records_file] if records_file else []):
        spec = p.split(":", 1)[1] if ":" in p and not Path(p).exists() else p
        try:
            same = Path(spec).resolve() == target
        except OSError:
            same = False
        if same:
            raise ReportOptionError("the output would overwrite an input", out,
                                    "choose another -o FILE")
    if out.is_dir():
        raise ReportOptionError("the output is a directory", out, "give a file name")


def _versions(profile_dirs: tuple[str, ...], model_file: str | None) -> dict[str, str]:
    """What identifies the profiles and the model used: names, counts and file digests."""
    from keyguard.protocols.registry import load_registry

    reg = load_registry(profile_dirs)
    h = hashlib.sha256()
    sources = sorted({str(getattr(p, "source", "")) for p in reg})
    for s in sources:
        try:
            h.update(Path(s).read_bytes())
        except OSError:
            h.update(s.encode())
    prof = (f"{len(reg)} profiles ({', '.join(sorted(reg.names()))}); TOML digest "
            f"sha256:{h.hexdigest()[:16]}")
    if profile_dirs:
        prof += f"; user profiles from {', '.join(profile_dirs)}"
    if model_file:
        digest = hashlib.sha256(Path(model_file).read_bytes()).hexdigest()
        model = f"{Path(model_file).name} sha256:{digest[:16]}"
    else:
        model = "shipped default"
    return {"profiles": prof, "model": model}
