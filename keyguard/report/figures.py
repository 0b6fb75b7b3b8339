"""The report's matplotlib figures: session timeline, capture waterfalls, alert zooms.

Figures are built with the object-oriented API on the Agg canvas (no pyplot, no global figure
state) inside :func:`report_style`, which pins everything that could change the bytes between
two runs: font, DPI, SVG hash salt, and no math-text parsing (a ``$`` in a file name or decoded
string must stay a dollar sign, not start a formula or fail to render). Text that comes from
inputs is only ever drawn as pixels, never written as markup.
"""

from __future__ import annotations

import io
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from keyguard.report.session import SessionAxis
from keyguard.report.text import basename, duration
from keyguard.report.waterfall import Envelope, Spectrogram

#: Severity → colour, shared by the figures and the HTML (light grey to dark red).
SEVERITY_COLOURS = {"info": "#7f7f7f", "low": "#1f77b4", "medium": "#d4a000",
                    "high": "#e8590c", "critical": "#c00000"}
INTEGRITY_COLOURS = {"ok": "#1b5e20", "bad": "#d84315", "none": "#37474f"}
DPI = 100

_RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "text.parse_math": False,
    "svg.hashsalt": "keyguard-report",
    "image.cmap": "viridis",
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "path.simplify": True,
}


@contextmanager
def report_style() -> Iterator[None]:
    """Deterministic matplotlib settings for every report figure."""
    with matplotlib.rc_context(_RC):
        yield


def new_figure(width_in: float, height_in: float) -> Figure:
    fig = Figure(figsize=(width_in, height_in), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def to_png(fig: Figure) -> bytes:
    """PNG bytes of a figure: 256-colour palette (a noisy spectrogram compresses ~3× better
    and looks the same), no software or date metadata, so the same figure gives the same bytes.
    Pillow is matplotlib's own image dependency."""
    from PIL import Image

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    rgb = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw",
                           "RGBA", 0, 1).convert("RGB")
    pal = rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    pal.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def short(text: str, n: int = 32) -> str:
    """Text cut to ``n`` characters with an ellipsis, for labels inside figures."""
    text = str(text)
    return text if len(text) <= n else text[:n - 1] + "…"


# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AlertMark:
    """An alert as figures draw it: its number in the report (A1, A2...) and its span."""

    number: int
    kind: str
    severity: str
    capture: str
    t: float
    t_end: float


def identity_key(pkt: dict) -> str:
    """The timeline row of a packet: its identity, or what stands in for one."""
    if pkt.get("identity"):
        return str(pkt["identity"])
    proto = str(pkt.get("protocol") or "unknown")
    return "undecoded bursts" if proto == "unknown" else f"{proto} (no identity)"


def timeline_rows(packets: list[dict], alerts: list[dict], max_rows: int) -> tuple[list[str], dict]:
    """Identity rows for the timeline (at most ``max_rows``, identities in alerts first, then
    the busiest), in order of first appearance; the map sends every identity to its row label."""
    count: dict[str, int] = {}
    first: dict[str, int] = {}
    for i, p in enumerate(packets):
        k = identity_key(p)
        count[k] = count.get(k, 0) + 1
        first.setdefault(k, i)
    flagged = {str(a["identity"]) for a in alerts if a.get("identity")}
    ranked = sorted(count, key=lambda k: (k not in flagged, -count[k], first[k]))
    keep = ranked[:max_rows] if len(ranked) <= max_rows else ranked[:max_rows - 1]
    rest = [k for k in ranked if k not in set(keep)]
    labels = sorted(keep, key=lambda k: first[k])
    mapping = {k: k for k in keep}
    if rest:
        other = f"other ({len(rest)} identities)"
        labels.append(other)
        mapping.update({k: other for k in rest})
    return labels, mapping


