"""Slicers: a pulse train's (level, duration µs) runs -> bits.

One function per line code. Each takes the run arrays of a pulse train (``durations_us``,
``levels``) and the index of the first run of the data, slices symbol after symbol until a run
does not fit the line code (or ``max_bits`` is reached), and returns a :class:`SliceResult`:
the bits (uint8), a per-bit confidence in 0..1 and a per-bit timing error (µs), and how many
runs were consumed. Framing (preamble, header, trailer) is the caller's job
(:mod:`keyguard.protocols.engine`); the slicers only know symbols.

Conventions follow rtl_433 where it has one:

- PWM: each bit is a pulse then a gap; by default a short pulse is 1 (``one="short"``).
- PPM (gap-width coding): constant pulses; a short gap is 0 (``zero="short"``).
- Manchester: a bit is two half-bit chips; ``zero="rising"`` means a low->high transition in
  the middle of the bit is 0 (rtl_433's "zero bit = rising edge").
- Differential Manchester: a transition in every bit middle; a transition at the bit start is
  a 0 (``zero="transition"``).
- PCM / NRZ: each run is a whole number of bit periods of its level.
- Pulse-length code (KIA Seed, Star Line): pulse and gap stretch together; both short is 0
  (``one="long"``).
- Slot PPM (Megacode): one pulse per fixed-length slot; its position within the slot is the bit.
- Ternary PWM (Security+ 1.0): three pulse widths in a constant symbol period give trits 0/1/2.

Confidence is 1 at the nominal timing and falls linearly to 0 at the decision boundary between
two symbols, so a caller can drop frames whose weakest bit is too close to call. Timings can be
scaled (``scale``) to follow a transmitter whose oscillator runs fast or slow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Why slicing stopped.
STOP_END = "end"            # ran out of runs
STOP_MISFIT = "misfit"      # the next run does not fit the line code
STOP_GAP = "gap"            # a long gap ended the data (the last bit was read before it)
STOP_MAX = "max_bits"       # ``max_bits`` bits were read

LINE_CODES = ("pwm", "ppm", "manchester", "diff_manchester", "pcm", "pulse_length", "slot_ppm",
              "ternary_pwm")


@dataclass(frozen=True)
class SliceResult:
    """Bits sliced from runs ``[start, stop)`` of a pulse train.

    bits: uint8 0/1 in on-air order. confidence: float32 0..1 per bit (0 = on the decision
    boundary). error_us: float32, per bit the largest deviation (µs) of a run from its nominal
    width. reason: why slicing stopped (``end``, ``misfit``, ``gap``, ``max_bits``).
    """

    bits: np.ndarray
    confidence: np.ndarray
    error_us: np.ndarray
    start: int
    stop: int
    reason: str

    def __len__(self) -> int:
        return int(self.bits.size)

    @property
    def min_confidence(self) -> float:
        """Confidence of the weakest bit (1.0 for no bits)."""
        return float(self.confidence.min()) if self.confidence.size else 1.0

    def truncated(self, n: int, stop: int) -> "SliceResult":
        """The first ``n`` bits, ending at run ``stop``."""
        return SliceResult(self.bits[:n], self.confidence[:n], self.error_us[:n], self.start,
                           stop, STOP_MAX)


def _empty(start: int, reason: str = STOP_MISFIT) -> SliceResult:
    z = np.zeros(0, dtype=np.float32)
    return SliceResult(np.zeros(0, dtype=np.uint8), z, z.copy(), start, start, reason)


def _arrays(durations_us: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(durations_us, dtype=np.float64)
    lv = np.asarray(levels, dtype=np.int8)
    if d.shape != lv.shape:
        raise ValueError("durations_us and levels must have the same length")
    return d, lv


def _first_false(ok: np.ndarray) -> int:
    """Index of the first False in ``ok`` (its length when all are True)."""
    bad = np.flatnonzero(~ok)
    return int(bad[0]) if bad.size else int(ok.size)


def _cap(n: int, max_bits: int | None) -> int:
    return n if max_bits is None else min(n, max_bits)


# ------------------------------------------------------------------------------------------
def deglitch(durations_us: np.ndarray, levels: np.ndarray,
             min_us: float) -> tuple[np.ndarray, np.ndarray]:
    """Absorb runs shorter than ``min_us`` into their neighbours.

    A noise spike of the opposite level inside a long run splits it in three; flipping the spike
    to its neighbours' level and merging restores the run. The first and last runs are kept.
    Returns new (durations_us, levels) arrays.
    """
    d, lv = _arrays(durations_us, levels)
    if d.size < 3 or min_us <= 0:
        return d.copy(), lv.copy()
    lv2 = lv.copy()
    short = d < min_us
    short[0] = short[-1] = False
    lv2[short] = 1 - lv2[short]
    new_run = np.concatenate([[True], lv2[1:] != lv2[:-1]])
    idx = np.cumsum(new_run) - 1
    return np.bincount(idx, weights=d), lv2[new_run]


# ------------------------------------------------------------------------------------------
def _pulse_gap(d: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Pulses from ``start`` and the gap after each (inf after the last run)."""
    p = d[start::2]
    g = d[start + 1::2]
    gap = np.full(p.size, np.inf)
    gap[: g.size] = g
    return p, gap


