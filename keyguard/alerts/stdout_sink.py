"""Standard-output sink: the JSON Lines contract, or a table for people watching a terminal."""

from __future__ import annotations

import sys
from typing import TextIO

from keyguard.alerts.sink import Sink
from keyguard.events import dumps


def table_line(record: dict) -> str:
    """One human-readable line for a record (the ``table`` format)."""
    kind = record.get("type")
    if kind == "capture":
        centre = record.get("center_freq")
        centre_s = f"{centre / 1e6:.6g} MHz" if centre else "centre unknown"
        start = record.get("start_time") or "start unknown"
        return (f"== {record.get('capture')}  {record.get('format')}  "
                f"{record.get('sample_rate', 0) / 1e3:g} ksps  {centre_s}  {start}")
    if kind == "packet":
        level = record.get("snr_db")
        level_s = "" if level is None else f"  SNR {level:.1f} dB"
        ident = record.get("identity") or "-"
        return (f"{record.get('t', 0):12.6f} s  {record.get('protocol', '?'):<14} "
                f"{record.get('bits', 0):>4} bits  {ident:<24} {record.get('data', '')}{level_s}")
    if kind == "alert":
        ident = record.get("identity") or "-"
        return (f"{record.get('t', 0):12.6f} s  ALERT {str(record.get('severity')).upper():<8} "
                f"{record.get('kind'):<10} {ident}  "
                f"(confidence {record.get('confidence', 0):.2f})  {record.get('summary', '')}")
    if kind == "summary":
        by_kind = ", ".join(f"{k} {v}" for k, v in (record.get("alerts_by_kind") or {}).items())
        return (f"== {record.get('packets', 0)} packets, {record.get('alerts', 0)} alerts"
                f"{f' ({by_kind})' if by_kind else ''} from {record.get('captures', 0)} "
                f"captures in {record.get('elapsed_s', 0):.1f} s")
    return dumps(record)


class StdoutSink(Sink):
    """Write records to a text stream (standard output by default), one line each, flushed.

    fmt: ``jsonl`` (the contract, for programs) or ``table`` (for people).
    """

    def __init__(self, fmt: str = "jsonl", stream: TextIO | None = None):
        if fmt not in ("jsonl", "table"):
            raise ValueError(f"unknown stdout format {fmt!r} (jsonl or table)")
        self.fmt = fmt
        self.name = f"stdout:{fmt}"
        self._stream = stream

    def emit(self, record: dict) -> None:
        stream = self._stream if self._stream is not None else sys.stdout
        stream.write((dumps(record) if self.fmt == "jsonl" else table_line(record)) + "\n")
        stream.flush()  # a live monitor's reader wants each line as it happens

    def flush(self) -> None:
        stream = self._stream if self._stream is not None else sys.stdout
        stream.flush()

    def close(self) -> None:
        self.flush()  # never close the process's standard output
