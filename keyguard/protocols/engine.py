"""The decoding engine: pulse train -> frames -> bits -> fields -> :class:`Packet`.

One generic engine serves every firmware profile. For each burst (a :class:`PulseTrain`, which
may hold several repeated frames) and each candidate profile:

1. cheap filters: modulation (when the receiver knows it) and whether the burst has runs near
   the profile's symbol widths at all;
2. framing: the data starts after a header match (with enough preamble runs before it), after a
   preamble stretch, or after a frame gap; the preamble also measures the transmitter's clock
   (``te_scale``) and, for OOK, the pulse-width bias of the receiver's threshold;
3. slicing with the profile's line code, bit-count and trailer checks;
4. fields (a codec from :mod:`keyguard.protocols.codecs`, or the profile's field layout), const
   fields, integrity check, identity and code.

Frames of different profiles that overlap in time compete: a passed integrity check beats none,
then priority, then more bits, then confidence. What no profile explains but frames cleanly is
reported as an ``unknown`` packet with its estimated timing (:mod:`keyguard.dsp.timing`); a
frame that does not slice cleanly is dropped, never guessed: a frame found only by the gap
before it must end in a frame gap too, and a frame whose bits the demodulator may have got
wrong is dropped unless a strong integrity check (≥ 8 bits, or a fitting decryption) passed
(the margin gate, :meth:`Decoder._drop_weak`; bench/wrong_decodes.py measures the result).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Iterator

import numpy as np

from keyguard.dsp import slicers
from keyguard.dsp.slicers import SliceResult, bits_to_hex
from keyguard.events import Packet, time_at
from keyguard.protocols.profile import Profile, expected_check, tristate
from keyguard.protocols.registry import Registry, load_registry
from keyguard.pulse_train import PulseTrain

#: the margin gate (:meth:`Decoder._drop_weak`): a frame without a passed integrity check
#: is dropped when the probability that one of its data runs was decided wrong is above this
#: (chosen on simulated KeeLoq presses, see bench/margin_gate.py: of 1,515 frames decoded at
#: −8 to −2 dB, seed 7, 29 were wrong, the most confident at 4.8e-3; frames kept fell from
#: 92 % to 69 % at −5 dB and from 99 % to 93 % at −4 dB; a factor of ~5 below that frame)
MAX_ERROR_PROBABILITY = 1e-3
#: … and its header gap within this many chips of nominal (0 disables)
MAX_HEADER_CHIPS = 1.5
#: a passed integrity check exempts a frame from the margin gate only when it carries at least
#: this many bits of redundancy (a 2-bit CRC or a 4-bit checksum lets one wrong frame in 4 or
#: 16 through: HCS361/362, Somfy RTS, Scher-Khan, Security+ 2.0 stay gated)
MIN_CHECK_BITS = 8

#: Integrity ranks for choosing between overlapping decodes.
_INTEGRITY_RANK = {"ok": 2, "none": 1, "bad": 0}


@dataclass
class DecodedFrame:
    """One decoded frame before it becomes a Packet (times in µs from the train start)."""

    profile: Profile | None
    t0_us: float
    t1_us: float
    bits: np.ndarray
    confidence: float
    scale: float
    fields: dict = field(default_factory=dict)
    integrity: str = "none"
    identity: str | None = None
    code: str | None = None
    extra: dict = field(default_factory=dict)
    # the header gap's departure from its nominal length at the frame's clock (chips; None
    # without a fixed-length header): a lost first data pulse merges into it
    header_chips: float | None = None
    data_us: float | None = None  # where the data (after preamble and header) starts
    # found only by a frame gap, and none was seen: the burst's first run starts it (the
    # burst detector may have missed a weak first pulse, and a shorter frame still fits)
    at_burst_start: bool = False

    @property
    def protocol(self) -> str:
        return self.profile.name if self.profile is not None else "unknown"

    def rank(self) -> tuple:
        prio = self.profile.priority if self.profile is not None else -1000
        return (_INTEGRITY_RANK.get(self.integrity, 0), prio, self.bits.size, self.confidence)


# ------------------------------------------------------------------------------------------
def _consecutive(mask: np.ndarray) -> np.ndarray:
    """For each index, how many consecutive True values end there (0 where False)."""
    n = mask.size
    idx = np.arange(n)
    last_false = np.where(mask, -1, idx)
    last_false = np.maximum.accumulate(last_false)
    return np.where(mask, idx - last_false, 0)


def _preamble_mask(p: Profile, d: np.ndarray, lv: np.ndarray) -> np.ndarray:
    pre = p.frame.preamble
    lo, hi = p.timing.te_scale
    nom = np.where(lv == 1, pre.pulse_us, pre.gap_us)
    return (d >= nom * lo - pre.tolerance_us) & (d <= nom * hi + pre.tolerance_us)


def _header_starts(p: Profile, d: np.ndarray, lv: np.ndarray, chip_code: bool) -> np.ndarray:
    """Indices where the header's runs match (the last run may hold one extra data chip)."""
    hdr = p.frame.header
    m = len(hdr)
    n = d.size - m + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    lo, hi = p.timing.te_scale
    ok = np.ones(n, dtype=bool)
    for j, r in enumerate(hdr):
        top = r.max_us * hi
        if chip_code and j == m - 1:
            top += p.timing.te_short_us * hi  # a data chip of the same level merges into it
        dj = d[j:j + n]
        ok &= (lv[j:j + n] == r.level) & (dj >= r.min_us * lo) & (dj <= top)
    return np.flatnonzero(ok)


