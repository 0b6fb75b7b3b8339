"""Automatic timing estimation for protocols nobody has described (a pulse analyser).

Like rtl_433's ``-A`` analyser and URH's autodetection, but returning numbers a slicer can use:

1. :func:`cluster_widths` groups pulse widths and gap widths (separately) into clusters of
   similar width (µs);
2. :func:`estimate_timing` derives the base unit, short/long widths and a tolerance, and guesses
   the line code by slicing the burst with every plausible line code and keeping the one that
   explains the most runs (ties go to the simpler code);
3. :func:`unknown_frames` cuts a burst into frames at delimiter runs (sync pulses, header gaps,
   inter-frame gaps far longer than the data symbols), strips preambles, and slices each frame
   with the estimated timing. The engine reports these as ``unknown`` packets, and
   :mod:`keyguard.protocols.learn` learns profiles from them.

Noise is rejected: a burst whose widths do not fall into a few tight clusters, or whose best
line code explains too little of it, yields no estimate at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from keyguard.dsp import slicers

#: Relative width difference that separates two clusters.
CLUSTER_REL_TOL = 0.22
#: A frame needs at least this many bits to be reported as ``unknown``.
MIN_UNKNOWN_BITS = 24
#: An unknown frame's weakest bit must be at least this clear (0..1): noise that happens to
#: fit a line code sits near the decision boundaries.
MIN_UNKNOWN_CONFIDENCE = 0.35
#: Fraction of a frame's runs the chosen line code must explain.
MIN_COVERAGE = 0.85
#: The shortest base unit (µs) an analysed burst may have: 2.5 samples at 250 ksps. Below it
#: the runs are whole numbers of samples whatever sent them, so noise slices as clean PCM
#: (held-out jamming and relay captures: hundreds of 2–4 µs "frames" of a noise jammer or a
#: relay's amplifier per capture, none of any transmitter); ISM devices' shortest symbols are
#: tens of µs (tyre sensors' Manchester halves ≈ 25 µs).
MIN_UNIT_US = 10.0


@dataclass(frozen=True)
class WidthCluster:
    """Widths (µs) that belong together: centre (median), count, extent."""

    center_us: float
    count: int
    lo_us: float
    hi_us: float


@dataclass(frozen=True)
class TimingEstimate:
    """What the analyser found for a burst or frame.

    line_code: one of :data:`keyguard.dsp.slicers.LINE_CODES`. short_us/long_us: the two symbol
    widths (for Manchester/PCM the chip and twice the chip). tolerance_us: accepted deviation.
    unit_us: base unit (the shortest common width). line: line-code options (``one``/``zero``,
    ``pulse_us``). coverage: fraction of runs the line code explains (0..1).
    """

    line_code: str
    short_us: float
    long_us: float
    tolerance_us: float
    unit_us: float
    line: dict = field(default_factory=dict)
    coverage: float = 0.0
    pulse_clusters: tuple[WidthCluster, ...] = ()
    gap_clusters: tuple[WidthCluster, ...] = ()

    def as_fields(self) -> dict:
        """The estimate as packet fields (``unknown`` packets carry them)."""
        out = {"line_code": self.line_code, "te_short_us": round(self.short_us, 1),
               "te_long_us": round(self.long_us, 1), "tolerance_us": round(self.tolerance_us, 1)}
        for k, v in self.line.items():
            out[k] = round(v, 1) if isinstance(v, float) else v
        return out


def cluster_widths(widths_us: np.ndarray, rel_tol: float = CLUSTER_REL_TOL,
                   min_count: int = 1) -> list[WidthCluster]:
    """Group widths (µs) into clusters, most populated first.

    Sorted widths split where the next one is more than ``rel_tol`` (relative) above the
    previous; a cluster spread over more than 1.6x is split again at its widest relative step.
    """
    w = np.sort(np.asarray(widths_us, dtype=np.float64))
    w = w[w > 0]
    if w.size == 0:
        return []
    groups = _split(w, rel_tol)
    out = [WidthCluster(float(np.median(g)), int(g.size), float(g[0]), float(g[-1]))
           for g in groups if g.size >= min_count]
    out.sort(key=lambda c: (-c.count, c.center_us))
    return out


def _split(w: np.ndarray, rel_tol: float) -> list[np.ndarray]:
    cuts = np.flatnonzero(w[1:] > w[:-1] * (1 + rel_tol)) + 1
    groups = np.split(w, cuts)
    out: list[np.ndarray] = []
    stack = list(groups)
    while stack:
        g = stack.pop(0)
        if g.size > 2 and g[-1] > 1.6 * g[0]:
            steps = g[1:] / g[:-1]
            k = int(np.argmax(steps)) + 1
            stack[0:0] = [g[:k], g[k:]]
            continue
        out.append(g)
    return out


def _data_clusters(clusters: list[WidthCluster], total: int) -> list[WidthCluster]:
    """Clusters that hold a real share of the runs (symbols, not one-off sync runs)."""
    keep = [c for c in clusters if c.count >= max(2, 0.06 * total)]
    return sorted(keep, key=lambda c: c.center_us)


def _coverage(res: slicers.SliceResult, n_runs: int) -> float:
    return (res.stop - res.start) / max(n_runs, 1)


def _candidates(pc: list[WidthCluster], gc: list[WidthCluster]) -> list[tuple[str, dict]]:
    """Plausible (line_code, slicer kwargs) for these data clusters."""
    out: list[tuple[str, dict]] = []
    ps = [c.center_us for c in pc]
    gs = [c.center_us for c in gc]
    allw = sorted(ps + gs)
    if not allw:
        return out
    unit = allw[0]
    # a width family is "one width" when its second cluster is small next to its first
    gap_bimodal = len(gc) >= 2 and sorted(c.count for c in gc)[-2] >= 0.25 * max(
        c.count for c in gc)
    pulse_bimodal = len(pc) >= 2 and sorted(c.count for c in pc)[-2] >= 0.25 * max(
        c.count for c in pc)
    if len(ps) >= 2:
        s, l_ = ps[0], ps[1]
        tol = 0.3 * (l_ - s)
        if len(gs) >= 2:
            for one in ("short", "long"):
                out.append(("pwm", dict(short_us=s, long_us=l_, tolerance_us=tol, one=one,
                                        complementary=True)))
            for one in ("long", "short"):
                out.append(("pulse_length", dict(short_us=s, long_us=l_, tolerance_us=tol,
                                                 one=one)))
        if not gap_bimodal:
            # constant gaps: the pulse alone carries the bit (rtl_433's plain OOK_PWM)
            gl = max(gs) if gs else l_
            for one in ("short", "long"):
                out.append(("pwm", dict(short_us=s, long_us=l_, tolerance_us=tol, one=one,
                                        complementary=False, gap_limit_us=gl * 1.3)))
    if len(ps) >= 1 and len(gs) >= 2 and not pulse_bimodal:
        s, l_ = gs[0], gs[1]
        out.append(("ppm", dict(pulse_us=ps[0], short_us=s, long_us=l_,
                                tolerance_us=0.3 * (l_ - s), zero="short")))
    ratios = np.asarray(allw) / unit
    if np.all(np.abs(ratios - np.rint(ratios)) < 0.3):
        if ratios.max() < 2.45:
            for zero in ("rising", "falling"):
                out.append(("manchester", dict(half_us=unit, tolerance_us=0.3 * unit,
                                               zero=zero)))
        out.append(("pcm", dict(unit_us=unit, tolerance_us=0.3 * unit,
                                max_run=int(max(2, round(ratios.max()))))))
    return out


#: Preference among equally good explanations (simpler, more specific codes first).
_PREFERENCE = {"pwm": 0, "pulse_length": 1, "ppm": 2, "manchester": 3, "pcm": 5}

_SLICERS = {
    "pwm": slicers.slice_pwm,
    "pulse_length": slicers.slice_pulse_length,
    "ppm": slicers.slice_ppm,
    "manchester": slicers.slice_manchester,
    "pcm": slicers.slice_pcm,
}


def slice_with(est: TimingEstimate, durations_us: np.ndarray, levels: np.ndarray,
               start: int = 0) -> slicers.SliceResult:
    """Slice runs with an estimate's line code and timing."""
    kw = _kwargs(est)
    return _SLICERS[est.line_code](durations_us, levels, start, **kw)


