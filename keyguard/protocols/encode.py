"""Encoding: a profile and field values -> the pulse trains of one button press.

The exact inverse of :mod:`keyguard.protocols.engine`: fields become message bits (through the
profile's codec, or its field layout with const fields and the integrity check filled in),
bits become symbols of the profile's line code, and each frame gets its preamble, header and
trailer. A press is ``repeat.frames_per_press`` frames separated by ``repeat.inter_frame_gap_us``
of silence. The simulator (:mod:`keyguard.sim`) renders these trains into IQ, and decoding
them gives back the same fields.
"""

from __future__ import annotations

import numpy as np

from keyguard.protocols.profile import Profile, expected_check
from keyguard.protocols.registry import Registry, load_registry
from keyguard.pulse_train import PulseTrain


def _profile(profile_or_name: Profile | str, registry: Registry | None) -> Profile:
    if isinstance(profile_or_name, Profile):
        return profile_or_name
    return (registry or load_registry()).get(profile_or_name)


def _tristate_value(text: str, width: int) -> int:
    """PT2262 digits (0, 1, F) back to bits: 0 -> 00, 1 -> 11, F -> 01."""
    if len(text) * 2 != width:
        raise ValueError(f"{len(text)} tri-state digits do not fill {width} bits")
    v = 0
    for ch in text.upper():
        pair = {"0": 0, "1": 3, "F": 1, "Z": 1}.get(ch)
        if pair is None:
            raise ValueError(f"tri-state digit {ch!r} is not 0, 1 or F")
        v = (v << 2) | pair
    return v


def _field_value(spec, v) -> int:
    if isinstance(v, str):
        if spec.format == "tristate":
            return _tristate_value(v, spec.width)
        if spec.format == "bits":
            return int(v, 2)
        return int(v, 16)
    return int(v)


def message_bits(profile: Profile, fields: dict) -> np.ndarray:
    """The bits (on-air order, uint8) of one message with these fields.

    With a codec the codec builds them; otherwise each given field is written into the layout,
    const fields get their value, the rest are 0, and the check field is computed. A message of
    a multi-part profile holds all its frames' bits. Raises ValueError for fields that do not
    fit or contradict each other.
    """
    p = profile
    if p.codec is not None:
        from keyguard.protocols.codecs import get_codec

        bits = np.asarray(get_codec(p.codec).encode(dict(fields)), dtype=np.uint8)
    else:
        n = p.frame.bits_max * p.frame.parts
        nbits = int(fields.get("bits", n))
        if not p.frame.bits_min <= nbits // p.frame.parts <= p.frame.bits_max:
            raise ValueError(f"{p.name} frames have {p.frame.bits_min}-{p.frame.bits_max} bits, "
                             f"not {nbits}")
        bits = np.zeros(nbits, dtype=np.uint8)
        written = np.zeros(nbits, dtype=bool)
        known = {f.name for f in p.fields}
        unknown = set(fields) - known - {"bits"}
        if unknown:
            raise ValueError(f"{p.name} has no field(s) {', '.join(sorted(unknown))}")
        for spec in p.fields:
            if spec.offset + spec.width > nbits:
                continue
            if spec.name in fields:
                value = _field_value(spec, fields[spec.name])
            elif spec.const is not None:
                value = spec.const
            else:
                continue
            tmp = bits.copy()
            spec.write(tmp, value)
            span = slice(spec.offset, spec.offset + spec.width)
            clash = written[span] & (tmp[span] != bits[span])
            if clash.any():
                raise ValueError(f"field {spec.name} contradicts another field's bits")
            bits = tmp
            written[span] = True
        if p.check.kind != "none":
            p.field_spec(p.check.field).write(bits, expected_check(p.check, bits))
    if p.invert:
        bits = (1 - bits).astype(np.uint8)
    return bits


# ------------------------------------------------------------------------------------------
def line_runs(p: Profile, bits: np.ndarray, scale: float = 1.0) -> tuple[list[float], list[int]]:
    """Runs (durations µs, levels) of the data symbols of one frame's bits."""
    t, line = p.timing, p.line
    s, l_ = t.te_short_us * scale, t.te_long_us * scale
    d: list[float] = []
    lv: list[int] = []
    lc = p.line_code
    b = [int(x) for x in bits]
    if lc == "pwm":
        one_short = line["one"] == "short"
        for x in b:
            short_pulse = (x == 1) == one_short
            if line["complementary"]:
                d += [s, l_] if short_pulse else [l_, s]
            else:
                d += [s if short_pulse else l_, s]
            lv += [1, 0]
    elif lc == "pulse_length":
        one_long = line["one"] == "long"
        for x in b:
            w = l_ if (x == 1) == one_long else s
            d += [w, w]
            lv += [1, 0]
    elif lc == "ppm":
        pw = (line.get("pulse_us") or t.te_short_us) * scale
        zero_short = line["zero"] == "short"
        for x in b:
            d += [pw, s if (x == 0) == zero_short else l_]
            lv += [1, 0]
        d.append(pw)
        lv.append(1)
    elif lc in ("manchester", "diff_manchester", "pcm"):
        chips: list[int] = []
        if lc == "manchester":
            rising_zero = line["zero"] == "rising"
            for x in b:
                first = x if rising_zero else 1 - x  # rising-zero: 0 -> (0, 1)
                chips += [first, 1 - first]
        elif lc == "diff_manchester":
            prev = 0
            zero_transition = line["zero"] == "transition"
            for x in b:
                transition = (x == 0) == zero_transition
                first = 1 - prev if transition else prev
                chips += [first, 1 - first]
                prev = 1 - first
        else:
            chips = b
        d = [s] * len(chips)
        lv = chips
    elif lc == "ternary_pwm":
        widths = (s, (s + l_) / 2.0, l_)
        for x in b:
            if x not in (0, 1, 2):
                raise ValueError(f"ternary symbol {x} is not 0, 1 or 2")
            d += [widths[x], s + l_ - widths[x]]
            lv += [1, 0]
    elif lc == "slot_ppm":
        slot, shift = line["slot_us"] * scale, line["shift_us"] * scale
        pw = (line.get("pulse_us") or t.te_short_us) * scale
        margin = max(0.0, (slot - shift - pw) / 2.0)
        pos = 0.0  # time of the end of the previous run within the sequence
        for i, x in enumerate(b):
            start = i * slot + margin + (shift if x == 1 else 0.0)
            if start > pos:
                d.append(start - pos)
                lv.append(0)
            d.append(pw)
            lv.append(1)
            pos = start + pw
        if lv and lv[0] == 0:  # the silence before the first slot is not part of the frame
            d, lv = d[1:], lv[1:]
    else:
        raise ValueError(f"unknown line code {lc!r}")
    return d, lv