@dataclass
class _Start:
    first: int                 # first run of the frame (preamble or header)
    data: int                  # first run of the data
    scale: float               # clock scale measured from the preamble (1.0 when unknown)
    bias_us: float = 0.0       # OOK pulse lengthening measured on a symmetric preamble
    lead_us: float = 0.0       # part of the run before ``data`` that is data (merged chip)


def _preamble_scale(p: Profile, d: np.ndarray, lv: np.ndarray, a: int, b: int
                    ) -> tuple[float, float]:
    """Clock scale and OOK pulse bias (µs) from preamble runs [a, b)."""
    pre = p.frame.preamble
    a = max(a, b - 24)  # the last runs are the most settled
    seg, sl = d[a:b], lv[a:b]
    if seg.size < 2:
        return 1.0, 0.0
    nom = np.where(sl == 1, pre.pulse_us, pre.gap_us)
    # a pair (pulse + gap) is immune to the threshold's pulse-width bias
    scale = float(np.median(seg / nom)) if seg.size < 4 else float(seg.sum() / nom.sum())
    bias = 0.0
    if abs(pre.pulse_us - pre.gap_us) < 1e-9 and np.any(sl == 1) and np.any(sl == 0):
        bias = float((np.median(seg[sl == 1]) - np.median(seg[sl == 0])) / 2.0)
        if abs(bias) > 0.3 * pre.pulse_us * scale:
            bias = 0.0  # not a plausible receiver bias: do not trust it
    return scale, bias


def _trim_preamble(p: Profile, d: np.ndarray, lv: np.ndarray, first: int, end: int,
                   trim_end: bool) -> tuple[int, int, float, float]:
    """Drop runs at the edges of a preamble stretch [first, end) that do not fit the clock the
    rest of it shows (the loose mask accepts any allowed clock, so it can take a neighbouring
    gap or the data's first runs). Returns (first, end, scale, bias)."""
    pre = p.frame.preamble
    seg, sl = d[first:end], lv[first:end]
    nom = np.where(sl == 1, pre.pulse_us, pre.gap_us)
    clock = float(np.median(seg / nom)) if seg.size else 1.0
    fits = np.abs(seg - nom * clock) <= pre.tolerance_us * clock
    while first < end and not fits[0] and end - first > pre.min_runs:
        first += 1
        fits = fits[1:]
    while trim_end and first < end and not fits[-1] and end - first > pre.min_runs:
        end -= 1
        fits = fits[:-1]
    scale, bias = _preamble_scale(p, d, lv, first, end)
    return first, end, scale, bias


def _frame_starts(p: Profile, d: np.ndarray, lv: np.ndarray) -> list[_Start]:
    chip_code = p.line_code in ("manchester", "diff_manchester", "pcm")
    fr = p.frame
    lo, hi = p.timing.te_scale
    out: list[_Start] = []
    if fr.header:
        run_len = None
        if fr.preamble is not None:
            run_len = _consecutive(_preamble_mask(p, d, lv))
        last = fr.header[-1]
        for h in _header_starts(p, d, lv, chip_code):
            h = int(h)
            first, scale, bias = h, 1.0, 0.0
            if run_len is not None:
                c = int(run_len[h - 1]) if h > 0 else 0
                if c < fr.preamble.min_runs:
                    continue
                first, _, scale, bias = _trim_preamble(p, d, lv, h - c, h, trim_end=False)
                if not lo <= scale <= hi:
                    continue
            data = h + len(fr.header)
            lead = 0.0
            if chip_code:
                dl = d[data - 1]
                nominal = (last.us if last.us is not None else last.max_us) * scale
                if dl - nominal >= 0.5 * p.timing.te_short_us * scale:
                    lead = dl - nominal
            out.append(_Start(first, data, scale, bias, lead))
    elif fr.preamble is not None:
        mask = _preamble_mask(p, d, lv)
        run_len = _consecutive(mask)
        ends = np.flatnonzero(mask & np.concatenate([~mask[1:], [True]])
                              & (run_len >= fr.preamble.min_runs))
        for e in ends:
            e = int(e)
            first, end, scale, bias = _trim_preamble(p, d, lv, e - int(run_len[e]) + 1, e + 1,
                                                     trim_end=True)
            if not lo <= scale <= hi:
                continue
            out.append(_Start(first, end, scale, bias))
    else:
        gap_lo = fr.gap_us * lo
        cut = np.flatnonzero((lv == 0) & (d >= gap_lo))
        cands = np.concatenate([[0], cut + 1])
        for c in cands:
            c = int(c)
            if c < d.size and lv[c] == 0:
                c += 1
            if c < d.size:
                out.append(_Start(c, c, 1.0))
    return out