def _kwargs(est: TimingEstimate) -> dict:
    lc = est.line_code
    if lc in ("manchester",):
        return dict(half_us=est.short_us, tolerance_us=est.tolerance_us, **est.line)
    if lc == "pcm":
        return dict(unit_us=est.short_us, tolerance_us=est.tolerance_us, **est.line)
    return dict(short_us=est.short_us, long_us=est.long_us, tolerance_us=est.tolerance_us,
                **est.line)


def _estimate(kind: str, kw: dict, pcl, gcl) -> TimingEstimate:
    if kind == "manchester":
        return TimingEstimate(kind, kw["half_us"], 2 * kw["half_us"], kw["tolerance_us"],
                              kw["half_us"], {"zero": kw["zero"]}, 0.0, pcl, gcl)
    if kind == "pcm":
        return TimingEstimate(kind, kw["unit_us"], 2 * kw["unit_us"], kw["tolerance_us"],
                              kw["unit_us"], {"max_run": kw["max_run"]}, 0.0, pcl, gcl)
    line = {k: v for k, v in kw.items() if k not in ("short_us", "long_us", "tolerance_us")}
    return TimingEstimate(kind, kw["short_us"], kw["long_us"], kw["tolerance_us"],
                          min(kw["short_us"], kw.get("pulse_us", kw["short_us"])), line, 0.0,
                          pcl, gcl)