def _pair_result(start: int, d_size: int, sym_ok: np.ndarray, g_end: np.ndarray,
                 gap: np.ndarray, max_bits: int | None) -> tuple[int, int, str]:
    """(symbols, stop run, reason) for pulse+gap codes: symbols run until one does not fit;
    a gap that ends the data still closes the symbol before it."""
    k = _first_false(sym_ok)
    ends = np.flatnonzero(g_end[:k])
    natural = int(ends[0]) + 1 if ends.size else k
    n = _cap(natural, max_bits)
    if n == 0:
        return 0, start, STOP_MISFIT
    if natural > n:
        return n, start + 2 * n, STOP_MAX
    if g_end[n - 1]:
        # the ending gap is not data
        return n, min(start + 2 * n - 1, d_size), STOP_GAP if np.isfinite(gap[n - 1]) else STOP_END
    return n, min(start + 2 * n, d_size), STOP_MISFIT


def _two_widths(durations_us, levels, start: int, short_us: float, long_us: float,
                tolerance_us: float, scale: float, one: str):
    """Common set-up of the two-width pulse codes: scaled widths, pulses and gaps from
    ``start``, which pulses are short/long. None when ``start`` is not a pulse."""
    if one not in ("short", "long"):
        raise ValueError("one must be 'short' or 'long'")
    d, lv = _arrays(durations_us, levels)
    if start >= d.size or lv[start] != 1:
        return None
    s, l_, tol = short_us * scale, long_us * scale, tolerance_us * scale
    p, gap = _pulse_gap(d, start)
    return (d, s, l_, tol, (l_ - s) / 2.0, p, gap, np.abs(p - s) <= tol,
            np.abs(p - l_) <= tol)


def slice_pwm(durations_us: np.ndarray, levels: np.ndarray, start: int = 0, *,
              short_us: float, long_us: float, tolerance_us: float, one: str = "short",
              complementary: bool = True, gap_limit_us: float | None = None,
              max_bits: int | None = None, scale: float = 1.0) -> SliceResult:
    """Pulse-width modulation: each bit is a pulse then a gap; the pulse width is the bit.

    one: ``"short"`` (rtl_433's OOK_PWM: short pulse = 1) or ``"long"``.
    complementary: the gap is long after a short pulse and short after a long one (constant bit
    period, as KeeLoq and PT2262); both halves then vote. Otherwise any gap up to
    ``gap_limit_us`` (default long + tolerance) separates bits.
    A gap longer than a data gap ends the data; the bit before it is read from its pulse alone.
    """
    w = _two_widths(durations_us, levels, start, short_us, long_us, tolerance_us, scale, one)
    if w is None:
        return _empty(start)
    d, s, l_, tol, half, p, gap, p_short, p_long = w
    p_nom = np.where(p_short, s, l_)
    err_p = np.abs(p - p_nom)
    if complementary:
        g_nom = np.where(p_short, l_, s)
        g_data = np.abs(gap - g_nom) <= tol
        # a gap that is neither a data gap nor long enough to end the data is a misfit
        g_end = gap > l_ + tol
        err_g = np.where(g_data, np.abs(gap - g_nom), 0.0)
    else:
        limit = gap_limit_us * scale if gap_limit_us is not None else l_ + tol
        g_data = (gap >= s - tol) & (gap <= limit)
        g_end = gap > limit
        err_g = np.zeros(p.size)
    nbits, stop, reason = _pair_result(start, d.size, (p_short | p_long) & (g_data | g_end),
                                       g_end, gap, max_bits)
    if nbits == 0:
        return _empty(start)
    err = np.maximum(err_p[:nbits], err_g[:nbits])
    conf = np.clip(1.0 - err / half, 0.0, 1.0).astype(np.float32)
    bits = (p_short[:nbits] if one == "short" else p_long[:nbits]).astype(np.uint8)
    return SliceResult(bits, conf, err.astype(np.float32), start, stop, reason)