# ------------------------------------------------------------------------------------------
def _slice(p: Profile, d: np.ndarray, lv: np.ndarray, start: int, scale: float,
           max_bits: int) -> SliceResult:
    t, line = p.timing, p.line
    lc = p.line_code
    if lc == "pwm":
        return slicers.slice_pwm(d, lv, start, short_us=t.te_short_us, long_us=t.te_long_us,
                                 tolerance_us=t.tolerance_us, one=line["one"],
                                 complementary=line["complementary"],
                                 gap_limit_us=line.get("gap_limit_us"), max_bits=max_bits,
                                 scale=scale)
    if lc == "pulse_length":
        return slicers.slice_pulse_length(d, lv, start, short_us=t.te_short_us,
                                          long_us=t.te_long_us, tolerance_us=t.tolerance_us,
                                          one=line["one"], max_bits=max_bits, scale=scale)
    if lc == "ppm":
        return slicers.slice_ppm(d, lv, start, pulse_us=line.get("pulse_us") or t.te_short_us,
                                 short_us=t.te_short_us, long_us=t.te_long_us,
                                 tolerance_us=t.tolerance_us, zero=line["zero"],
                                 max_bits=max_bits, scale=scale)
    if lc == "manchester":
        return slicers.slice_manchester(d, lv, start, half_us=t.te_short_us,
                                        tolerance_us=t.tolerance_us, zero=line["zero"],
                                        max_bits=max_bits, scale=scale)
    if lc == "diff_manchester":
        prev = int(1 - lv[start]) if start < lv.size else 0
        return slicers.slice_diff_manchester(d, lv, start, half_us=t.te_short_us,
                                             tolerance_us=t.tolerance_us, zero=line["zero"],
                                             prev_level=prev, max_bits=max_bits, scale=scale)
    if lc == "pcm":
        return slicers.slice_pcm(d, lv, start, unit_us=t.te_short_us,
                                 tolerance_us=t.tolerance_us, max_run=int(line["max_run"]),
                                 max_bits=max_bits, scale=scale)
    if lc == "ternary_pwm":
        return slicers.slice_ternary_pwm(d, lv, start, short_us=t.te_short_us,
                                         long_us=t.te_long_us, tolerance_us=t.tolerance_us,
                                         max_bits=max_bits, scale=scale)
    if lc == "slot_ppm":
        return slicers.slice_slot_ppm(d, lv, start, slot_us=line["slot_us"],
                                      shift_us=line["shift_us"], tolerance_us=t.tolerance_us,
                                      first_bit=int(line["first_bit"]),
                                      pulse_us=line.get("pulse_us"), max_bits=max_bits,
                                      scale=scale)
    raise ValueError(f"unknown line code {lc!r}")


