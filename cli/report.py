"""``keyguard report``: an evidence report (one self-contained HTML file, or PDF) on captures."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

import click

from cli.options import decode_options, detect_options, input_options
from keyguard.errors import InputError


class ReportOptionError(InputError):
    """A `keyguard report` option or option combination that cannot work."""


@click.command()
@click.argument("captures", nargs=-1, metavar="CAPTURE...")
@click.option("-o", "--output", required=True, metavar="FILE", type=click.Path(dir_okay=False),
              help="Where to write the report (report.html, report.pdf).")
@click.option("--format", "out_format", type=click.Choice(["html", "pdf"]), default=None,
              help="html (one self-contained file) or pdf; default from the output's "
              "extension, else html.")
@click.option("--records", "records_file", metavar="FILE.jsonl",
              type=click.Path(exists=True, dir_okay=False),
              help="Build the report from the records of an earlier `keyguard scan --format "
              "jsonl` run instead of scanning again. CAPTURE files are then only read for the "
              "spectrograms; without CAPTURE, the files the records name are opened.")
@click.option("--title", default=None, help="Report title.")
@click.option("--case-ref", default=None, metavar="TEXT",
              help="Case reference shown in the header.")
@click.option("--fixed-time", metavar="ISO", default=None,
              help="Show this UTC time as the analysis time (reproducible reports, tests).")
@click.option("--quiet", is_flag=True, help="No progress lines on standard error.")
@decode_options
@detect_options
@input_options
def report(captures: tuple[str, ...], output: str, out_format: str | None,
           records_file: str | None, title: str | None, case_ref: str | None,
           fixed_time: str | None, quiet: bool, protocols: tuple[str, ...],
           profile_dirs: tuple[str, ...], keys_file: str | None, state_path: str | None,
           model_path: str | None, receiver: str | None, min_severity: str,
           input_format: str | None,
           sample_rate: float | None, center_freq: float | None, start_time: str | None) -> int:
    """Write an evidence report on CAPTURE files: what was received, what keyguard concluded,
    and how to reproduce it.

    CAPTURE files are scanned as `keyguard scan` does (same options), or the records of an
    earlier scan are read with --records. The report holds the inputs with their SHA-256, a
    timeline of the session, a spectrogram of every capture with its bursts and alerts marked,
    one section per alert (evidence, the related packets side by side, zoomed bursts, the
    command that reproduces it), the table of decoded packets, and the limits of what one
    RTL-SDR can observe. The HTML needs no network and runs no script. The same inputs and
    options give the same bytes, apart from the analysis time (pin it with --fixed-time).

    Exit status: 0 when written, 2 for bad input.
    """
    from keyguard.events import severity_rank
    from keyguard.io import open_capture
    from keyguard.report import read_jsonl, write_report
    from keyguard.report.records import as_record

    fmt = out_format or ("pdf" if output.lower().endswith(".pdf") else "html")
    if not captures and not records_file:
        raise ReportOptionError("no capture given", hint="name CAPTURE files, or give --records "
                                "FILE.jsonl from `keyguard scan --format jsonl`")
    analysis_time = _parse_fixed_time(fixed_time) if fixed_time else datetime.now(timezone.utc)
    out = Path(output)
    _refuse_to_overwrite_inputs(out, captures, records_file)
    # the scan options as `keyguard scan` spells them: shown, and turned into its command line
    options = {k: v for k, v in (("profiles", list(profile_dirs) or None),
                                 ("protocol", list(protocols) or None), ("keys", keys_file),
                                 ("state", state_path), ("model", model_path),
                                 ("min_severity", None if min_severity == "info" else
                                  min_severity),
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
                inputs.append(open_capture(p, fmt=input_format, sample_rate=sample_rate,
                                           center_freq=center_freq, start_time=start_time))
            except InputError as e:
                if captures:
                    raise
                say(f"cannot open {p} ({e}); its spectrograms are left out")
    else:
        say(f"scanning {len(captures)} capture(s)")
        inputs, records = _scan(list(captures), profile_dirs, protocols, keys_file, state_path,
                                model_path, receiver, input_format, sample_rate, center_freq,
                                start_time)
        kinds = [type(r).__name__ for r in records]
        say(f"scanned: {kinds.count('Packet')} packet(s), {kinds.count('Alert')} alert(s)")
    floor = severity_rank(min_severity)
    records = [r for r in map(as_record, records)
               if r.get("type") != "alert" or severity_rank(r["severity"]) >= floor]
    versions = _versions(profile_dirs, model_path)
    write_report(out, inputs, records, fmt=fmt, title=title, case_ref=case_ref, options=options,
                 analysis_time=analysis_time, versions=versions, sources=sources, progress=say)
    say(f"wrote {out}")
    return 0


def _scan(paths: list[str], profile_dirs, protocols, keys_file, state_path, model_path,
          receiver, input_format, sample_rate, center_freq, start_time) -> tuple[list, list]:
    """Open and scan ``paths`` with the scan pipeline: (captures, records). The report reads
    the very Capture objects the scan read, so each file is opened and hashed once."""
    from keyguard.io.metadata import as_utc
    from keyguard.pipeline import Scanner, ScanOptions

    opts = ScanOptions(profile_dirs=tuple(profile_dirs), protocols=tuple(protocols),
                       keys_file=keys_file, state_path=state_path, model_path=model_path,
                       receiver=receiver,
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
    if out.is_dir():
        raise ReportOptionError("the output is a directory", out, "give a file name")
    target = out.resolve()
    for p in list(captures) + ([records_file] if records_file else []):
        # "cu8:file" names file (rtl_433's format prefix) unless a file has that very name
        spec = p.split(":", 1)[1] if ":" in p and not Path(p).exists() else p
        if Path(spec).resolve() == target:
            raise ReportOptionError("the output would overwrite an input", out,
                                    "choose another -o FILE")


def _versions(profile_dirs: tuple[str, ...], model_path: str | None) -> dict[str, str]:
    """What identifies the profiles and the model used: names, counts and file digests."""
    from keyguard.protocols.registry import load_registry

    reg = load_registry(profile_dirs)
    h = hashlib.sha256()
    for s in sorted({str(getattr(p, "source", "")) for p in reg}):
        try:
            h.update(Path(s).read_bytes())
        except OSError:
            h.update(s.encode())
    prof = (f"{len(reg)} profiles ({', '.join(sorted(reg.names()))}); TOML digest "
            f"sha256:{h.hexdigest()[:16]}")
    if profile_dirs:
        prof += f"; user profiles from {', '.join(profile_dirs)}"
    if model_path:
        digest = hashlib.sha256(Path(model_path).read_bytes()).hexdigest()
        model = f"{Path(model_path).name} sha256:{digest[:16]}"
    else:
        model = "shipped default"
    return {"profiles": prof, "model": model}