def frame_train(p: Profile, bits: np.ndarray, scale: float = 1.0, **kw) -> PulseTrain:
    """One frame: preamble, header, data symbols, trailer (a PulseTrain starting at t=0)."""
    d: list[float] = []
    lv: list[int] = []
    fr = p.frame
    if fr.preamble is not None:
        pre = fr.preamble
        for i in range(pre.count):
            on = i % 2 == 0
            d.append((pre.pulse_us if on else pre.gap_us) * scale)
            lv.append(1 if on else 0)
    for r in fr.header:
        d.append(r.nominal_us * scale)
        lv.append(r.level)
    dd, ll = line_runs(p, bits, scale)
    if fr.lead_chip is not None and not fr.header and fr.preamble is None and ll and \
            ll[0] == fr.lead_chip:
        # the first chip merges into the silence before the frame; it is not sent as a run
        dd, ll = dd[1:], ll[1:]
    d += dd
    lv += ll
    for r in fr.trailer:
        d.append(r.nominal_us * scale)
        lv.append(r.level)
    kw.setdefault("modulation", p.modulation)
    kw.setdefault("freq_hz", p.frequencies_hz[0])
    return PulseTrain(np.asarray(d, dtype=np.float64), np.asarray(lv, dtype=np.int8), **kw)


def encode(profile_or_name: Profile | str, fields: dict, *, te_scale: float = 1.0,
           frames: int | None = None, registry: Registry | None = None) -> list[PulseTrain]:
    """The frames of one button press, as pulse trains timed from the press start (s).

    fields: the protocol's fields (e.g. ``serial``, ``button``, ``encrypted`` for KeeLoq).
    te_scale: stretch every duration (a transmitter whose clock runs slow: > 1).
    frames: how many frames (default: the profile's ``repeat.frames_per_press``); for a
    multi-part profile, how many messages.
    Raises ValueError when the fields do not fit the profile.
    """
    if not 0.2 <= te_scale <= 5.0:
        raise ValueError("te_scale must be within 0.2..5")
    p = _profile(profile_or_name, registry)
    bits = message_bits(p, fields)
    parts = np.split(bits, p.frame.parts) if p.frame.parts > 1 else [bits]
    n = frames if frames is not None else max(1, p.repeat.frames_per_press // p.frame.parts)
    if n < 1:
        raise ValueError("frames must be at least 1")
    out: list[PulseTrain] = []
    t = 0.0
    gap_s = p.repeat.inter_frame_gap_us * te_scale * 1e-6
    for _ in range(n):
        for part in parts:
            tr = frame_train(p, part, te_scale, t=t, meta={"profile": p.name})
            if tr.levels.size and tr.levels[0] == 0:
                # a frame starting with silence (a merged lead chip) is timed from its first
                # pulse; its trailing gap is kept, it is the last symbol's
                tr = PulseTrain(tr.durations_us[1:], tr.levels[1:], t=t,
                                modulation=tr.modulation, freq_hz=tr.freq_hz, meta=tr.meta)
            out.append(tr)
            t = tr.t_end + gap_s
    return out


def press_train(profile_or_name: Profile | str, fields: dict, **kw) -> PulseTrain:
    """One press as a single pulse train (frames joined with their inter-frame gaps)."""
    trains = encode(profile_or_name, fields, **kw)
    d: list[np.ndarray] = []
    lv: list[np.ndarray] = []
    end = trains[0].t
    for tr in trains:
        gap = (tr.t - end) * 1e6
        if gap > 0:
            d.append(np.array([gap]))
            lv.append(np.array([0], dtype=np.int8))
        d.append(tr.durations_us)
        lv.append(tr.levels)
        end = tr.t_end
    first = trains[0]
    return PulseTrain(np.concatenate(d), np.concatenate(lv), t=first.t,
                      modulation=first.modulation, freq_hz=first.freq_hz, meta=dict(first.meta))