def timeline_figure(axis: SessionAxis, captures: list[tuple[str, float]], packets: list[dict],
                    alerts: list[AlertMark], alert_records: list[dict], *,
                    max_rows: int = 30) -> Figure:
    """Session timeline: capture extents, packets by identity, jamming spans, alerts coloured
    by severity. captures: (name, duration s); packets/alert_records: contract dicts."""
    ident_labels, row_of = timeline_rows(packets, alert_records, max_rows)
    labels = ["captures"] + ident_labels[::-1] + ["jamming", "alerts"]
    y_of = {lab: i for i, lab in enumerate(labels)}
    height = 1.5 + 0.3 * len(labels)  # inches: 0.8 below for ticks and label, 0.7 above
    fig = new_figure(13.0, height)
    ax = fig.add_axes((0.16, 0.8 / height, 0.81, 1 - 1.5 / height))
    span = max(axis.x_max, 1e-3)
    min_w = span * 0.002  # a 100 ms burst in an hour must still show as a mark

    for name, dur in captures:
        x0, x1 = axis.x(name, 0.0), axis.x(name, dur)
        ax.broken_barh([(x0, max(x1 - x0, min_w))], (y_of["captures"] - 0.35, 0.7),
                       facecolors="#cfd8dc", edgecolors="#607d8b", linewidth=0.6)
        if x1 - x0 > span * 0.08:
            ax.text(x0 + (x1 - x0) / 2, y_of["captures"], short(basename(name), 40),
                    ha="center", va="center", fontsize=7, clip_on=True)

    for kind in ("ok", "bad", "none"):
        sel = [p for p in packets if (p.get("integrity") or "none") == kind]
        if not sel:
            continue
        xs = np.array([axis.x(str(p["capture"]), float(p["t"])) for p in sel])
        ys = np.array([y_of[row_of[identity_key(p)]] for p in sel], dtype=float)
        ax.vlines(xs, ys - 0.32, ys + 0.32, colors=INTEGRITY_COLOURS[kind], linewidth=1.0,
                  label=f"packet, integrity {kind}")

    jams = [a for a in alerts if a.kind == "jamming"]
    for a in jams:
        x0, x1 = axis.x(a.capture, a.t), axis.x(a.capture, a.t_end)
        ax.axvspan(x0, x0 + max(x1 - x0, min_w), color="#ef9a9a", alpha=0.25, linewidth=0)
        ax.broken_barh([(x0, max(x1 - x0, min_w))], (y_of["jamming"] - 0.35, 0.7),
                       facecolors=SEVERITY_COLOURS[a.severity], edgecolors="none")

    ya = y_of["alerts"]
    for a in alerts:
        x0, x1 = axis.x(a.capture, a.t), axis.x(a.capture, a.t_end)
        c = SEVERITY_COLOURS[a.severity]
        ax.plot([x0, x0 + max(x1 - x0, min_w)], [ya, ya], color=c, linewidth=5,
                solid_capstyle="butt")
        ax.plot([x0], [ya], marker="v", color=c, markersize=7, markeredgecolor="black",
                markeredgewidth=0.4)
        if a.number <= 80:
            ax.text(x0, ya + 0.42, f"A{a.number}", fontsize=7, ha="center", va="bottom",
                    color=c, fontweight="bold")

    for x, gap in axis.breaks:
        ax.axvspan(x - axis.gap_width / 2, x + axis.gap_width / 2, color="#eceff1", linewidth=0)
        ax.text(x, (len(labels) - 1) / 2, f"{duration(gap)} not recorded", rotation=90,
                ha="center", va="center", fontsize=7, color="#455a64")

    ticks, last = [], None
    for t, lab in axis.ticks():  # drop ticks that would print over each other at a gap
        if last is None or t - last >= 0.07 * span:
            ticks.append((t, lab))
            last = t
    ax.set_xticks([t for t, _ in ticks], [lab for _, lab in ticks], fontsize=8)
    ax.set_yticks(range(len(labels)), [short(lab, 34) for lab in labels], fontsize=8)
    ax.set_ylim(-0.7, len(labels) - 0.1)
    pad = span * 0.01
    ax.set_xlim(-pad, span + pad)
    ax.set_xlabel(axis.origin_text() + (" — long gaps compressed" if axis.breaks else ""))
    ax.grid(axis="x", color="#eceff1", linewidth=0.6)
    ax.set_axisbelow(True)
    _severity_key(fig)
    return fig