def _data_scale(p: Profile, d: np.ndarray, lv: np.ndarray) -> float | None:
    """The clock scale measured on the data runs themselves (no preamble to measure)."""
    t = p.timing
    if d.size < 4:
        return None
    lc = p.line_code
    if lc == "pwm" and p.line["complementary"]:
        k = (d.size // 2) * 2
        periods = d[:k:2] + d[1:k:2]
        return float(np.median(periods) / (t.te_short_us + t.te_long_us))
    if lc in ("manchester", "diff_manchester", "pcm", "pulse_length", "ppm"):
        smallest = np.percentile(d, 10)
        short = d[d <= smallest * 1.4]
        return float(np.median(short) / t.te_short_us) if short.size else None
    if lc == "pwm":
        pulses = d[lv == 1]
        return float((pulses.min() + pulses.max()) / (t.te_short_us + t.te_long_us))
    if lc == "slot_ppm":
        # pulses of equal bits sit one slot apart
        starts = np.concatenate([[0.0], np.cumsum(d)])[:-1][lv == 1]
        steps = np.diff(starts)
        slot = p.line["slot_us"]
        same = steps[np.abs(steps - slot) < 0.25 * slot]
        return float(np.median(same) / slot) if same.size else None
    return None


def _plausible(p: Profile, d: np.ndarray) -> bool:
    """Whether runs could be this profile's data at some allowed clock scale (cheap check
    before measuring the clock on them)."""
    lo, hi = p.timing.te_scale
    t = p.timing
    widths = p.data_widths_us()
    top = max(widths + (t.te_long_us,)) * hi + t.tolerance_us
    if p.line_code == "slot_ppm":
        top = (p.line["slot_us"] + p.line["shift_us"]) * hi + t.tolerance_us
    bottom = min(widths) * lo - t.tolerance_us
    return d.size > 0 and bool(np.all((d >= bottom) & (d <= top)))


def _window(p: Profile, d: np.ndarray, lv: np.ndarray, s: _Start
            ) -> tuple[np.ndarray, np.ndarray, int]:
    """Copy of the runs a frame can span, with the merged lead chip and bias correction."""
    fr = p.frame
    span = 2 * fr.bits_max + 2 * len(fr.trailer) + 4
    lo = s.data - 1 if s.lead_us > 0 else s.data
    wd = d[lo:s.data + span].copy()
    wl = lv[lo:s.data + span]
    if s.lead_us > 0:
        wd[0] = s.lead_us
    elif fr.lead_chip is not None and wl.size and wl[0] != fr.lead_chip:
        # the first chip merged into the silence before the frame: put it back
        wd = np.concatenate([[p.timing.te_short_us * s.scale], wd])
        wl = np.concatenate([[np.int8(fr.lead_chip)], wl])
        lo -= 1
    if s.bias_us and p.modulation == "OOK" and abs(s.bias_us) > 0.05 * p.timing.te_short_us:
        wd = wd + np.where(wl == 1, -s.bias_us, s.bias_us)
        wd = np.maximum(wd, 0.0)
    return wd, wl, lo


def _trailer_ok(p: Profile, d: np.ndarray, lv: np.ndarray, stop: int, scale: float) -> int | None:
    """Runs taken by the trailer at ``stop`` (None when it does not match)."""
    used = 0
    for j, r in enumerate(p.frame.trailer):
        i = stop + j
        if i >= d.size:
            # silence after the burst counts as a trailing gap
            if r.level == 0 and j == len(p.frame.trailer) - 1:
                return used
            return None
        lo = r.min_us * p.timing.te_scale[0] * min(scale, 1.0)
        hi = r.max_us * p.timing.te_scale[1] * max(scale, 1.0)
        if lv[i] != r.level or not lo <= d[i] <= hi:
            return None
        used += 1
    return used


def _ends_in_gap(p: Profile, d: np.ndarray, lv: np.ndarray, i: int, scale: float) -> bool:
    """Whether run ``i`` (after a frame's last bit) is a frame gap: a silence of at least the
    profile's ``frame.gap_us`` (at the lowest allowed clock), or the end of the burst (what
    is left of it after ``i`` is shorter than one symbol: a partial last chip, an edge's
    residue; silence follows)."""
    if i >= d.size:
        return True
    if lv[i] == 0 and d[i] >= p.frame.gap_us * p.timing.te_scale[0] * min(scale, 1.0):
        return True
    symbol_us = 2.0 * max(p.data_widths_us() + (p.timing.te_long_us,)) * max(scale, 1.0)
    return bool(d[i:].sum() - (d[i] if lv[i] == 0 else 0.0) <= symbol_us)


def _fmt_hex(value: int, width: int | None) -> str:
    digits = max(8, 2 * ((width + 7) // 8)) if width is not None else max(8, len(f"{value:X}"))
    return f"{int(value):0{digits}X}"


def _join(p: Profile, names: tuple[str, ...], raw: dict) -> str | None:
    parts = []
    for n in names:
        if n not in raw:
            return None
        spec = p.field_spec(n)
        v = raw[n]
        if isinstance(v, str):
            parts.append(v)
            continue
        width = spec.width if spec is not None else None
        if len(names) > 1 and width is not None:
            parts.append(f"{int(v):0{(width + 3) // 4}X}")
        else:
            parts.append(_fmt_hex(int(v), width))
    return "-".join(parts)


def _check(p: Profile, bits: np.ndarray, raw: dict) -> str:
    if p.check.kind == "none":
        return "none"
    return "ok" if expected_check(p.check, bits) == int(raw[p.check.field]) else "bad"


def frame_fields(p: Profile, bits: np.ndarray, codec_ctx: dict | None = None
                 ) -> tuple[dict, dict, str] | None:
    """(shown fields, raw field values, integrity) of one frame's bits, or None if invalid.

    A const field that differs, an invalid tri-state digit, a failed check or a codec that
    rejects the bits make the frame invalid.
    """
    shown: dict = {}
    raw: dict = {}
    for f in p.fields:
        if f.offset + f.width > bits.size:
            continue
        v = f.read(bits)
        if f.const is not None and v != f.const:
            return None
        if f.format == "tristate" and tristate(v, f.width) is None:
            return None
        raw[f.name] = v
        shown[f.name] = f.show(v)
    integrity = _check(p, bits, raw) if p.fields else "none"
    if integrity == "bad":
        return None
    if p.codec is not None:
        from keyguard.protocols.codecs import get_codec

        out = get_codec(p.codec).decode(bits, **(codec_ctx or {}))
        if out is None:
            return None
        out = dict(out)
        integrity = out.pop("integrity", integrity)
        if integrity == "bad":
            return None
        raw.update(out)
        shown.update(out)
    return shown, raw, integrity


def _decode_profile(p: Profile, d: np.ndarray, lv: np.ndarray, edges: np.ndarray,
                    codec_ctx: dict | None, min_confidence: float) -> list[DecodedFrame]:
    if p.frame.deglitch_us > 0:
        d, lv = slicers.deglitch(d, lv, p.frame.deglitch_us)
        edges = np.concatenate([[0.0], np.cumsum(d)])
    frames: list[DecodedFrame] = []
    taken_until = -1
    lo, hi = p.timing.te_scale
    for s in _frame_starts(p, d, lv):
        if s.data <= taken_until:
            continue
        if p.frame.preamble is None and not p.frame.header \
                and not _plausible(p, d[s.data:s.data + 8]):
            continue  # a gap-delimited start whose first runs are no data symbols at all
        wd, wl, base = _window(p, d, lv, s)
        res = _slice(p, wd, wl, 0, s.scale, p.frame.bits_max)
        scale = s.scale
        if res.bits.size < p.frame.bits_min and p.frame.preamble is None:
            # no preamble measured the clock: measure it on the frame's own runs
            n = 2 * p.frame.bits_max
            ends = np.flatnonzero((wl[:n] == 0) & (wd[:n] >= p.frame.gap_us * lo))
            n = int(ends[0]) if ends.size else n
            est = _data_scale(p, wd[:n], wl[:n]) if _plausible(p, wd[:n]) else None
            if est is not None and lo <= est <= hi and abs(est - 1.0) > 0.02:
                res2 = _slice(p, wd, wl, 0, est, p.frame.bits_max)
                if res2.bits.size > res.bits.size:
                    res, scale = res2, est
        n = res.bits.size
        if not p.frame.bits_min <= n <= p.frame.bits_max:
            continue
        trailer_runs = 0
        if p.frame.trailer:
            t_ok = _trailer_ok(p, wd, wl, res.stop, scale)
            if t_ok is None:
                continue
            trailer_runs = t_ok
        elif res.reason == slicers.STOP_MAX:
            continue  # more data-like symbols follow than the protocol has: not this frame
        elif p.frame.preamble is None and not p.frame.header \
                and not _ends_in_gap(p, d, lv, base + res.stop, scale):
            # a frame found only by the silence before it must end in silence too: data
            # cut short by a run that fits no symbol (noise, or another protocol's longer
            # frame: KeeLoq's 66 bits read as a 48-bit Chrysler frame) is not a frame
            continue
        if res.min_confidence < min_confidence:
            continue
        bits = res.bits if not p.invert else (1 - res.bits).astype(np.uint8)
        stop_run = base + res.stop + trailer_runs
        end_run = stop_run
        # a trailing gap is not part of the frame's time span
        while end_run - 1 > s.data and lv[end_run - 1] == 0:
            end_run -= 1
        t0, t1 = float(edges[s.first]), float(edges[min(end_run, d.size)])
        if p.frame.parts > 1:
            # one part of a multi-frame message: fields come once all parts are in
            frames.append(DecodedFrame(p, t0, t1, bits, res.min_confidence, scale,
                                extra={"part": True}))
        else:
            made = make_frame(p, bits, t0, t1, res.min_confidence, scale, codec_ctx)
            if made is None:
                continue
            made.header_chips = _header_chips(p, d, s)
            made.at_burst_start = (s.first == 0 and p.frame.preamble is None
                                   and not p.frame.header)
            made.data_us = float(edges[min(s.data, d.size)])
            frames.append(made)
        taken_until = stop_run - 1
    return frames


def _header_chips(p: Profile, d: np.ndarray, s: _Start) -> float | None:
    """How far (in chips of the frame's clock) the gap before the data is from the profile's
    nominal header length; None when the header has no nominal length or holds a data chip."""
    if not p.frame.header or s.lead_us > 0 or s.data < 1:
        return None
    last = p.frame.header[-1]
    if last.us is None or last.level != 0:
        return None
    te = p.timing.te_short_us * s.scale
    return float((d[s.data - 1] - last.us * s.scale) / te) if te > 0 else None


def make_frame(p: Profile, bits: np.ndarray, t0_us: float, t1_us: float, confidence: float,
               scale: float, codec_ctx: dict | None) -> DecodedFrame | None:
    """A decoded Frame from a message's bits (None when the fields say it is not valid)."""
    got = frame_fields(p, bits, codec_ctx)
    if got is None:
        return None
    shown, raw, integrity = got
    identity = code = None
    if p.identity:
        j = _join(p, p.identity, raw)
        identity = None if j is None else f"{p.family}:{j}"
    if p.code:
        j = _join(p, p.code, raw)
        if j is not None:
            code = f"{identity or p.family}:{j}"
    return DecodedFrame(p, t0_us, t1_us, bits, confidence, scale, shown, integrity, identity, code)


def check_bits(p: Profile | None) -> int:
    """Bits of redundancy behind a profile's ``integrity="ok"`` (0 without a check)."""
    if p is None:
        return 0
    if p.codec is not None:
        from keyguard.protocols.codecs import get_codec

        return int(getattr(get_codec(p.codec), "check_bits", 0))
    kind = p.check.kind
    if kind == "none":
        return 0
    if kind == "parity":
        return 1
    if kind == "hcs36x":
        return 2
    return int(p.check.width)


def trusted_check(f: DecodedFrame, min_bits: int = MIN_CHECK_BITS) -> bool:
    """Whether a frame's passed integrity check alone makes its bits trustworthy: a
    decryption that fits (KeeLoq families with a manufacturer key), or a check of at least
    ``min_bits`` bits."""
    if f.integrity != "ok":
        return False
    return bool(f.fields.get("decrypted")) or check_bits(f.profile) >= min_bits


def frame_error_probability(margins: np.ndarray, noise: float) -> float:
    """Probability that at least one of a frame's level decisions is wrong, from the runs'
    decision margins (unit: half the on/off separation) and a margin's noise standard
    deviation ``noise`` (same unit).

    A decision whose statistic landed m from the threshold, with the levels ±1 apart from it
    and Gaussian noise of σ, is wrong with posterior probability 1 / (1 + exp(2m/σ²)) (the
    likelihood ratio of the two levels). The frame's is their sum (a union bound, ≤ 1). Unlike
    the margin in standard deviations, this weighs a margin by how far the levels stand out
    of the noise: 0.3 σ from the threshold is a 29 % chance of a flip when the levels are
    1.5 σ from it, 3 % when they are 6 σ from it.
    """
    m = np.asarray(margins, dtype=np.float64)
    if m.size == 0:
        return 0.0
    if not noise > 0:
        return 0.0 if m.min() > 0 else 1.0
    llr = np.clip(2.0 * m / (noise * noise), -700.0, 700.0)
    return float(min(1.0, np.sum(1.0 / (1.0 + np.exp(llr)))))


# ------------------------------------------------------------------------------------------
class Decoder:
    """Decodes pulse trains with a set of profiles.

    profiles: a Registry or profiles (default: the shipped ones). protocols: restrict to these
    names. strict_modulation: skip profiles whose modulation differs from the train's (right for
    IQ front ends, which know; a Flipper preset does not prove the fob's modulation).
    unknown: report framed-but-unmatched frames as ``unknown`` packets.
    codec_ctx: passed to codecs (``manufacturer_keys``, ``seed``).
    min_confidence: drop frames whose weakest bit's timing confidence is below this (0..1).
    min_run_margin: drop frames (without a passed check) in which the demodulator's level
    decision margin of some run is below this (0..1), when the train carries
    ``meta["run_margin"]`` (IQ front end); 0 disables.
    max_error_probability: drop such a frame when the probability that one of its data
    runs was decided wrong (:func:`frame_error_probability`, from the margins and their noise
    ``meta["margin_noise"]`` measured on the burst) is above this; 1 disables.
    max_header_chips: the header gap of such a frame may depart from its nominal
    length by at most this many chips (a first data pulse lost in the noise lengthens it by
    one to three and shifts every bit: KeeLoq's serial comes out halved).
    min_check_bits: a passed integrity check spares a frame the gate only when it has at
    least this many bits of redundancy (:func:`check_bits`) or is a fitting decryption.
    press_consensus: with soft decisions, drop repeats of a press in one burst that disagree
    with the burst's majority (:func:`_press_consensus`).
    See :meth:`_drop_weak` for why this gate exists.
    """

    def __init__(self, profiles: Registry | Iterable[Profile] | None = None, *,
                 protocols: Iterable[str] | None = None, strict_modulation: bool = True,
                 unknown: bool = True, codec_ctx: dict | None = None,
                 min_confidence: float = 0.0, min_run_margin: float = 0.1,
                 max_error_probability: float = MAX_ERROR_PROBABILITY,
                 max_header_chips: float = MAX_HEADER_CHIPS,
                 min_check_bits: int = MIN_CHECK_BITS, press_consensus: bool = True):
        reg = profiles if isinstance(profiles, Registry) else (
            load_registry() if profiles is None else Registry(profiles))
        if protocols:
            reg = reg.select(list(protocols))
        self.registry = reg
        self.profiles = list(reg)
        self.strict_modulation = strict_modulation
        self.unknown = unknown and not protocols
        self.codec_ctx = dict(codec_ctx or {})
        self.min_confidence = float(min_confidence)
        self.min_run_margin = float(min_run_margin)
        self.max_error_probability = float(max_error_probability)
        self.max_header_chips = float(max_header_chips)
        self.min_check_bits = int(min_check_bits)
        self.press_consensus = bool(press_consensus)
        # parts of multi-frame messages waiting for the rest: profile name -> [(t0 s, t1 s,
        # bits, confidence)]
        self._pending: dict[str, list[tuple[float, float, np.ndarray, float]]] = {}

    def reset(self) -> None:
        """Forget parts of multi-frame messages (call between unrelated captures)."""
        self._pending.clear()

    # cheap pre-filter ---------------------------------------------------------------------
    def _candidates(self, train: PulseTrain) -> list[Profile]:
        d = train.durations_us
        out = []
        for p in self.profiles:
            if self.strict_modulation and p.modulation != train.modulation:
                continue
            lo, hi = p.timing.te_scale
            tol = p.timing.tolerance_us
            near = np.zeros(d.size, dtype=bool)
            for w in p.data_widths_us():
                near |= (d >= w * lo - tol) & (d <= w * hi + tol)
            # every bit of every line code has at least half a run of a data width
            if int(near.sum()) >= max(4, p.frame.bits_min // 2):
                out.append(p)
        return out

    def decode_frames(self, train: PulseTrain) -> list[DecodedFrame]:
        """Decoded frames of one burst, overlaps resolved, in time order."""
        d, lv = train.durations_us, train.levels
        if d.size < 4:
            return []
        edges = train.edges_us()
        found: list[DecodedFrame] = []
        for p in self._candidates(train):
            found.extend(_decode_profile(p, d, lv, edges, self.codec_ctx, self.min_confidence))
        chosen = self._drop_weak(_resolve(found), train, edges)
        if self.press_consensus and train.meta.get("run_margin") is not None:
            # judged like the margin gate: only where the demodulator's own decisions are
            # (IQ); a pulse recording is reported frame by frame, as recorded
            chosen = _press_consensus(chosen, self.min_check_bits)
        if self.unknown:
            from keyguard.dsp.timing import unknown_frames

            for uf in unknown_frames(d, lv, covered=[(f.t0_us, f.t1_us) for f in chosen]):
                chosen.append(DecodedFrame(None, uf.t0_us, uf.t1_us, uf.bits, uf.confidence,
                                           1.0, uf.fields, "none"))
        chosen.sort(key=lambda f: f.t0_us)
        return chosen

    def _drop_weak(self, frames: list[DecodedFrame], train: PulseTrain,
                   edges: np.ndarray) -> list[DecodedFrame]:
        """The margin gate: frames without a trustworthy passed integrity check
        (:func:`trusted_check`) that the demodulator may have got wrong are dropped.

        A protocol without a CRC (KeeLoq HCS200/300/301, the fixed-code remotes) turns one
        wrong bit into another valid-looking serial or code, and a forensic record must not
        invent a transmitter. So, when the train carries the demodulator's soft decisions
        (IQ front end), a frame is kept only when every run's decision margin
        (``meta["run_margin"]``: 1 = at the level's mean, 0 = on the threshold) is at least
        ``min_run_margin``, the probability that some data run was decided wrong, judged
        from the margins and their noise (``meta["margin_noise"]``), is at most
        ``max_error_probability``, and its header gap is within ``max_header_chips`` of
        nominal (a lost first pulse shifts every bit), and a variable-length frame that only
        the burst's start delimits is as long as the profile allows. A dropped frame is not
        lost as evidence: its runs are no longer covered, so the unknown-frame framer reports
        them as an ``unknown`` packet (a transmission was there; whose it was is not claimed).
        """
        margins = train.meta.get("run_margin")
        if margins is None or len(margins) != len(train):
            return frames
        margins = np.asarray(margins, dtype=np.float64)
        need = self.min_run_margin
        noise = train.meta.get("margin_noise")
        keep = []
        for f in frames:
            if trusted_check(f, self.min_check_bits):
                keep.append(f)
                continue
            if (self.max_header_chips > 0 and f.header_chips is not None
                    and abs(f.header_chips) > self.max_header_chips):
                continue
            if f.at_burst_start and f.bits.size < f.profile.frame.bits_max:
                # a variable-length frame whose start no gap confirms: a first pulse the burst
                # detector missed leaves a frame one bit shorter with every field shifted
                # (a 49-bit Chrysler frame read as 48 bits: another code)
                continue
            i0 = max(0, int(np.searchsorted(edges, f.t0_us, side="right")) - 1)
            i1 = int(np.searchsorted(edges, f.t1_us, side="left"))
            if i1 <= i0:
                keep.append(f)
                continue
            if need > 0 and margins[i0:i1].min() < need:
                continue
            if noise is not None and self.max_error_probability < 1.0:
                # the data runs only: a wrong preamble or header decision does not change
                # the bits (it breaks the framing or is caught by the header check)
                j0 = i0 if f.data_us is None else max(
                    i0, int(np.searchsorted(edges, f.data_us, side="right")) - 1)
                p_wrong = frame_error_probability(margins[j0:i1], float(noise))
                if p_wrong > self.max_error_probability:
                    continue
            keep.append(f)
        return keep

    def decode(self, train: PulseTrain, capture: str = "<array>",
               start_time: datetime | None = None) -> list[Packet]:
        """Packets of one burst (see :meth:`decode_frames`).

        Trains must come in time order: a message sent as several frames (Security+ 2.0) is
        put together across calls and reported when its last part arrives.
        """
        out = []
        for f in self.decode_frames(train):
            if f.extra.get("part"):
                pk = self._add_part(f, train, capture, start_time)
                if pk is not None:
                    out.append(pk)
            else:
                out.append(to_packet(f, train, capture, start_time))
        return out

    def _add_part(self, f: DecodedFrame, train: PulseTrain, capture: str,
                  start_time: datetime | None) -> Packet | None:
        p = f.profile
        t0, t1 = train.t + f.t0_us * 1e-6, train.t + f.t1_us * 1e-6
        pend = self._pending.setdefault(p.name, [])
        # parts belong together only when they follow each other closely
        limit = max(0.5, 4 * p.repeat.inter_frame_gap_us * 1e-6)
        if pend and t0 - pend[-1][1] > limit:
            pend.clear()
        pend.append((t0, t1, f.bits, f.confidence))
        if len(pend) < p.frame.parts:
            return None
        bits = np.concatenate([x[2] for x in pend])
        made = make_frame(p, bits, 0.0, 0.0, min(x[3] for x in pend), f.scale, self.codec_ctx)
        if made is None:
            pend.pop(0)  # the oldest part does not start a message; try from the next one
            return None
        first_t = pend[0][0]
        pend.clear()
        pk = to_packet(made, train, capture, start_time)
        pk.t, pk.t_end = first_t, t1
        pk.time = time_at(start_time, first_t)
        return pk

    def decode_trains(self, trains: Iterable[PulseTrain], capture: str = "<array>",
                      start_time: datetime | None = None) -> Iterator[Packet]:
        for tr in trains:
            yield from self.decode(tr, capture, start_time)


def _press_consensus(frames: list[DecodedFrame], min_check_bits: int) -> list[DecodedFrame]:
    """Repeats of one press in one burst must agree: of the frames of a profile that repeats
    its code within a press (``repeat.same_code_within_press``) and have no trustworthy
    check, those whose identity and code differ from the burst's strict majority are dropped
    (all of them when there is none). A frame with a wrong bit is the odd one out among its
    repeats (a last pulse cut short by the burst's end: CAME 674 read as 675)."""
    groups: dict[str, list[DecodedFrame]] = {}
    for f in frames:
        p = f.profile
        if (p is not None and p.repeat.same_code_within_press and not f.extra.get("part")
                and not trusted_check(f, min_check_bits)):
            groups.setdefault(p.name, []).append(f)
    drop: set[int] = set()
    for group in groups.values():
        if len(group) < 2:
            continue
        votes: dict[tuple, int] = {}
        for f in group:
            key = (f.identity, f.code)
            votes[key] = votes.get(key, 0) + 1
        best, n = max(votes.items(), key=lambda kv: kv[1])
        for f in group:
            if (f.identity, f.code) != best or 2 * n <= len(group):
                drop.add(id(f))
    return [f for f in frames if id(f) not in drop] if drop else frames


def _resolve(found: list[DecodedFrame]) -> list[DecodedFrame]:
    """Keep the best of time-overlapping frames (greedy by rank)."""
    order = sorted(found, key=lambda f: f.rank(), reverse=True)
    kept: list[DecodedFrame] = []
    for f in order:
        if all(f.t1_us <= k.t0_us or f.t0_us >= k.t1_us for k in kept):
            kept.append(f)
    return kept


def payload_bits(symbols: np.ndarray) -> np.ndarray:
    """Bits of a frame's symbols: bits as they are, ternary symbols as two bits each."""
    s = np.asarray(symbols, dtype=np.uint8)
    if s.size and s.max() > 1:
        return np.stack([s >> 1, s & 1], axis=1).ravel().astype(np.uint8)
    return s


def to_packet(f: DecodedFrame, train: PulseTrain, capture: str,
              start_time: datetime | None = None) -> Packet:
    """The contract record of a decoded frame."""
    t = train.t + f.t0_us * 1e-6
    extra = {"confidence": round(float(f.confidence), 3)}
    extra.update(f.extra)
    bits = payload_bits(f.bits) if f.profile is None or f.profile.line_code == "ternary_pwm" \
        else f.bits
    return Packet(capture=capture, t=t, t_end=train.t + f.t1_us * 1e-6,
                  modulation=train.modulation, protocol=f.protocol, bits=int(bits.size),
                  data=bits_to_hex(bits), identity=f.identity, code=f.code,
                  fields=dict(f.fields), integrity=f.integrity, rssi_db=train.rssi_db,
                  snr_db=train.snr_db, freq_hz=train.freq_hz, time=time_at(start_time, t),
                  extra=extra)


def decode_pulse_train(train: PulseTrain, profiles: Registry | Iterable[Profile] | None = None,
                       **kw) -> list[Packet]:
    """Convenience: decode one pulse train with the shipped (or given) profiles."""
    capture = kw.pop("capture", "<array>")
    return Decoder(profiles, **kw).decode(train, capture)


def capture_pulse_trains(capture) -> Iterator[PulseTrain]:
    """The bursts of a capture as pulse trains: a pulse capture's own, or demodulated IQ.

    IQ goes through the DSP front end (:mod:`keyguard.dsp`: burst detection, channelisation,
    OOK/FSK demodulation).
    """
    if capture.is_pulse_capture:
        yield from capture.pulse_trains
        return
    from keyguard.dsp.bursts import detect_bursts
    from keyguard.dsp.demod import demodulate

    for burst in detect_bursts(capture):
        yield from demodulate(burst)


def decode_capture(capture, decoder: Decoder | None = None, *,
                   label_unknown: bool = True) -> Iterator[Packet]:
    """Every packet of a capture (a :class:`keyguard.io.Capture`), in burst order.

    decoder: default: the shipped profiles, strict about modulation only for IQ captures
    (a Flipper preset does not prove a fob's modulation).
    label_unknown: give ``unknown`` packets an identity and code learned from the capture's
    own frames (:func:`keyguard.protocols.learn.label_unknown`); the packets then come out
    once the whole capture is decoded.
    """
    dec = decoder or Decoder(strict_modulation=not capture.is_pulse_capture)
    dec.reset()
    packets = (pk for tr in capture_pulse_trains(capture)
               for pk in dec.decode(tr, capture.path, capture.start_time))
    if not (label_unknown and dec.unknown):
        yield from packets
        return
    from keyguard.protocols.learn import label_unknown as label

    batch = list(packets)
    label(batch)
    yield from batch
