"""``keyguard report``: an evidence report an analyst can hand over.

:func:`build_report` turns opened captures and the scan's contract records into one
self-contained HTML file: header with provenance (versions, options, input hashes), a session
timeline, a waterfall per capture, one section per alert (evidence, related packets side by
side, zoomed bursts, the command that reproduces it), the packet table, and the limits of the
method. It does not run the scan itself, so it works on the records of any run (the pipeline's
iterator, or a saved ``keyguard scan --format jsonl`` file via :func:`read_jsonl`).
"""

from keyguard.report.build import FORMATS, build_report, build_report_pdf, write_report
from keyguard.report.model import ReportSettings, scan_command
from keyguard.report.records import RecordsError, read_jsonl
from keyguard.report.waterfall import Envelope, Spectrogram, stream_power

__all__ = ["build_report", "build_report_pdf", "write_report", "ReportSettings", "FORMATS",
           "RecordsError", "read_jsonl", "scan_command", "stream_power", "Spectrogram",
           "Envelope"]