def _best_start(fn, d: np.ndarray, lv: np.ndarray, kw: dict, max_skip: int
                ) -> tuple[int, slicers.SliceResult, float]:
    """The start run (within the first ``max_skip`` runs) giving the longest slice.

    Starts are scanned greedily: after a slice, the next start tried is where it stopped, so a
    piece costs about one slice per clean stretch. For Manchester the data may start in the
    middle of a two-chip run (its first chip closes the sync), so a start that drops the first
    chip of a long run is tried as well; the third value is how much (µs) of the start run is
    not data (0 normally).
    """
    best_i, best, cut = 0, None, 0.0
    unit = kw.get("half_us")
    pulse_first = unit is None and "unit_us" not in kw
    i = 0
    n = min(max_skip, d.size)
    tries = 0
    while i < n and tries < 8:
        tries += 1
        if pulse_first and lv[i] != 1:
            i += 1
            continue  # these codes start every symbol with a pulse
        r = fn(d, lv, i, **kw)
        if best is None or r.bits.size > best.bits.size:
            best_i, best, cut = i, r, 0.0
        if unit is not None and d[i] > 1.5 * unit:
            d2 = d[i:].copy()
            d2[0] -= unit
            r2 = fn(d2, lv[i:], 0, **kw)
            if r2.bits.size > best.bits.size:
                best_i, cut = i, float(unit)
                best = slicers.SliceResult(r2.bits, r2.confidence, r2.error_us, i,
                                           i + r2.stop, r2.reason)
            r = r if r.stop >= i + r2.stop else slicers.SliceResult(
                r2.bits, r2.confidence, r2.error_us, i, i + r2.stop, r2.reason)
        if best.stop >= d.size - 1 and best.bits.size > 0:
            break  # a slice already reaches the end of the piece
        i = max(i + 1, r.stop - 1 if r.bits.size else i + 1)
    if best is None:
        best = fn(d, lv, 0, **kw)
    return best_i, best, cut