def slice_pulse_length(durations_us: np.ndarray, levels: np.ndarray, start: int = 0, *,
                       short_us: float, long_us: float, tolerance_us: float, one: str = "long",
                       max_bits: int | None = None, scale: float = 1.0) -> SliceResult:
    """Pulse-length code: pulse and gap of a bit have the same width; that width is the bit.

    one: ``"long"`` (KIA Seed, Star Line: short/short = 0, long/long = 1) or ``"short"``.
    A gap longer than long + tolerance ends the data; the bit before it is read from its pulse.
    """
    w = _two_widths(durations_us, levels, start, short_us, long_us, tolerance_us, scale, one)
    if w is None:
        return _empty(start)
    d, s, l_, tol, half, p, gap, p_short, p_long = w
    nom = np.where(p_short, s, l_)
    g_match = np.abs(gap - nom) <= tol
    g_end = gap > l_ + tol
    nbits, stop, reason = _pair_result(start, d.size, (p_short | p_long) & (g_match | g_end),
                                       g_end, gap, max_bits)
    if nbits == 0:
        return _empty(start)
    err = np.maximum(np.abs(p - nom)[:nbits],
                     np.where(g_match, np.abs(gap - nom), 0.0)[:nbits])
    conf = np.clip(1.0 - err / half, 0.0, 1.0).astype(np.float32)
    bits = (p_long[:nbits] if one == "long" else p_short[:nbits]).astype(np.uint8)
    return SliceResult(bits, conf, err.astype(np.float32), start, stop, reason)


def slice_ppm(durations_us: np.ndarray, levels: np.ndarray, start: int = 0, *,
              pulse_us: float, short_us: float, long_us: float, tolerance_us: float,
              zero: str = "short", max_bits: int | None = None,
              scale: float = 1.0) -> SliceResult:
    """Gap-width coding (rtl_433's OOK_PPM): constant pulses, the gap after each pulse is a bit.

    zero: ``"short"`` (a short gap is 0, rtl_433's convention) or ``"long"``.
    A frame of n bits is n + 1 pulses; a gap that is neither short nor long ends the data.
    """
    if zero not in ("short", "long"):
        raise ValueError("zero must be 'short' or 'long'")
    d, lv = _arrays(durations_us, levels)
    if start >= d.size or lv[start] != 1:
        return _empty(start)
    pw, s, l_, tol = pulse_us * scale, short_us * scale, long_us * scale, tolerance_us * scale
    half = (l_ - s) / 2.0
    p = d[start::2]
    g = d[start + 1::2]
    n = g.size  # a bit needs a gap and the pulse after it
    if n == 0:
        return _empty(start, STOP_END)
    p_before = p[:n]
    p_after = p[1:n + 1] if p.size > n else np.concatenate([p[1:], [np.nan]])
    g_short = np.abs(g - s) <= tol
    g_long = np.abs(g - l_) <= tol
    ok = (np.abs(p_before - pw) <= tol) & (g_short | g_long) & (np.abs(p_after - pw) <= tol)
    natural = _first_false(ok)
    nbits = _cap(natural, max_bits)
    if nbits == 0:
        return _empty(start)
    err_g = np.abs(g - np.where(g_short, s, l_))[:nbits]
    err = np.maximum.reduce([err_g, np.abs(p_before - pw)[:nbits], np.abs(p_after - pw)[:nbits]])
    conf = np.clip(1.0 - err_g / half, 0.0, 1.0)  # only the gap carries the bit
    bits = (g_long[:nbits] if zero == "short" else g_short[:nbits]).astype(np.uint8)
    stop = start + 2 * nbits + 1  # through the pulse that closes the last bit
    if natural > nbits:
        reason = STOP_MAX
    elif stop >= d.size:
        reason = STOP_END
    else:
        reason = STOP_GAP if d[stop] > l_ + tol else STOP_MISFIT
    return SliceResult(bits, conf.astype(np.float32), err.astype(np.float32), start,
                       min(stop, d.size), reason)


