"""``keyguard evaluate``: score scan results against ground truth (simulator or SigMF)."""

from __future__ import annotations

import sys

import click

from cli.options import decode_options, input_options
from keyguard.events import dumps

#: Where the truth of a capture is read from (as keyguard.evaluate.TRUTH_SOURCES).
TRUTH_SOURCES = ("auto", "json", "sigmf")


@click.command()
@click.argument("captures", nargs=-1, metavar="DIR|CAPTURE...")
@click.option("--format", "out_format", type=click.Choice(["table", "jsonl", "markdown"]),
              default="table", show_default=True,
              help="Tables for people, `evaluation` JSON Lines records, or Markdown tables.")
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write to FILE instead of standard output.")
@click.option("--benign", is_flag=True, help="The captures hold no attack: their whole duration "
              "is benign time and every alert is a false alarm (no truth file needed).")
@click.option("--truth", "truth_source", type=click.Choice(TRUTH_SOURCES), default="auto",
              show_default=True, help="Ground truth from truth.json beside the capture, its "
              "SigMF annotations, or auto (truth.json first).")
@click.option("--slack-s", type=click.FloatRange(min=0.0), default=1.0, show_default=True,
              metavar="S", help="An alert within S seconds of a truth event of its kind "
              "detects it.")
@click.option("--records", "records", type=click.Path(exists=True, dir_okay=False),
              metavar="FILE.jsonl", help="Score this saved `keyguard scan --format jsonl` output "
              "instead of scanning (no classifier ROC: records hold no burst features).")
@click.option("--model", "model_path", metavar="FILE", type=click.Path(exists=True, dir_okay=False),
              help="Burst classifier (.skops from `keyguard train`); default: the shipped one.")
@click.option("--no-model", is_flag=True, help="Scan without the burst classifier.")
@click.option("--progress/--no-progress", default=None,
              help="One line per scored capture on standard error (default: on a terminal).")
@decode_options
@input_options
def evaluate(captures: tuple[str, ...], out_format: str, output: str | None, benign: bool,
             truth_source: str, slack_s: float, records: str | None, model_path: str | None,
             no_model: bool, progress: bool | None, protocols: tuple[str, ...],
             profile_dirs: tuple[str, ...], keys_file: str | None, input_format: str | None,
             sample_rate: float | None, center_freq: float | None,
             start_time: str | None) -> int:
    """Scan captures with known ground truth and score the result: per alert kind the events,
    detections and false alarms; false alarms per hour of benign time; decode rate per
    protocol; genuine presses accused; the burst classifier's ROC AUC per class.

    DIR is searched for captures (`keyguard simulate` output: truth.json or SigMF
    annotations). Each capture is scanned on its own, exactly as `keyguard scan` would.
    Exit status: 0 evaluated, 2 bad input (e.g. a capture with no truth and no --benign).
    """
    from keyguard.evaluate import EvaluateOptions, evaluate_captures, evaluate_records, \
        format_markdown, format_table
    from keyguard.evaluate.table import summary_line
    from keyguard.pipeline import ScanOptions

    if records and captures:
        raise click.UsageError("give either captures or --records, not both")
    if not records and not captures:
        raise click.UsageError("give a DIR or CAPTURE files to evaluate (or --records FILE)")
    if model_path and no_model:
        raise click.UsageError("--model and --no-model exclude each other")
    scan = ScanOptions(profile_dirs=profile_dirs, protocols=protocols, keys_file=keys_file,
                       model_path=model_path, use_model=not no_model, input_format=input_format,
                       sample_rate=sample_rate, center_freq=center_freq, start_time=start_time)
    opts = EvaluateOptions(scan=scan, slack_s=slack_s, benign=benign, truth_source=truth_source)
    if progress is None:
        progress = sys.stderr.isatty()
    if records:
        ev = evaluate_records(records, opts)
    else:
        ev = evaluate_captures(captures, opts, progress=(
            (lambda r: click.echo(summary_line(r), err=True)) if progress else None))
    if out_format == "jsonl":
        text = "\n".join(dumps(r) for r in ev.records())
    elif out_format == "markdown":
        text = format_markdown(ev.to_dict())
    else:
        text = format_table(ev.to_dict())
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        click.echo(text)
    return 0