def _clusters(d: np.ndarray, lv: np.ndarray):
    pcl = cluster_widths(d[lv == 1])
    gcl = cluster_widths(d[lv == 0])
    pc = _data_clusters(pcl, int((lv == 1).sum()))
    gc = _data_clusters(gcl, int((lv == 0).sum()))
    return pcl, gcl, pc, gc


def _delimiter_mask(d: np.ndarray, pc: list[WidthCluster], gc: list[WidthCluster]) -> np.ndarray:
    """Runs well beyond every data symbol width (syncs, headers, gaps between frames).

    Cluster centres, not extents, set the limit: one stray run can stretch a cluster's extent.
    """
    widest = max(c.center_us for c in pc + gc)
    return d > 1.4 * widest


#: A piece between delimiters longer than this (runs) is not one frame (noise, or a carrier
#: keyed at random); it is not sliced.
MAX_PIECE_RUNS = 2400


def _segments(d: np.ndarray, delim: np.ndarray, min_runs: int) -> list[tuple[int, int]]:
    cut = np.flatnonzero(delim)
    bounds = np.concatenate([[-1], cut, [d.size]])
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        lo, hi = int(lo) + 1, int(hi)
        if min_runs <= hi - lo <= MAX_PIECE_RUNS:
            out.append((lo, hi))
    return out


def _analyse(d: np.ndarray, lv: np.ndarray, min_bits: int, max_skip: int = 24):
    """(estimate, [(segment lo, start, SliceResult)...]) for the best line code, or None."""
    pcl, gcl, pc, gc = _clusters(d, lv)
    if not pc:
        return None
    held = sum(c.count for c in pc) + sum(c.count for c in gc)
    if held < 0.6 * d.size:
        return None  # widths all over the place: noise
    delim = _delimiter_mask(d, pc, gc)
    segs = _segments(d, delim, min_bits)
    if not segs:
        return None
    # choose the line code on the longest clean pieces (runs inside the data clusters; noise
    # between frames would favour the loosest code), then slice every piece with it
    inside = np.zeros(d.size, dtype=bool)
    for c in pc + gc:
        inside |= (d >= c.lo_us * 0.9) & (d <= c.hi_us * 1.1)
    clean = [sg for sg in segs if inside[sg[0]:sg[1]].mean() >= 0.9] or segs
    sample = sorted(clean, key=lambda sg: sg[0] - sg[1])[:6]
    best = None
    for kind, kw in _candidates(pc, gc):
        fn = _SLICERS[kind]
        explained = 0
        for lo, hi in sample:
            _, res, _ = _best_start(fn, d[lo:hi], lv[lo:hi], kw, max_skip)
            if res.stop - res.start >= min_bits:  # runs, so codes of any density compare
                explained += res.stop - res.start
        # a looser code (PCM explains any Manchester burst; non-complementary PWM any PWM)
        # must explain clearly more to win
        weight = 0.9 if kind == "pcm" or (kind == "pwm" and not kw.get("complementary")) else 1.0
        key = (explained * weight, -_PREFERENCE[kind])
        if best is None or key > best[0]:
            best = (key, kind, kw)
    if best is None or best[0][0] == 0:
        return None
    _, kind, kw = best
    fn = _SLICERS[kind]
    results, explained = [], 0
    for lo, hi in segs:
        start, res, cut = _best_start(fn, d[lo:hi], lv[lo:hi], kw, max_skip)
        results.append((lo, hi, start, res, cut))
        if res.stop - res.start >= min_bits:
            explained += res.stop - res.start
    est = _estimate(kind, kw, tuple(pcl), tuple(gcl))
    if est.short_us < MIN_UNIT_US:
        return None
    cov = explained / max(held, 1)
    est = TimingEstimate(est.line_code, est.short_us, est.long_us, est.tolerance_us,
                         est.unit_us, est.line, float(min(cov, 1.0)), est.pulse_clusters,
                         est.gap_clusters)
    return est, results, delim