# ------------------------------------------------------------------------------------------
def _chips(d: np.ndarray, lv: np.ndarray, start: int, unit: float, tol: float, max_run: int,
           odd_fill: bool) -> tuple[np.ndarray, np.ndarray, int, str]:
    """Runs from ``start`` as unit-long chips: (chip levels, chip errors µs, stop run, reason).

    A run must be 1..max_run units within tolerance. At the first run that does not fit, when
    ``odd_fill`` and the chips so far are odd in number and the run is longer than max_run
    units, one chip of it completes the last symbol (a trailing half-bit merged into a gap).
    """
    dd = d[start:]
    n = np.rint(dd / unit)
    err = np.abs(dd - n * unit)
    ok = (n >= 1) & (n <= max_run) & (err <= tol)
    k = _first_false(ok)
    counts = n[:k].astype(np.int64)
    chips = np.repeat(lv[start:start + k], counts)
    cerr = np.repeat(err[:k] / np.maximum(counts, 1), counts)
    stop = start + k
    if k == dd.size:
        if odd_fill and chips.size % 2 == 1 and chips[-1] == 1:
            # the burst ends on a carrier-on chip: the missing last chip is the silence after
            chips = np.concatenate([chips, np.zeros(1, dtype=chips.dtype)])
            cerr = np.concatenate([cerr, [0.0]])
        return chips, cerr, stop, STOP_END
    reason = STOP_GAP if dd[k] > max_run * unit + tol else STOP_MISFIT
    if odd_fill and chips.size % 2 == 1 and dd[k] > max_run * unit + tol:
        chips = np.concatenate([chips, lv[start + k:start + k + 1]])
        cerr = np.concatenate([cerr, [0.0]])
    return chips, cerr, stop, reason


def _runs_for_chips(d: np.ndarray, lv: np.ndarray, start: int, unit: float,
                    nchips: int) -> int:
    """Index one past the last run that holds chip ``nchips - 1``."""
    n = np.maximum(np.rint(d[start:] / unit), 1)
    c = np.cumsum(n)
    return start + int(np.searchsorted(c, nchips, side="left")) + 1


@dataclass(frozen=True)
class _ChipPairs:
    """Chips of a two-chips-per-bit code, paired: first/second chip of each bit."""

    first: np.ndarray
    second: np.ndarray
    err: np.ndarray
    conf: np.ndarray
    stop: int
    reason: str


def _chip_pairs(d: np.ndarray, lv: np.ndarray, start: int, unit: float, tol: float,
                max_bits: int | None) -> _ChipPairs | None:
    """Runs as chips paired into bits, up to the first pair of equal chips (None: no bit)."""
    chips, cerr, stop_run, reason = _chips(d, lv, start, unit, tol, 2, odd_fill=True)
    m = chips.size // 2
    a, b = chips[0:2 * m:2], chips[1:2 * m:2]
    natural = _first_false(a != b)
    nbits = _cap(natural, max_bits)
    if nbits == 0:
        return None
    if nbits < m:
        reason = STOP_MAX if natural > nbits else STOP_MISFIT
        stop_run = min(stop_run, _runs_for_chips(d, lv, start, unit, 2 * nbits))
    err = np.maximum(cerr[0:2 * nbits:2], cerr[1:2 * nbits:2])
    conf = np.clip(1.0 - err / (unit / 2.0), 0.0, 1.0).astype(np.float32)
    return _ChipPairs(a[:nbits], b[:nbits], err.astype(np.float32), conf, stop_run, reason)


