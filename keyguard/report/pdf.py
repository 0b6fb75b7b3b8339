"""The report as a PDF, with matplotlib's PdfPages: text pages and the same figures as the HTML.

A4 landscape text pages (header, inputs, findings, each alert, the packet table, the limits)
are set line by line with ``Figure.text``; figures keep their own size. No creation date is
written, so the same report gives the same bytes.
"""

from __future__ import annotations

import io
import textwrap
from typing import Callable

from matplotlib.backends.backend_pdf import PdfPages

from keyguard.report.figures import new_figure, report_style
from keyguard.report.model import AlertView, ReportModel
from keyguard.report.records import flatten
from keyguard.report.text import PACKET_FIELDS, basename, duration, freq, num, rate, size, value

PAGE_IN = (11.69, 8.27)  # A4 landscape
#: style → (font size pt, weight, family, line height in)
_STYLE = {"h1": (16, "bold", "DejaVu Sans", 0.36), "h2": (12, "bold", "DejaVu Sans", 0.3),
          "body": (9, "normal", "DejaVu Sans", 0.19),
          "mono": (7.5, "normal", "DejaVu Sans Mono", 0.155)}
_WRAP = {"h1": 90, "h2": 120, "body": 150, "mono": 175}


class _TextPages:
    """Lines of text set top to bottom, a new page whenever one is full."""

    def __init__(self, pdf: PdfPages):
        self.pdf = pdf
        self.lines: list[tuple[str, str]] = []

    def add(self, style: str, text: str = "") -> None:
        for part in (str(text).splitlines() or [""]):
            wrapped = textwrap.wrap(part, _WRAP[style], break_long_words=True,
                                    replace_whitespace=False) or [""]
            self.lines += [(style, w) for w in wrapped]

    def gap(self) -> None:
        self.lines.append(("body", ""))

    def flush(self) -> None:
        """Write the pending lines as one or more pages."""
        top, bottom, left = 0.55, 0.5, 0.55
        usable = PAGE_IN[1] - top - bottom
        page: list[tuple[str, str]] = []
        used = 0.0
        for style, text in self.lines:
            h = _STYLE[style][3]
            if used + h > usable and page:
                self._page(page, top, left)
                page, used = [], 0.0
            page.append((style, text))
            used += h
        if page:
            self._page(page, top, left)
        self.lines = []

    def _page(self, lines: list[tuple[str, str]], top: float, left: float) -> None:
        fig = new_figure(*PAGE_IN)
        y = PAGE_IN[1] - top
        for style, text in lines:
            size, weight, family, h = _STYLE[style]
            y -= h
            if text:
                fig.text(left / PAGE_IN[0], y / PAGE_IN[1], text, fontsize=size, fontweight=weight,
                         family=family, va="bottom", ha="left")
        self.pdf.savefig(fig)
        fig.clear()


def render_pdf(model: ReportModel, progress: Callable[[str], None] | None = None) -> bytes:
    """The report as PDF bytes."""
    note = progress or (lambda _m: None)
    buf = io.BytesIO()
    meta = {"Title": model.title, "Creator": f"keyguard {model.keyguard_version}",
            "Producer": f"keyguard {model.keyguard_version}", "CreationDate": None}
    with report_style(), PdfPages(buf, metadata=meta) as pdf:
        tp = _TextPages(pdf)
        _header(tp, model)
        tp.flush()
        note("timeline")
        _figure_page(pdf, model.timeline())
        for r in model.inputs:
            note(f"waterfall {r.name}")
            _figure_page(pdf, model.waterfall(r))
        for a in model.alerts:
            note(f"alert A{a.number}")
            _alert(tp, model, a)
            tp.flush()
            if a.number <= model.settings.zoomed_alerts:
                _figure_page(pdf, model.zoom(a))
        _packets(tp, model)
        _limits(tp, model)
        tp.flush()
    return buf.getvalue()


def _figure_page(pdf: PdfPages, fig) -> None:
    if fig is not None:
        pdf.savefig(fig)
        fig.clear()