def _severity_key(fig: Figure) -> None:
    """Severity colours and packet tick colours as a row of labelled swatches at the top."""
    h_in = fig.get_size_inches()[1]
    y = 1 - 0.25 / h_in  # 0.25 in from the top whatever the figure's height
    sw_h = 0.14 / h_in
    # (title, colours, swatch width, step between entries), in figure fractions
    keys = (("alert severity:", SEVERITY_COLOURS, 0.012, 0.065),
            ("packet integrity:", INTEGRITY_COLOURS, 0.003, 0.05))
    x = 0.16
    for title, colours, sw_w, step in keys:
        fig.text(x, y, title, fontsize=8, va="center")
        x += 0.075
        for name, c in colours.items():
            fig.patches.append(Rectangle((x, y - sw_h / 2), sw_w, sw_h, facecolor=c,
                                         edgecolor="none", transform=fig.transFigure, figure=fig))
            fig.text(x + sw_w + 0.004, y, name, fontsize=8, va="center")
            x += step
        x += 0.03


# --------------------------------------------------------------------------------------------
def _pool(a: np.ndarray, n: int, axis: int) -> np.ndarray:
    """Max-pool ``a`` along ``axis`` to at most ``n`` entries (peaks survive the downscale)."""
    m = a.shape[axis]
    if m <= n:
        return a
    edges = (np.arange(n) * m) // n
    return np.maximum.reduceat(a, edges, axis=axis)


def _levels(sg: Spectrogram) -> tuple[float, float]:
    floor = float(np.median(sg.mean_db))
    top = float(np.percentile(sg.peak_db, 99.95))
    vmin = floor - 3.0
    return vmin, max(top, vmin + 25.0)


def _freq_label(sg: Spectrogram) -> str:
    return "frequency (MHz)" if sg.centre_known else "offset from centre (MHz)"


def _draw_spectrogram(ax, sg: Spectrogram, px_w: int, px_h: int,
                      freq_window_hz: tuple[float, float] | None = None):
    data, freqs = sg.peak_db, sg.freqs_hz
    if freq_window_hz is not None:
        keep = (freqs >= freq_window_hz[0]) & (freqs <= freq_window_hz[1])
        if keep.sum() >= 8:
            data, freqs = data[:, keep], freqs[keep]
    img = _pool(_pool(data, px_w, 0), px_h, 1)
    half = sg.bin_hz / 2
    extent = (sg.t0, sg.t1, (freqs[0] - half) / 1e6, (freqs[-1] + half) / 1e6)
    vmin, vmax = _levels(sg)
    im = ax.imshow(img.T, origin="lower", aspect="auto", extent=extent, vmin=vmin, vmax=vmax,
                   interpolation="nearest", cmap="viridis")
    ax.set_ylabel(_freq_label(sg))
    ax.ticklabel_format(axis="y", useOffset=False)
    return im


