"""Learning a profile for a fob nobody has described.

Give it recordings of several presses of one transmitter. Frames that no shipped profile
explains are framed and sliced with estimated timing (:func:`keyguard.dsp.timing.unknown_frames`);
the learner then

1. keeps the dominant kind of frame (line code, timing, bit count) and works out the framing
   the engine needs to find it again: the delimiter run before the data (header), the
   preamble before that, or the gap that separates frames;
2. groups frames into presses (a press repeats one message) and compares the distinct messages:
   bit positions that never change are the transmitter's identity, positions that change from
   press to press are the rolling code (short fixed stretches inside rolling regions count as
   rolling: a bit of a counter or cipher can stay put over a few presses by chance);
3. writes a profile (TOML text) with ``fixed_*`` fields as ``identity`` and ``rolling_*`` fields
   as ``code``, validates it by loading it, and checks that it decodes the frames it came from.

With only one distinct message every bit looks fixed: the result is then a fixed-code profile
and :attr:`LearnResult.warnings` says so.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import numpy as np

from keyguard.dsp.timing import UnknownFrame, unknown_frames
from keyguard.errors import InputError
from keyguard.protocols.engine import Decoder
from keyguard.protocols.profile import Profile, profiles_from_toml
from keyguard.protocols.registry import Registry, load_registry
from keyguard.pulse_train import PulseTrain

#: Fixed stretches shorter than this (bits) between rolling bits count as rolling.
MIN_FIXED_RUN = 4
#: Frames further apart than this (s) are different presses even with equal bits.
PRESS_GAP_S = 1.0


class LearnError(InputError):
    """The captures hold nothing a profile can be learned from."""


@dataclass
class ObservedFrame:
    """An unmatched frame with the context the learner needs."""

    capture: str
    t: float                      # s, capture time of the data start
    t_end: float
    bits: np.ndarray
    frame: UnknownFrame
    header: tuple[tuple[int, float], ...]   # (level, µs) runs between delimiters and data
    delimiter: tuple[tuple[int, float], ...] | None  # the delimiter runs (level, µs) before the
    # data, None at the burst start
    preamble: tuple[float, float, int] | None  # (pulse µs, gap µs, runs) before the delimiter
    modulation: str
    freq_hz: float | None


@dataclass
class LearnResult:
    """What was learned: the profile, its TOML text and how well it fits the inputs."""

    profile: Profile
    toml: str
    frames: int
    messages: int
    fixed_bits: int
    rolling_bits: int
    decoded: int
    warnings: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------
def _preamble_before(d: np.ndarray, lv: np.ndarray, end: int) -> tuple[float, float, int] | None:
    """A regular alternation of runs ending at ``end`` (exclusive): (pulse, gap, runs)."""
    if end < 4:
        return None
    ref = {1: None, 0: None}
    k = end - 1
    count = 0
    while k >= 0:
        level = int(lv[k])
        w = d[k]
        if ref[level] is None:
            ref[level] = w
        elif abs(w - ref[level]) > 0.3 * ref[level]:
            break
        count += 1
        k -= 1
    if count < 8 or ref[1] is None or ref[0] is None:
        return None
    seg_d, seg_l = d[k + 1:end], lv[k + 1:end]
    return (float(np.median(seg_d[seg_l == 1])), float(np.median(seg_d[seg_l == 0])), count)


def observe(trains: Iterable[PulseTrain], capture: str = "<array>",
            registry: Registry | None = None) -> list[ObservedFrame]:
    """Frames in these bursts that no profile of ``registry`` explains, with their context."""
    dec = Decoder(registry if registry is not None else load_registry(),
                  strict_modulation=False, unknown=False)
    out: list[ObservedFrame] = []
    for tr in trains:
        d, lv = tr.durations_us, tr.levels
        covered = [(f.t0_us, f.t1_us) for f in dec.decode_frames(tr)]
        for uf in unknown_frames(d, lv, covered=covered):
            delim = uf.delimiter_run
            header: list[tuple[int, float]] = []
            for k in range(delim + 1, uf.start_run):
                header.append((int(lv[k]), float(d[k])))
            if uf.cut_us > 0:
                header.append((int(lv[uf.start_run]), float(uf.cut_us)))
            first = uf.delimiter_first
            delimiter = tuple((int(lv[k]), float(d[k])) for k in range(first, delim + 1)) \
                if delim >= 0 else None
            pre = _preamble_before(d, lv, first) if delim >= 0 else None
            out.append(ObservedFrame(
                capture, tr.t + uf.t0_us * 1e-6, tr.t + uf.t1_us * 1e-6, uf.bits, uf,
                tuple(header), delimiter, pre, tr.modulation, tr.freq_hz))
    return out


# ------------------------------------------------------------------------------------------
def _dominant(frames: list[ObservedFrame]) -> list[ObservedFrame]:
    """Frames of the most common kind (line code, timing within 15 %, similar length)."""
    kinds = Counter((f.frame.timing.line_code, round(np.log(f.frame.timing.short_us) / 0.15))
                    for f in frames)
    (lc, bucket), _ = kinds.most_common(1)[0]
    same = [f for f in frames if f.frame.timing.line_code == lc
            and abs(round(np.log(f.frame.timing.short_us) / 0.15) - bucket) <= 1]
    lengths = Counter(f.bits.size for f in same)
    mode = lengths.most_common(1)[0][0]
    # truncated frames (a recording that starts mid-frame) would shorten every field
    return [f for f in same if abs(f.bits.size - mode) <= max(2, mode // 50)]


def _presses(frames: list[ObservedFrame]) -> list[list[ObservedFrame]]:
    """Consecutive frames with equal bits, close in time, form one press."""
    out: list[list[ObservedFrame]] = []
    for f in sorted(frames, key=lambda f: (f.capture, f.t)):
        last = out[-1][-1] if out else None
        n = min(f.bits.size, last.bits.size) if last is not None else 0
        if (last is not None and last.capture == f.capture and f.t - last.t_end < PRESS_GAP_S
                and np.array_equal(last.bits[:n], f.bits[:n])):
            out[-1].append(f)
        else:
            out.append([f])
    return out


def classify_bits(messages: np.ndarray) -> np.ndarray:
    """Per bit position: True where the bit changes between messages (rolling).

    messages: (n, L) uint8. Fixed stretches shorter than :data:`MIN_FIXED_RUN` between rolling
    bits become rolling.
    """
    rolling = np.any(messages != messages[:1], axis=0)
    if not rolling.any():
        return rolling
    out = rolling.copy()
    idx = np.flatnonzero(rolling)
    for a, b in zip(idx[:-1], idx[1:]):
        if 1 < b - a <= MIN_FIXED_RUN:
            out[a + 1:b] = True
    return out


def _stretches(mask: np.ndarray) -> list[tuple[int, int, bool]]:
    """(start, width, rolling) of runs of equal mask values, split to at most 64 bits."""
    out = []
    start = 0
    for i in range(1, mask.size + 1):
        if i == mask.size or mask[i] != mask[start]:
            s = start
            while s < i:
                w = min(64, i - s)
                out.append((s, w, bool(mask[start])))
                s += w
            start = i
    return out


def _median_run(values: list[float]) -> float:
    return float(np.median(values))


def _fmt(x: float) -> str:
    return f"{x:.0f}" if abs(x - round(x)) < 1e-6 or abs(x) >= 100 else f"{x:.1f}"


def build_toml(name: str, frames: list[ObservedFrame], captures: Sequence[str]
               ) -> tuple[str, dict]:
    """Profile TOML text for the dominant frames, and statistics about them."""
    est_codes = Counter(f.frame.timing.line_code for f in frames)
    lc = est_codes.most_common(1)[0][0]
    fr = [f for f in frames if f.frame.timing.line_code == lc]
    t_short = _median_run([f.frame.timing.short_us for f in fr])
    t_long = _median_run([f.frame.timing.long_us for f in fr])
    line_opts = Counter(tuple(sorted(f.frame.timing.line.items())) for f in fr).most_common(1)[0][0]
    # a little wider than the analyser's 30 %: the profile must also take the repeats whose
    # worst run the analyser only just accepted
    if lc in ("manchester", "diff_manchester", "pcm"):
        tol = 0.38 * t_short
        t_long = 2 * t_short
    else:
        tol = 0.38 * (t_long - t_short)
    nbits = [f.bits.size for f in fr]
    bmin, bmax = min(nbits), max(nbits)

    # presses and fixed/rolling bits
    presses = _presses(fr)
    msgs = np.array([p[0].bits[:bmin] for p in presses], dtype=np.uint8)
    distinct = np.unique(msgs, axis=0)
    rolling = classify_bits(distinct)
    stretches = _stretches(rolling)

    # framing: the most common header shape (delimiter runs, then runs skipped before data)
    def shape(f: ObservedFrame) -> tuple:
        return (tuple(r[0] for r in f.delimiter) if f.delimiter else None,
                tuple(h[0] for h in f.header))

    (delim_levels, hdr_levels), _ = Counter(shape(f) for f in fr).most_common(1)[0]
    shaped = [f for f in fr if shape(f) == (delim_levels, hdr_levels)]
    header_runs: list[tuple[int, float, float]] = []
    pre = None
    gap_us = None
    if delim_levels is not None:
        pres = [f.preamble for f in shaped if f.preamble is not None]
        if len(pres) >= 0.8 * len(shaped):
            pre = (_median_run([p[0] for p in pres]), _median_run([p[1] for p in pres]),
                   min(p[2] for p in pres))
        for j, level in enumerate(delim_levels):
            w = _median_run([f.delimiter[j][1] for f in shaped])
            lo_w = min(f.delimiter[j][1] for f in shaped)
            header_runs.append((level, w, max(0.25 * w, w - lo_w + tol, tol)))
    for j, level in enumerate(hdr_levels):
        w = _median_run([f.header[j][1] for f in shaped])
        header_runs.append((level, w, max(0.25 * w, tol)))
    if header_runs and header_runs[0][0] == 0 and pre is None:
        # a leading gap cannot be told from silence: it becomes the frame gap
        gap_us = 0.7 * (header_runs[0][1] - header_runs[0][2])
        header_runs = header_runs[1:]
    if gap_us is None:
        gap_us = max(3.0 * t_long, 2000.0)
    gap_us = float(np.ceil(max(gap_us, t_long + tol + 1.0)))

    # repeat behaviour
    per_press = [len(p) for p in presses]
    gaps = [b.t - a.t_end for p in presses for a, b in zip(p, p[1:])]
    modulation = Counter(f.modulation for f in fr).most_common(1)[0][0]
    freqs = sorted({round(f.freq_hz / 1e3) * 1e3 for f in fr if f.freq_hz and f.freq_hz > 1e6})
    if not freqs:
        freqs = [433_920_000.0]

    lines = [
        f"# Learned by `keyguard profile learn` from {len(captures)} capture(s):",
        *[f"#   {c}" for c in captures],
        f"# {len(fr)} frames, {len(presses)} presses, {len(distinct)} distinct messages.",
        "# Fields: fixed_* bits never changed between presses (identity); rolling_* bits did "
        "(code).",
        f'name = "{name}"',
        f'description = "Learned profile ({lc}, {bmin}-{bmax} bits)"',
        "frequencies_hz = [" + ", ".join(_fmt(f) for f in freqs) + "]",
        f'modulation = "{modulation}"',
        f'line_code = "{lc}"',
    ]
    idents, codes = [], []
    fi = ri = 0
    field_lines: list[str] = []
    for start, width, is_rolling in stretches:
        if is_rolling:
            fname = f"rolling_{ri}"
            ri += 1
            codes.append(fname)
        else:
            fname = f"fixed_{fi}"
            fi += 1
            idents.append(fname)
        field_lines += ["", "[[fields]]", f'name = "{fname}"', f"offset = {start}",
                        f"width = {width}", 'format = "hex"']
    lines.append("identity = [" + ", ".join(f'"{n}"' for n in idents) + "]")
    lines.append("code = [" + ", ".join(f'"{n}"' for n in codes) + "]")
    lines += ["", "[timing]", f"te_short_us = {_fmt(t_short)}", f"te_long_us = {_fmt(t_long)}",
              f"tolerance_us = {_fmt(tol)}"]
    opts = {k: v for k, v in line_opts if k not in ("tolerance_us",)}
    line_keys = {"pwm": ("one", "complementary", "gap_limit_us"), "ppm": ("zero", "pulse_us"),
                 "manchester": ("zero",), "pcm": ("max_run",), "pulse_length": ("one",)}
    opt_lines = []
    for k in line_keys.get(lc, ()):
        if k in opts and opts[k] is not None:
            v = opts[k]
            opt_lines.append(f"{k} = " + (f'"{v}"' if isinstance(v, str) else
                                          ("true" if v is True else "false" if v is False
                                           else _fmt(float(v)))))
    if opt_lines:
        lines += ["", "[line]", *opt_lines]
    # a few more bits than seen: a frame whose first symbols the analyser took for sync
    # still decodes (its extra leading bits are the same in every repeat)
    slack = 0 if bmin == bmax else 4
    lines += ["", "[frame]", f"bits = [{bmin}, {bmax + slack}]" if bmin != bmax else f"bits = {bmin}",
              f"gap_us = {_fmt(gap_us)}"]
    if pre is not None:
        count = int(pre[2])
        nxt = header_runs[0][0] if header_runs else 1
        if (count % 2 == 1) == (nxt == 1):
            count -= 1
        lines.append(f"preamble = {{ pulse_us = {_fmt(pre[0])}, gap_us = {_fmt(pre[1])}, "
                     f"min_runs = {max(4, min(count, 8))}, count = {count}, "
                     f"tolerance_us = {_fmt(0.3 * max(pre[0], pre[1]))} }}")
    if header_runs:
        lines.append("header = [" + ", ".join(
            f"{{ level = {lvl}, us = {_fmt(w)}, tolerance_us = {_fmt(t)} }}"
            for lvl, w, t in header_runs) + "]")
    lines += field_lines
    lines += ["", "[repeat]", f"frames_per_press = {int(np.median(per_press))}",
              f"inter_frame_gap_us = {_fmt(float(np.median(gaps)) * 1e6 if gaps else 10000.0)}",
              "same_code_within_press = true",
              "changes_between_presses = [" + ", ".join(f'"{n}"' for n in codes) + "]", ""]
    stats = dict(frames=len(fr), messages=len(distinct), presses=len(presses),
                 fixed_bits=int((~rolling).sum()), rolling_bits=int(rolling.sum()))
    return "\n".join(lines), stats


def learn(captures: Mapping[str, Sequence[PulseTrain]], name: str = "learned",
          registry: Registry | None = None) -> LearnResult:
    """Learn a profile from the unmatched frames of these captures (name -> bursts).

    Raises LearnError when there is nothing to learn from.
    """
    reg = registry if registry is not None else load_registry()
    frames: list[ObservedFrame] = []
    for cap, trains in captures.items():
        frames.extend(observe(trains, cap, reg))
    if not frames:
        raise LearnError("no unmatched frames to learn from", ", ".join(captures),
                         "the captures hold only known protocols, or only noise")
    dom = _dominant(frames)
    text, stats = build_toml(name, dom, list(captures))
    profile = profiles_from_toml(text, f"<learned {name}>")[0]
    dec = Decoder([profile], strict_modulation=False, unknown=False)
    decoded = 0
    for trains in captures.values():
        dec.reset()
        for tr in trains:
            decoded += len(dec.decode(tr))
    warnings = []
    if stats["messages"] < 2:
        warnings.append("only one distinct message: every bit looks fixed (a fixed-code "
                        "transmitter, or press the button several times)")
    if decoded < stats["frames"]:
        warnings.append(f"the learned profile decodes {decoded} of the {stats['frames']} "
                        f"frames it was learned from")
    return LearnResult(profile, text, stats["frames"], stats["messages"], stats["fixed_bits"],
                       stats["rolling_bits"], decoded, warnings)


# ------------------------------------------------------------------------------------------
def _unknown_kind(pk) -> tuple:
    f = pk.fields
    te = float(f.get("te_short_us", 0.0))
    return (pk.modulation, f.get("line_code"), int(round(np.log(max(te, 1.0)) / 0.1)))


def _length_groups(pks: list) -> list[list]:
    """Split packets into groups of similar bit count (a frame's last bits can come and go)."""
    order = sorted(pks, key=lambda p: p.bits)
    out: list[list] = [[order[0]]]
    for pk in order[1:]:
        if pk.bits - out[-1][-1].bits > 3:
            out.append([])
        out[-1].append(pk)
    return out


def label_unknown(packets: list) -> None:
    """Give ``unknown`` packets an identity and a code learned from each other (in place).

    Unknown packets of one kind (modulation, line code, timing within ≈ 10 %, bit counts within
    3) are compared on their common bits: consecutive equal frames are one press; over the
    distinct messages, bit positions that never change form the identity and those that change
    form the code, as :func:`classify_bits` decides. The identity is
    ``unknown-<line code>-<te>us-<bits>b:<fixed bits as hex>`` and the code ``<identity>:<rolling
    bits as hex>``. A kind seen with one distinct message gets an identity only (nothing is
    known to roll); one whose bits all change gets a code only. Each packet's ``fields`` gain
    ``fixed_bits`` and ``rolling_bits`` (how many of each).
    """
    from keyguard.dsp.slicers import bits_to_hex, hex_to_bits

    kinds: dict[tuple, list] = {}
    for pk in packets:
        if pk.protocol == "unknown" and pk.bits >= 8:
            kinds.setdefault(_unknown_kind(pk), []).append(pk)
    for kind, all_pks in kinds.items():
        for group in _length_groups(all_pks):
            pks = sorted(group, key=lambda p: p.t)
            n = min(pk.bits for pk in pks)
            bits = np.array([hex_to_bits(pk.data, pk.bits)[:n] for pk in pks], dtype=np.uint8)
            firsts = [0] + [i for i in range(1, len(pks))
                            if not np.array_equal(bits[i], bits[i - 1])]
            distinct = np.unique(bits[firsts], axis=0)
            rolling = classify_bits(distinct) if len(distinct) > 1 \
                else np.zeros(n, dtype=bool)
            _, lc, _ = kind
            te = round(float(pks[0].fields.get("te_short_us", 0.0)))
            family = f"unknown-{lc}-{te}us-{n}b"
            for pk, b in zip(pks, bits):
                ident = f"{family}:{bits_to_hex(b[~rolling])}" if (~rolling).any() else None
                pk.identity = ident
                pk.code = f"{ident or family}:{bits_to_hex(b[rolling])}" if rolling.any() \
                    else None
                pk.fields["fixed_bits"] = int((~rolling).sum())
                pk.fields["rolling_bits"] = int(rolling.sum())