def _header(tp: _TextPages, m: ReportModel) -> None:
    tp.add("h1", m.title)
    tp.add("body", "Evidence report on key-fob radio captures: what was received, what keyguard "
                   "concluded, and how to reproduce it.")
    tp.gap()
    tp.add("body", f"case reference: {m.case_ref or '-'}")
    tp.add("body", f"keyguard version: {m.keyguard_version}")
    for k, v in m.versions.items():
        tp.add("body", f"{k} version: {v}")
    for k, v in m.sources.items():
        tp.add("body", f"{k}: {v}")
    tp.add("body", f"analysis time (UTC): {m.analysis_time}")
    tp.add("body", "scan options: " + (", ".join(f"{k}={value(v)}" for k, v in m.options.items())
                                       or "defaults"))
    tp.gap()
    tp.add("h2", "Inputs")
    for r in m.inputs:
        centre = f"{r.center_freq / 1e6:.6f} MHz" if r.center_freq else "unknown"
        dur = "-" if r.duration_s is None else f"{r.duration_s:.6f} s"
        tp.add("mono", r.name)
        tp.add("mono", f"    sha256 {r.sha256 or '-'}   size {size(r.size_bytes)}")
        tp.add("mono", f"    format {r.format}   rate {rate(r.sample_rate)}   centre {centre}   "
                       f"start {r.start_time or 'unknown'}   duration {dur}")
        for n in r.notes:
            tp.add("mono", f"    note: {n}")
    tp.gap()
    tp.add("h2", "Findings")
    if not m.alerts:
        tp.add("body", "No alert was raised.")
    for a in m.alerts:
        r = a.record
        tp.add("body", f"A{a.number}  [{r['severity']}] {r['kind']} — "
                       f"{basename(r['capture'])} at {float(r['t']):.4f} s: "
                       f"{r.get('summary') or ''}")
    tp.add("body", f"{len(m.packets)} packet(s) received.")


def _alert(tp: _TextPages, m: ReportModel, a: AlertView) -> None:
    r = a.record
    tp.add("h2", f"A{a.number} [{r['severity']}] {r['kind']} — {basename(r['capture'])} at "
                 f"{float(r['t']):.4f} s")
    tp.add("body", r.get("summary") or "")
    tp.add("body", f"confidence {num(r.get('confidence'), '.2f')}; capture {r['capture']}; span "
                   f"{float(r['t']):.6f}–{float(r['t_end']):.6f} s "
                   f"({duration(float(r['t_end']) - float(r['t']))}); time "
                   f"{r.get('time') or 'unknown'}; identity {r.get('identity') or '-'}")
    tp.gap()
    tp.add("body", "Evidence:")
    for k, v in flatten(r.get("evidence") or {}):
        tp.add("mono", f"    {k} = {value(v)}")
    tp.gap()
    tp.add("body", "Related packets:")
    for pl in a.places:
        tp.add("mono", f"  {pl.title}")
        if not pl.packets:
            tp.add("mono", "      no packet decoded here")
            continue
        p = m.packets[pl.packets[0]]
        tp.add("mono", "      " + "; ".join(f"{label} {_text(get(p))}"
                                           for label, get in PACKET_FIELDS))
        if len(pl.packets) > 1:
            tp.add("mono", "      packets here: " + ", ".join(f"P{i + 1}" for i in pl.packets[:20]))
    tp.gap()
    tp.add("body", "Reproduce:")
    tp.add("mono", a.command)


def _text(v) -> str:
    return "-" if v is None else str(v)


def _packets(tp: _TextPages, m: ReportModel) -> None:
    tp.add("h2", f"Decoded packets ({len(m.packets)})")
    head = (f"{'#':>6} {'capture':<22} {'t (s)':>12} {'protocol':<12} {'identity':<24} "
            f"{'button':>6} {'code':<24} {'integ':<5} {'RSSI':>6} {'SNR':>6} {'carrier MHz':>12}")
    tp.add("mono", head)
    for i, p in enumerate(m.packets, 1):
        f = p.get("fields") or {}
        tp.add("mono", f"{'P' + str(i):>6} {basename(p['capture'])[:22]:<22} "
                       f"{num(p.get('t'), '.6f'):>12} {str(p.get('protocol'))[:12]:<12} "
                       f"{_text(p.get('identity'))[:24]:<24} {_text(f.get('button'))[:6]:>6} "
                       f"{_text(p.get('code'))[:24]:<24} {_text(p.get('integrity'))[:5]:<5} "
                       f"{num(p.get('rssi_db'), '.1f'):>6} {num(p.get('snr_db'), '.1f'):>6} "
                       f"{freq(p.get('freq_hz')):>12}")
    tp.gap()


def _limits(tp: _TextPages, m: ReportModel) -> None:
    tp.add("h2", "Limits of the method")
    for h, t in m.limits:
        tp.add("body", f"{h}. {t}")
    for r in m.inputs:
        if r.limits is not None:
            lim = r.limits
            tp.add("mono", f"{basename(r.name)}: one sample {lim.sample_period_ns:.0f} ns "
                           f"({lim.light_m_per_sample:.0f} m of light travel)"
                           + ("" if lim.tuner_error_hz is None else
                              f", typical tuner error ± {lim.tuner_error_hz / 1e3:.1f} kHz"))
    tp.gap()
    tp.add("body", "Reproduce the scan with:")
    tp.add("mono", m.scan_command)