def slice_manchester(durations_us: np.ndarray, levels: np.ndarray, start: int = 0, *,
                     half_us: float, tolerance_us: float, zero: str = "rising",
                     max_bits: int | None = None, scale: float = 1.0) -> SliceResult:
    """Manchester: every bit is two half-bit chips of opposite level.

    half_us: the half-bit (chip) width, the protocol's te. zero: ``"rising"`` (low->high in the
    bit middle is 0; rtl_433) or ``"falling"`` (high->low is 0; IEEE 802.3 calls that 1... the
    convention varies, so profiles say which). ``start`` must be the first run of a bit.
    Slicing stops at the first pair of equal chips or a run that is not 1 or 2 chips long.
    """
    if zero not in ("rising", "falling"):
        raise ValueError("zero must be 'rising' or 'falling'")
    d, lv = _arrays(durations_us, levels)
    if start >= d.size:
        return _empty(start, STOP_END)
    cp = _chip_pairs(d, lv, start, half_us * scale, tolerance_us * scale, max_bits)
    if cp is None:
        return _empty(start)
    first = cp.first.astype(np.uint8)
    bits = first if zero == "rising" else (1 - first).astype(np.uint8)
    return SliceResult(bits, cp.conf, cp.err, start, cp.stop, cp.reason)


def slice_diff_manchester(durations_us: np.ndarray, levels: np.ndarray, start: int = 0, *,
                          half_us: float, tolerance_us: float, zero: str = "transition",
                          prev_level: int = 0, max_bits: int | None = None,
                          scale: float = 1.0) -> SliceResult:
    """Differential Manchester: a transition in every bit middle; the bit start carries the bit.

    zero: ``"transition"`` (a level change at the bit start is 0) or ``"steady"``.
    prev_level: the level just before the data (0 for OOK: the carrier was off).
    """
    if zero not in ("transition", "steady"):
        raise ValueError("zero must be 'transition' or 'steady'")
    d, lv = _arrays(durations_us, levels)
    if start >= d.size:
        return _empty(start, STOP_END)
    cp = _chip_pairs(d, lv, start, half_us * scale, tolerance_us * scale, max_bits)
    if cp is None:
        return _empty(start)
    before = np.concatenate([[prev_level], cp.second[:-1]])
    changed = cp.first != before
    bits = (~changed if zero == "transition" else changed).astype(np.uint8)
    return SliceResult(bits, cp.conf, cp.err, start, cp.stop, cp.reason)


def slice_pcm(durations_us: np.ndarray, levels: np.ndarray, start: int = 0, *,
              unit_us: float, tolerance_us: float, max_run: int = 16,
              max_bits: int | None = None, scale: float = 1.0) -> SliceResult:
    """PCM / NRZ: a run of n bit periods of level L is n bits L.

    max_run: the longest run (in bit periods) that is still data; a longer gap ends the frame
    (its zeros are not read, since where the data ends inside it is unknowable).
    """
    d, lv = _arrays(durations_us, levels)
    if start >= d.size:
        return _empty(start, STOP_END)
    unit, tol = unit_us * scale, tolerance_us * scale
    chips, cerr, stop_run, reason = _chips(d, lv, start, unit, tol, max_run, odd_fill=False)
    nbits = _cap(chips.size, max_bits)
    if nbits == 0:
        return _empty(start)
    if nbits < chips.size:
        reason = STOP_MAX
        stop_run = _runs_for_chips(d, lv, start, unit, nbits)
    conf = np.clip(1.0 - cerr[:nbits] / (unit / 2.0), 0.0, 1.0).astype(np.float32)
    return SliceResult(chips[:nbits].astype(np.uint8), conf, cerr[:nbits].astype(np.float32),
                       start, stop_run, reason)