def estimate_timing(durations_us: np.ndarray, levels: np.ndarray, *,
                    min_bits: int = MIN_UNKNOWN_BITS) -> TimingEstimate | None:
    """Timing and line code of a frame or a burst of similar frames, or None for noise.

    The burst is cut at delimiter runs (longer than every data symbol); every plausible line
    code slices each piece, and the code that explains the most runs wins.
    """
    d = np.asarray(durations_us, dtype=np.float64)
    lv = np.asarray(levels, dtype=np.int8)
    if d.size < min_bits:
        return None
    got = _analyse(d, lv, min_bits)
    return None if got is None else got[0]


# ------------------------------------------------------------------------------------------
@dataclass
class UnknownFrame:
    """A frame that no profile explained: its span (µs from the train start), bits, timing."""

    t0_us: float
    t1_us: float
    bits: np.ndarray
    confidence: float
    timing: TimingEstimate
    fields: dict = field(default_factory=dict)
    start_run: int = 0        # first data run (index into the arrays analysed)
    stop_run: int = 0         # one past the last data run
    cut_us: float = 0.0       # leading part of the start run that is not data (µs)
    delimiter_run: int = -1   # the delimiter run before the piece (-1: the burst start)
    delimiter_first: int = -1  # first run of the block of delimiter runs ending there


def unknown_frames(durations_us: np.ndarray, levels: np.ndarray,
                   covered: list[tuple[float, float]] | None = None,
                   min_bits: int = MIN_UNKNOWN_BITS) -> list[UnknownFrame]:
    """Frames of a burst outside the ``covered`` spans (µs), sliced with estimated timing.

    The runs outside the covered spans are analysed together (:func:`estimate_timing`); each
    piece between delimiters is sliced from the start that gives the longest clean slice (which
    skips a preamble that is not valid data). A piece is reported only when its bits cover most
    of it after that start, so noise never is.
    """
    d = np.asarray(durations_us, dtype=np.float64)
    lv = np.asarray(levels, dtype=np.int8)
    edges = np.concatenate([[0.0], np.cumsum(d)])
    free = np.ones(d.size, dtype=bool)
    for a, b in covered or ():
        free &= ~((edges[1:] > a) & (edges[:-1] < b))
    out: list[UnknownFrame] = []
    idx = np.flatnonzero(free)
    if idx.size == 0:
        return out
    breaks = np.flatnonzero(np.diff(idx) > 1) + 1
    for seg in np.split(idx, breaks):
        a, b = int(seg[0]), int(seg[-1]) + 1
        if b - a < min_bits:
            continue
        got = _analyse(d[a:b], lv[a:b], min_bits)
        if got is None:
            continue
        est, results, delim = got
        for lo, hi, start, res, cut in results:
            if res.bits.size < min_bits or res.min_confidence < MIN_UNKNOWN_CONFIDENCE:
                continue
            if res.stop - res.start < MIN_COVERAGE * (hi - lo - start):
                continue
            if _is_preamble(res.bits):
                continue
            t0 = float(edges[a + lo + res.start]) + cut
            t1 = float(edges[a + lo + res.stop])
            first = lo - 1
            while first > 0 and delim[first - 1]:
                first -= 1
            out.append(UnknownFrame(t0, t1, res.bits, res.min_confidence, est,
                                    est.as_fields(), a + lo + res.start, a + lo + res.stop,
                                    cut, a + lo - 1 if lo > 0 else -1,
                                    a + first if lo > 0 else -1))
    return out


def _is_preamble(bits: np.ndarray, min_tail: int = 16) -> bool:
    """True when the bits are (nearly) all a constant or alternating pattern: a preamble or
    sync that sliced cleanly, not a payload."""
    b = np.asarray(bits, dtype=np.int8)
    if b.size < 2:
        return True
    same = np.concatenate([[True], b[1:] == b[:-1]])
    alt = np.concatenate([[True], b[1:] != b[:-1]])
    # length of the leading constant or alternating stretch
    lead = max(int(np.argmin(same)) if not same.all() else b.size,
               int(np.argmin(alt)) if not alt.all() else b.size)
    return b.size - lead < min_tail