def waterfall_figure(title: str, sg: Spectrogram, packets: list[dict],
                     alerts: list[AlertMark]) -> Figure:
    """A capture's spectrogram (time across, frequency up) with packets boxed in white and
    alerts as severity-coloured bands labelled A1, A2..."""
    fig = new_figure(14.0, 5.2)
    ax = fig.add_axes((0.07, 0.11, 0.83, 0.8))
    cax = fig.add_axes((0.915, 0.11, 0.012, 0.8))
    im = _draw_spectrogram(ax, sg, 1160, 420)
    cb = fig.colorbar(im, cax=cax)
    cb.set_label(f"dBFS per {sg.bin_hz / 1e3:.2f} kHz bin (peak of {sg.avg_frames}-frame means)")
    span = max(sg.t1 - sg.t0, 1e-6)
    min_w = span * 0.003
    fspan = (sg.freqs_hz[-1] - sg.freqs_hz[0]) / 1e6
    h = max(0.03 * fspan, 6 * sg.bin_hz / 1e6)
    boxes = []
    no_freq = []
    for p in packets:
        t, te = float(p["t"]), float(p.get("t_end") or p["t"])
        if p.get("freq_hz") is None:
            no_freq.append(t)
            continue
        f = float(p["freq_hz"]) / 1e6
        boxes.append(Rectangle((t, f - h / 2), max(te - t, min_w), h))
    if boxes:
        ax.add_collection(PatchCollection(boxes, facecolor="none", edgecolor="white",
                                          linewidth=0.9))
    if no_freq:
        y0 = sg.freqs_hz[0] / 1e6
        ax.plot(no_freq, [y0 + 0.02 * fspan] * len(no_freq), linestyle="none", marker="^",
                color="white", markersize=5)
    for a in alerts:
        c = SEVERITY_COLOURS[a.severity]
        ax.axvspan(a.t, a.t + max(a.t_end - a.t, min_w), color=c, alpha=0.22, linewidth=0)
        ax.axvline(a.t, color=c, linewidth=1.2)
        if a.number <= 80:
            ax.text(a.t, 1.005, f"A{a.number}", transform=ax.get_xaxis_transform(), color=c,
                    fontsize=8, fontweight="bold", ha="center", va="bottom")
    ax.set_xlim(sg.t0, sg.t1)
    ax.set_xlabel("time in capture (s)")
    ax.set_title(short(title, 120), loc="left", pad=14)
    return fig


@dataclass
class ZoomPanel:
    """One burst (or span) of an alert, zoomed: label, the span marked, spectrogram, envelope."""

    label: str
    t: float
    t_end: float
    freq_hz: float | None
    sg: Spectrogram | None
    env: Envelope | None


def zoom_figure(panels: list[ZoomPanel]) -> Figure:
    """Side by side, one column per panel: spectrogram around the burst's carrier over its
    envelope (peak |x| per point), the burst's span marked by dashed lines."""
    n = max(1, len(panels))
    width = min(14.0, 4.6 * n + 0.4)
    label_in, right_in = 0.95, 0.2  # room for the y tick labels and axis label of each column
    panel_in = (width - right_in - n * label_in) / n
    fig = new_figure(width, 5.4)
    gs = fig.add_gridspec(2, n, height_ratios=(2.0, 1.0), left=label_in / width,
                          right=1 - right_in / width, top=0.9, bottom=0.1, hspace=0.08,
                          wspace=label_in / panel_in)
    for i, p in enumerate(panels):
        ax = fig.add_subplot(gs[0, i])
        ax_env = fig.add_subplot(gs[1, i], sharex=ax)
        ax.set_title(short(p.label, int(48 + 10 / n)), fontsize=9, loc="left")
        if p.sg is None or p.env is None:
            ax.text(0.5, 0.5, "IQ not available", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_axis_off()
            ax_env.set_axis_off()
            continue
        win = None
        if p.freq_hz is not None:
            half = max(120e3, 8 * p.sg.bin_hz)
            win = (p.freq_hz - half, p.freq_hz + half)
        _draw_spectrogram(ax, p.sg, 460, 300, win)
        ax.tick_params(labelbottom=False)
        ax_env.plot(p.env.t, p.env.peak, color="#263238", linewidth=0.7, label="peak |x|")
        ax_env.plot(p.env.t, p.env.mean, color="#90a4ae", linewidth=0.7, label="mean |x|")
        ax_env.set_ylim(0, max(0.05, float(p.env.peak.max()) * 1.1))
        ax_env.set_ylabel("|x| (full scale 1)")
        ax_env.set_xlabel("time in capture (s)")
        ax_env.ticklabel_format(axis="x", useOffset=False)
        for a in (ax, ax_env):
            a.axvline(p.t, color="#ff6f00", linestyle=(0, (3, 2)), linewidth=1.0)
            a.axvline(p.t_end, color="#ff6f00", linestyle=(0, (3, 2)), linewidth=1.0)
        ax.set_xlim(p.sg.t0, p.sg.t1)
        if i == 0:
            ax_env.legend(loc="upper right", fontsize=7, frameon=False)
    return fig