def slice_slot_ppm(durations_us: np.ndarray, levels: np.ndarray, start: int = 0, *,
                   slot_us: float, shift_us: float, tolerance_us: float, first_bit: int = 1,
                   pulse_us: float | None = None, max_bits: int | None = None,
                   scale: float = 1.0) -> SliceResult:
    """Pulse position in fixed slots (Megacode): one pulse per slot, early (0) or late (1).

    slot_us: slot length. shift_us: how much later a 1's pulse sits in its slot than a 0's.
    first_bit: the value of the first slot's bit (the reference; Megacode always starts with
    a 1). Bits follow from the spacing of consecutive pulses (slot: same bit, slot + shift:
    0 -> 1, slot - shift: 1 -> 0), so a slightly fast or slow clock does not accumulate.
    """
    d, lv = _arrays(durations_us, levels)
    if start >= d.size or lv[start] != 1:
        return _empty(start)
    slot, shift, tol = slot_us * scale, shift_us * scale, tolerance_us * scale
    t = np.concatenate([[0.0], np.cumsum(d[start:])])[:-1]
    pulse_idx = np.flatnonzero(lv[start:] == 1)
    ts = t[pulse_idx]
    widths = d[start:][pulse_idx]
    step = np.diff(ts)
    # step kind: 0 same bit, +1 rise (0 -> 1), -1 fall (1 -> 0)
    kinds = np.array([0.0, shift, -shift])
    k = np.argmin(np.abs(step[:, None] - slot - kinds[None, :]), axis=1)
    err_step = np.abs(step - slot - kinds[k])
    delta = np.array([0, 1, -1])[k]
    bits = np.concatenate([[first_bit], first_bit + np.cumsum(delta)])
    ok = np.concatenate([[True], (err_step <= tol) & (bits[1:] >= 0) & (bits[1:] <= 1)])
    if pulse_us is not None:
        ok &= np.abs(widths - pulse_us * scale) <= tol
    natural = _first_false(ok)
    nbits = _cap(natural, max_bits)
    if nbits == 0:
        return _empty(start)
    err = np.concatenate([[0.0], err_step])[:nbits]
    conf = np.clip(1.0 - err / (shift / 2.0), 0.0, 1.0).astype(np.float32)
    stop = start + int(pulse_idx[nbits - 1]) + 1
    if natural > nbits:
        reason = STOP_MAX
    elif nbits == ts.size:
        reason = STOP_END if stop >= d.size else STOP_GAP
    else:
        reason = STOP_MISFIT
    return SliceResult(bits[:nbits].astype(np.uint8), conf, err.astype(np.float32), start,
                       stop, reason)


def slice_ternary_pwm(durations_us: np.ndarray, levels: np.ndarray, start: int = 0, *,
                      short_us: float, long_us: float, tolerance_us: float,
                      max_bits: int | None = None, scale: float = 1.0) -> SliceResult:
    """Ternary pulse width: pulses of short, (short + long)/2 and long are trits 0, 1, 2.

    The gap completes a constant symbol period (short + long); a longer gap ends the data and
    the last symbol is read from its pulse. The "bits" of the result are trits (0, 1, 2).
    """
    d, lv = _arrays(durations_us, levels)
    if start >= d.size or lv[start] != 1:
        return _empty(start)
    s, l_, tol = short_us * scale, long_us * scale, tolerance_us * scale
    widths = np.array([s, (s + l_) / 2.0, l_])
    half = (widths[1] - widths[0]) / 2.0
    p, gap = _pulse_gap(d, start)
    k_sym = np.argmin(np.abs(p[:, None] - widths[None, :]), axis=1)
    nom = widths[k_sym]
    g_nom = s + l_ - nom  # the gap completes a constant period
    g_data = np.abs(gap - g_nom) <= tol
    g_end = gap > g_nom + tol
    nsym, stop, reason = _pair_result(start, d.size, (np.abs(p - nom) <= tol) & (g_data | g_end),
                                      g_end, gap, max_bits)
    if nsym == 0:
        return _empty(start)
    err = np.maximum(np.abs(p - nom)[:nsym], np.where(g_data, np.abs(gap - g_nom), 0.0)[:nsym])
    conf = np.clip(1.0 - err / half, 0.0, 1.0).astype(np.float32)
    return SliceResult(k_sym[:nsym].astype(np.uint8), conf, err.astype(np.float32), start,
                       stop, reason)


# ------------------------------------------------------------------------------------------
def bits_to_hex(bits: np.ndarray) -> str:
    """Bits as hex, first bit as the MSB of the first nibble, zero-padded at the end."""
    b = np.asarray(bits, dtype=np.uint8)
    if b.size == 0:
        return ""
    pad = (-b.size) % 8
    packed = np.packbits(np.concatenate([b, np.zeros(pad, dtype=np.uint8)]))
    hexs = packed.tobytes().hex().upper()
    return hexs[: (b.size + 3) // 4]


def hex_to_bits(hex_str: str, nbits: int) -> np.ndarray:
    """Inverse of :func:`bits_to_hex`: the first ``nbits`` bits of a hex string."""
    s = hex_str.strip()
    if len(s) % 2:
        s += "0"
    bits = np.unpackbits(np.frombuffer(bytes.fromhex(s), dtype=np.uint8))
    if bits.size < nbits:
        raise ValueError(f"hex string holds {bits.size} bits, {nbits} wanted")
    return bits[:nbits].copy()
