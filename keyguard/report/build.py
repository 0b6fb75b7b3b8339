"""Entry points: captures + scan records → an evidence report (HTML, or PDF)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from keyguard.io.capture import Capture
from keyguard.report.document import render_html
from keyguard.report.model import ReportSettings, prepare

FORMATS = ("html", "pdf")


def build_report(inputs: Sequence[Capture], records: Iterable[Any], *, title: str | None = None,
                 case_ref: str | None = None, options: Mapping[str, Any] | None = None,
                 analysis_time: datetime | str | None = None,
                 versions: Mapping[str, str] | None = None,
                 sources: Mapping[str, str] | None = None,
                 settings: ReportSettings | None = None,
                 progress: Callable[[str], None] | None = None) -> str:
    """The evidence report as one self-contained HTML document.

    inputs: the opened captures (their IQ is read for the waterfalls and zooms, a block at a
    time). records: the scan's contract records (``keyguard.events`` objects or their dicts)
    for those captures: capture, packet, alert and summary. options: the scan options used,
    keyword → value (shown, and turned into the reproducing ``keyguard scan`` command).
    analysis_time: the UTC time shown as the time of the analysis (default: now); the report is
    otherwise a pure function of its arguments. versions: model / profile versions to show.
    sources: other provenance lines for the header (label → text, e.g. the records file).
    progress: called with a short message before each slow step.
    """
    model = prepare(inputs, records, title=title, case_ref=case_ref, options=options,
                    analysis_time=analysis_time, versions=versions, sources=sources,
                    settings=settings)
    return render_html(model, progress)


def build_report_pdf(inputs: Sequence[Capture], records: Iterable[Any], *,
                     title: str | None = None, case_ref: str | None = None,
                     options: Mapping[str, Any] | None = None,
                     analysis_time: datetime | str | None = None,
                     versions: Mapping[str, str] | None = None,
                     sources: Mapping[str, str] | None = None,
                     settings: ReportSettings | None = None,
                     progress: Callable[[str], None] | None = None) -> bytes:
    """The same report as PDF bytes (matplotlib pages: text, figures, tables)."""
    from keyguard.report.pdf import render_pdf

    model = prepare(inputs, records, title=title, case_ref=case_ref, options=options,
                    analysis_time=analysis_time, versions=versions, sources=sources,
                    settings=settings)
    return render_pdf(model, progress)


def write_report(path: str | Path, inputs: Sequence[Capture], records: Iterable[Any], *,
                 fmt: str = "html", **kw: Any) -> Path:
    """Build the report and write it to ``path`` atomically (a ``.part`` file renamed)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
    data = (build_report(inputs, records, **kw).encode("utf-8") if fmt == "html"
            else build_report_pdf(inputs, records, **kw))
    p = Path(path)
    tmp = p.with_name(p.name + ".part")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, p)
    return p
