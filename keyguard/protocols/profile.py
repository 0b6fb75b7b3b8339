"""Firmware profiles: one key-fob protocol family described as data (TOML), validated on load.

A profile says how a family looks on air (modulation, line code, timing, preamble/header/
trailer, bit count), how its bits become fields (a field layout, or a named codec from
:mod:`keyguard.protocols.codecs`), which fields make the transmitter's ``identity`` and its
rolling ``code``, how the frame is checked (CRC, parity, ...), and how the family repeats on
air (frames per press, gap between frames, what changes between presses).

The schema is documented with examples in ``docs/profiles.md``. Every key is checked: an
unknown key, a wrong type or an impossible value raises :class:`keyguard.errors.ProfileError`
naming the file and the key. Nothing is silently skipped.

Files: one family per file. A file is either one profile (top-level keys) or a family of
variants: the top-level keys are shared and each ``[[variants]]`` table (with its own ``name``)
overrides some of them; only the variants are profiles then.
"""

from __future__ import annotations

import copy
import math
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from keyguard.dsp.slicers import LINE_CODES
from keyguard.errors import ProfileError

MODULATIONS = ("OOK", "FSK")
FIELD_FORMATS = ("int", "hex", "tristate", "bits")
CHECK_KINDS = ("none", "crc", "parity", "hcs36x", "sum", "xor")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")

# line-code options and their allowed values (None = any number)
_LINE_OPTIONS: dict[str, dict[str, tuple | None]] = {
    "pwm": {"one": ("short", "long"), "complementary": (True, False), "gap_limit_us": None},
    "ppm": {"zero": ("short", "long"), "pulse_us": None},
    "manchester": {"zero": ("rising", "falling")},
    "diff_manchester": {"zero": ("transition", "steady")},
    "pcm": {"max_run": None},
    "pulse_length": {"one": ("long", "short")},
    "slot_ppm": {"slot_us": None, "shift_us": None, "first_bit": (0, 1), "pulse_us": None},
    "ternary_pwm": {},
}
_LINE_DEFAULTS: dict[str, dict[str, Any]] = {
    "pwm": {"one": "short", "complementary": True, "gap_limit_us": None},
    "ppm": {"zero": "short", "pulse_us": None},
    "manchester": {"zero": "rising"},
    "diff_manchester": {"zero": "transition"},
    "pcm": {"max_run": 16},
    "pulse_length": {"one": "long"},
    "slot_ppm": {"first_bit": 1, "pulse_us": None},
}
_LINE_REQUIRED = {"slot_ppm": ("slot_us", "shift_us")}


# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Timing:
    """Symbol timing (µs). For Manchester/PCM ``te_short_us`` is the chip (half-bit) width."""

    te_short_us: float
    te_long_us: float
    tolerance_us: float
    te_scale: tuple[float, float] = (0.8, 1.25)


@dataclass(frozen=True)
class Run:
    """One expected run of a header or trailer: level 0/1 and a width window (µs)."""

    level: int
    us: float | None
    min_us: float
    max_us: float

    def matches(self, level: int, d: float, scale: float = 1.0) -> bool:
        return level == self.level and self.min_us * scale <= d <= self.max_us * scale

    @property
    def nominal_us(self) -> float:
        """The width an encoder sends: ``us``, else the window's middle (or its minimum)."""
        if self.us is not None:
            return self.us
        if math.isfinite(self.max_us):
            return (self.min_us + self.max_us) / 2.0
        return self.min_us


@dataclass(frozen=True)
class Preamble:
    """A run of alternating pulses/gaps before the header or data (µs)."""

    pulse_us: float
    gap_us: float
    min_runs: int
    count: int
    tolerance_us: float


@dataclass(frozen=True)
class Frame:
    """Framing: bit count range, preamble, header, trailer, the gap that separates frames."""

    bits_min: int
    bits_max: int
    gap_us: float
    preamble: Preamble | None = None
    header: tuple[Run, ...] = ()
    trailer: tuple[Run, ...] = ()
    deglitch_us: float = 0.0
    lead_chip: int | None = None
    parts: int = 1


@dataclass(frozen=True)
class FieldSpec:
    """A field: ``width`` bits from on-air bit ``offset``.

    order ``msb``: the first on-air bit is the most significant; ``lsb``: the least.
    byte_order ``little``: the field's bytes (8-bit groups in on-air order) are reversed.
    invert: the bits are sent inverted. format: how the value shows in packets. const: the
    value every valid frame carries (a frame that differs is not this protocol).
    """

    name: str
    offset: int
    width: int
    order: str = "msb"
    byte_order: str = "big"
    invert: bool = False
    format: str = "int"
    const: int | None = None

    def _perm(self) -> np.ndarray:
        """Index of the on-air bit (relative to offset) for each value bit, MSB first."""
        idx = np.arange(self.width)
        if self.byte_order == "little":
            idx = idx.reshape(-1, 8)[::-1].ravel()
        if self.order == "lsb":
            idx = idx[::-1]
        return idx

    def read(self, bits: np.ndarray) -> int:
        """The field's value from a frame's bits (on-air order)."""
        b = np.asarray(bits[self.offset:self.offset + self.width], dtype=np.uint8)
        if b.size != self.width:
            raise ValueError(f"field {self.name}: frame too short")
        b = b[self._perm()]
        if self.invert:
            b = 1 - b
        v = 0
        for x in b.tolist():
            v = (v << 1) | x
        return v

    def write(self, bits: np.ndarray, value: int) -> None:
        """Store ``value`` into a frame's bits (in place)."""
        value = int(value)
        if value < 0 or value >> self.width:
            raise ValueError(f"field {self.name}=0x{value:X} does not fit in {self.width} bits")
        vb = np.array([(value >> (self.width - 1 - i)) & 1 for i in range(self.width)],
                      dtype=np.uint8)
        if self.invert:
            vb = 1 - vb
        out = np.empty(self.width, dtype=np.uint8)
        out[self._perm()] = vb
        bits[self.offset:self.offset + self.width] = out

    def show(self, value: int) -> Any:
        """The value as it appears in a packet's ``fields``."""
        if self.format == "hex":
            return f"{value:0{(self.width + 3) // 4}X}"
        if self.format == "bits":
            return f"{value:0{self.width}b}"
        if self.format == "tristate":
            return tristate(value, self.width)
        return int(value)


def tristate(value: int, width: int) -> str | None:
    """PT2262 tri-state digits of a 2·n-bit value: 00 -> 0, 11 -> 1, 01 -> F; None if a 10."""
    out = []
    for i in range(width // 2):
        pair = (value >> (width - 2 - 2 * i)) & 3
        if pair == 2:
            return None
        out.append("0" if pair == 0 else "1" if pair == 3 else "F")
    return "".join(out)


@dataclass(frozen=True)
class Check:
    """Integrity check: kind, the on-air bit range it covers, the field holding it."""

    kind: str = "none"
    over: tuple[int, int] = (0, 0)
    field: str | None = None
    width: int = 0
    poly: int = 0
    init: int = 0
    refout: bool = False
    xorout: int = 0
    parity: str = "even"


def expected_check(check: Check, bits: np.ndarray) -> int:
    """The check value a frame's bits call for (compare with the transmitted field)."""
    from keyguard.protocols import crc as crcmod

    seg = np.asarray(bits[check.over[0]:check.over[1]], dtype=np.uint8)
    if check.kind == "crc":
        return crcmod.Crc(check.width, check.poly, check.init, refout=check.refout,
                          xorout=check.xorout).compute_bits(seg)
    if check.kind == "parity":
        return crcmod.parity(seg) ^ (1 if check.parity == "odd" else 0)
    if check.kind == "hcs36x":
        return crcmod.hcs36x_crc(seg)
    if check.kind == "sum":
        return crcmod.sum_checksum(np.packbits(seg).tobytes(), check.width)
    if check.kind == "xor":
        return crcmod.xor_checksum(np.packbits(seg).tobytes()) & ((1 << check.width) - 1)
    raise ValueError(f"check kind {check.kind!r} has no value")


@dataclass(frozen=True)
class Repeat:
    """On-air repeat behaviour of one button press (used by the encoder and the detectors).

    frames_per_press: frames a short press sends. max_frames_per_press: how many a held button
    can send (0 = while held, no limit). inter_frame_gap_us: silence from the end of one frame to
    the start of the next. same_code_within_press: the repeats carry the same code.
    changes_between_presses: the fields that differ from one press to the next.
    """

    frames_per_press: int = 3
    max_frames_per_press: int = 0
    inter_frame_gap_us: float = 10_000.0
    same_code_within_press: bool = True
    changes_between_presses: tuple[str, ...] = ()


@dataclass(frozen=True)
class PassiveEntry:
    """How a passive-entry answer (a frame the fob sends because the car's LF challenge woke it,
    not a button) is told from a button press: ``field`` of the decoded frame holds one of
    ``values``. Relays forward passive-entry answers; a button press is never relayed."""

    field: str
    values: tuple[int, ...]

    def matches(self, fields: dict) -> bool:
        v = fields.get(self.field)
        return isinstance(v, int) and not isinstance(v, bool) and v in self.values


@dataclass(frozen=True)
class Profile:
    """A validated firmware profile (see docs/profiles.md)."""

    name: str
    family: str
    description: str
    frequencies_hz: tuple[float, ...]
    modulation: str
    line_code: str
    timing: Timing
    frame: Frame
    line: dict = field(default_factory=dict)
    fields: tuple[FieldSpec, ...] = ()
    identity: tuple[str, ...] = ()
    code: tuple[str, ...] = ()
    check: Check = Check()
    codec: str | None = None
    repeat: Repeat = Repeat()
    passive_entry: PassiveEntry | None = None
    invert: bool = False
    priority: int = 0
    notes: str = ""
    source: str = "<memory>"

    @property
    def is_rolling(self) -> bool:
        """True when the family has a rolling code (``code`` fields)."""
        return bool(self.code)

    def passive_entry_answer(self, fields: dict) -> bool | None:
        """Whether decoded ``fields`` are a passive-entry answer; None when the profile does not
        say how to tell (no ``[passive_entry]``)."""
        return None if self.passive_entry is None else self.passive_entry.matches(fields)

    def field_spec(self, name: str) -> FieldSpec | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def data_widths_us(self) -> tuple[float, ...]:
        """Nominal run widths of the data symbols (for cheap candidate filtering)."""
        t = self.timing
        if self.line_code == "slot_ppm":
            return (float(self.line.get("pulse_us") or t.te_short_us),)
        return (t.te_short_us, t.te_long_us)


# ------------------------------------------------------------------------------------------
class _Reader:
    """Typed access to a TOML table with errors that name the file and the dotted key."""

    def __init__(self, table: dict, path: str, prefix: str = ""):
        self.t = table
        self.path = path
        self.prefix = prefix
        self.used: set[str] = set()

    def key(self, k: str) -> str:
        return f"{self.prefix}{k}"

    def fail(self, k: str, msg: str, hint: str | None = None) -> ProfileError:
        return ProfileError(f"key '{self.key(k)}': {msg}", self.path,
                            hint or "see docs/profiles.md for the profile schema")

    def has(self, k: str) -> bool:
        return k in self.t

    def raw(self, k: str, default: Any = ..., required: bool = False) -> Any:
        self.used.add(k)
        if k not in self.t:
            if required or default is ...:
                raise self.fail(k, "is required")
            return default
        return self.t[k]

    def string(self, k: str, default: Any = ..., choices: Iterable[str] | None = None) -> Any:
        v = self.raw(k, default)
        if v is default and default is not ...:
            return v
        if not isinstance(v, str):
            raise self.fail(k, f"must be a string, got {v!r}")
        if choices is not None and v not in choices:
            raise self.fail(k, f"must be one of {', '.join(map(str, choices))}, got {v!r}")
        return v

    def number(self, k: str, default: Any = ..., lo: float | None = None,
               hi: float | None = None, positive: bool = False) -> Any:
        v = self.raw(k, default)
        if v is default and default is not ...:
            return v
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise self.fail(k, f"must be a number, got {v!r}")
        if positive and v <= 0:
            raise self.fail(k, f"must be positive, got {v!r}")
        self._range(k, v, lo, hi)
        return float(v)

    def _range(self, k: str, v: float, lo: float | None, hi: float | None) -> None:
        if lo is not None and v < lo:
            raise self.fail(k, f"must be at least {lo}, got {v!r}")
        if hi is not None and v > hi:
            raise self.fail(k, f"must be at most {hi}, got {v!r}")

    def integer(self, k: str, default: Any = ..., lo: int | None = None,
                hi: int | None = None) -> Any:
        v = self.raw(k, default)
        if v is default and default is not ...:
            return v
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(k, f"must be an integer, got {v!r}")
        self._range(k, v, lo, hi)
        return int(v)

    def boolean(self, k: str, default: Any = ...) -> Any:
        v = self.raw(k, default)
        if v is default and default is not ...:
            return v
        if not isinstance(v, bool):
            raise self.fail(k, f"must be true or false, got {v!r}")
        return v

    def table(self, k: str, default: Any = ...) -> Any:
        v = self.raw(k, default)
        if v is default and default is not ...:
            return v
        if not isinstance(v, dict):
            raise self.fail(k, f"must be a table, got {v!r}")
        return _Reader(v, self.path, f"{self.key(k)}.")

    def str_list(self, k: str, default: Any = ...) -> Any:
        v = self.raw(k, default)
        if v is default and default is not ...:
            return v
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise self.fail(k, f"must be a list of strings, got {v!r}")
        return tuple(v)

    def finish(self) -> None:
        """Reject keys nobody read (typos, keys from another schema)."""
        extra = sorted(set(self.t) - self.used)
        if extra:
            raise self.fail(extra[0], "is not a profile key",
                            "check the spelling against docs/profiles.md")


def _bits_range(r: _Reader) -> tuple[int, int]:
    v = r.raw("bits", required=True)
    if isinstance(v, int) and not isinstance(v, bool):
        lo = hi = v
    elif (isinstance(v, list) and len(v) == 2
          and all(isinstance(x, int) and not isinstance(x, bool) for x in v)):
        lo, hi = v
    else:
        raise r.fail("bits", f"must be an integer or [min, max], got {v!r}")
    if not 1 <= lo <= hi <= 4096:
        raise r.fail("bits", f"needs 1 <= min <= max <= 4096, got {v!r}")
    return int(lo), int(hi)


def _run(r: _Reader, default_tol: float) -> Run:
    level = r.integer("level", lo=0, hi=1)
    us = r.number("us", None, positive=True)
    tol = r.number("tolerance_us", default_tol, lo=0)
    min_us = r.number("min_us", None, lo=0)
    max_us = r.number("max_us", None, positive=True)
    if us is None and min_us is None:
        raise r.fail("us", "is required (or give min_us/max_us)")
    lo = min_us if min_us is not None else us - tol
    if max_us is not None:
        hi = max_us
    elif min_us is not None:
        hi = math.inf  # "at least min_us" (a gap that ends the frame)
    else:
        hi = us + tol
    if lo > hi:
        raise r.fail("max_us", f"window is empty ({lo} > {hi})")
    if us is not None and not lo <= us <= hi:
        raise r.fail("us", f"{us} lies outside its own window [{lo}, {hi}]")
    r.finish()
    return Run(level, us, max(0.0, lo), hi)


def _runs(r: _Reader, k: str, default_tol: float) -> tuple[Run, ...]:
    v = r.raw(k, [])
    if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
        raise r.fail(k, "must be a list of tables like { level = 0, us = 4000 }")
    runs = []
    for i, t in enumerate(v):
        runs.append(_run(_Reader(t, r.path, f"{r.key(k)}[{i}]."), default_tol))
    for a, b in zip(runs, runs[1:]):
        if a.level == b.level:
            raise r.fail(k, "adjacent runs must alternate levels")
    return tuple(runs)


def _field(r: _Reader) -> FieldSpec:
    name = r.string("name")
    if not _NAME_RE.match(name):
        raise r.fail("name", f"must be lower_case letters, digits and _, got {name!r}")
    f = FieldSpec(
        name=name,
        offset=r.integer("offset", lo=0),
        width=r.integer("width", lo=1, hi=64),
        order=r.string("order", "msb", ("msb", "lsb")),
        byte_order=r.string("byte_order", "big", ("big", "little")),
        invert=r.boolean("invert", False),
        format=r.string("format", "int", FIELD_FORMATS),
        const=r.integer("const", None, lo=0),
    )
    if f.byte_order == "little" and f.width % 8:
        raise r.fail("byte_order", "needs a width that is a multiple of 8")
    if f.format == "tristate" and f.width % 2:
        raise r.fail("format", "tristate needs an even width (two bits per digit)")
    if f.const is not None and f.const >> f.width:
        raise r.fail("const", f"0x{f.const:X} does not fit in {f.width} bits")
    r.finish()
    return f


def _check(r: _Reader | None, fields: dict[str, FieldSpec], bits_min: int) -> Check:
    if r is None:
        return Check()
    kind = r.string("kind", choices=CHECK_KINDS)
    if kind == "none":
        r.finish()
        return Check()
    over_v = r.raw("over", required=True)
    if (not isinstance(over_v, list) or len(over_v) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in over_v)
            or not 0 <= over_v[0] < over_v[1] <= bits_min):
        raise r.fail("over", f"must be [start, end) bit positions within {bits_min} bits, "
                             f"got {over_v!r}")
    fname = r.string("field")
    if fname not in fields:
        raise r.fail("field", f"names no field in [[fields]]: {fname!r}")
    c = dict(kind=kind, over=(int(over_v[0]), int(over_v[1])), field=fname)
    if kind == "crc":
        width = r.integer("width", lo=1, hi=64)
        c.update(width=width, poly=r.integer("poly", lo=1, hi=(1 << width) - 1),
                 init=r.integer("init", 0, lo=0, hi=(1 << width) - 1),
                 refout=r.boolean("refout", False),
                 xorout=r.integer("xorout", 0, lo=0, hi=(1 << width) - 1))
    elif kind == "parity":
        c.update(width=1, parity=r.string("parity", "even", ("even", "odd")))
    elif kind in ("sum", "xor"):
        c.update(width=r.integer("width", 8, lo=1, hi=32))
        if (c["over"][1] - c["over"][0]) % 8:
            raise r.fail("over", f"a {kind} checksum runs over whole bytes")
    elif kind == "hcs36x":
        c.update(width=2)
    if fields[fname].width != c["width"]:
        raise r.fail("field", f"field {fname!r} is {fields[fname].width} bits, the check "
                              f"is {c['width']}")
    r.finish()
    return Check(**c)


def _codec_known(name: str) -> bool:
    try:
        from keyguard.protocols.codecs import get_codec
    except ImportError:  # codecs package absent: the profile cannot use one
        return False
    try:
        get_codec(name)
    except KeyError:
        return False
    return True


def codec_names() -> list[str]:
    """Names of the codecs a profile may use (``codec = "..."``)."""
    try:
        from keyguard.protocols.codecs import available_codecs
    except ImportError:
        return []
    return list(available_codecs())


def profile_from_dict(data: dict, source: str = "<memory>") -> Profile:
    """Validate one profile's table (already parsed TOML) and build the Profile."""
    r = _Reader(data, source)
    name = r.string("name")
    if not _NAME_RE.match(name):
        raise r.fail("name", f"must be lower_case letters, digits and _, got {name!r}")
    family = r.string("family", name)
    if not _NAME_RE.match(family):
        raise r.fail("family", f"must be lower_case letters, digits and _, got {family!r}")
    description = r.string("description")
    freqs = r.raw("frequencies_hz", required=True)
    if (not isinstance(freqs, list) or not freqs
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and 1e5 < x < 1e10
                       for x in freqs)):
        raise r.fail("frequencies_hz", f"must be a non-empty list of frequencies in Hz, "
                                       f"got {freqs!r}")
    modulation = r.string("modulation", choices=MODULATIONS)
    line_code = r.string("line_code", choices=LINE_CODES)

    # timing
    tr = r.table("timing")
    short = tr.number("te_short_us", positive=True)
    long_default = 2 * short if line_code in ("manchester", "diff_manchester", "pcm",
                                              "slot_ppm") else ...
    long_ = tr.number("te_long_us", long_default, positive=True)
    tol = tr.number("tolerance_us", positive=True)
    scale_v = tr.raw("te_scale", [0.8, 1.25])
    if (not isinstance(scale_v, list) or len(scale_v) != 2
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in scale_v)
            or not 0.2 <= scale_v[0] <= 1.0 <= scale_v[1] <= 5.0):
        raise tr.fail("te_scale", f"must be [low, high] around 1.0, got {scale_v!r}")
    if line_code in ("pwm", "ppm", "pulse_length", "ternary_pwm") and long_ <= short:
        raise tr.fail("te_long_us", f"must be longer than te_short_us ({short}), got {long_}")
    if line_code == "ternary_pwm" and tol >= (long_ - short) / 2:
        raise tr.fail("tolerance_us", f"must be below (te_long_us - te_short_us) / 2 "
                                      f"({(long_ - short) / 2}) or the three widths overlap")
    if line_code in ("pwm", "ppm", "pulse_length") and tol >= (long_ - short):
        raise tr.fail("tolerance_us", f"must be below te_long_us - te_short_us "
                                      f"({long_ - short}) or short and long overlap")
    if line_code in ("manchester", "diff_manchester", "pcm") and tol >= short / 2:
        raise tr.fail("tolerance_us", f"must be below half a chip ({short / 2})")
    tr.finish()
    timing = Timing(short, long_, tol, (float(scale_v[0]), float(scale_v[1])))

    # line-code options
    line = dict(_LINE_DEFAULTS.get(line_code, {}))
    lr = r.table("line", None)
    if lr is not None:
        allowed = _LINE_OPTIONS[line_code]
        for k in lr.t:
            if k not in allowed:
                raise lr.fail(k, f"is not an option of line_code {line_code!r}",
                              f"options: {', '.join(allowed) or 'none'}")
            choices = allowed[k]
            if choices is None:
                line[k] = lr.number(k, positive=True)
            elif isinstance(choices[0], bool):
                line[k] = lr.boolean(k)
            elif isinstance(choices[0], int):
                line[k] = lr.integer(k, lo=0, hi=1)
            else:
                line[k] = lr.string(k, choices=choices)
        lr.finish()
    for k in _LINE_REQUIRED.get(line_code, ()):
        if k not in line:
            raise r.fail(f"line.{k}", f"is required for line_code {line_code!r}")

    # frame
    fr = r.table("frame")
    bmin, bmax = _bits_range(fr)
    gap = fr.number("gap_us", max(8 * long_, 2000.0), positive=True)
    pre = None
    pr = fr.table("preamble", None)
    if pr is not None:
        pulse_us = pr.number("pulse_us", positive=True)
        min_runs = pr.integer("min_runs", lo=2)
        pre = Preamble(pulse_us=pulse_us, gap_us=pr.number("gap_us", pulse_us, positive=True),
                       min_runs=min_runs, count=pr.integer("count", max(min_runs, 2), lo=min_runs),
                       tolerance_us=pr.number("tolerance_us", tol, lo=0))
        pr.finish()
    header = _runs(fr, "header", tol)
    if header and header[0].level == 0 and pr is None:
        raise fr.fail("header", "a header that starts with a gap needs a preamble before it "
                                "(silence cannot be told from a gap); start it with a pulse or "
                                "use gap_us")
    trailer = _runs(fr, "trailer", tol)
    deglitch = fr.number("deglitch_us", 0.0, lo=0)
    lead_chip = fr.integer("lead_chip", None, lo=0, hi=1)
    parts = fr.integer("parts", 1, lo=1, hi=8)
    if lead_chip is not None and line_code not in ("manchester", "diff_manchester", "pcm"):
        raise fr.fail("lead_chip", "only applies to chip line codes (manchester, "
                                   "diff_manchester, pcm)")
    fr.finish()
    if gap <= long_ + tol:
        raise fr.fail("gap_us", f"must be longer than a data symbol ({long_ + tol} µs)")
    if pre is not None:
        # the preamble alternates from a pulse; its last run must differ from what follows
        nxt = header[0].level if header else (None if line_code in (
            "manchester", "diff_manchester", "pcm") else 1)
        last = 1 if pre.count % 2 == 1 else 0
        if nxt is not None and last == nxt:
            raise fr.fail("preamble", f"count = {pre.count} ends on level {last}, the same "
                                      f"level as the run after it; use an "
                                      f"{'even' if last else 'odd'} count")
    frame = Frame(bmin, bmax, gap, pre, header, trailer, deglitch, lead_chip, parts)
    if parts > 1 and bmin != bmax:
        raise fr.fail("parts", "a message split over several frames needs a fixed bit count")

    # fields
    fields_v = r.raw("fields", [])
    if not isinstance(fields_v, list) or not all(isinstance(x, dict) for x in fields_v):
        raise r.fail("fields", "must be an array of tables ([[fields]])")
    specs: list[FieldSpec] = []
    for i, t in enumerate(fields_v):
        f = _field(_Reader(t, source, f"fields[{i}]."))
        if f.offset + f.width > bmax * frame.parts:
            raise ProfileError(f"key 'fields[{i}].width': field {f.name!r} ends at bit "
                               f"{f.offset + f.width}, beyond the longest frame ({bmax} bits)",
                               source)
        if any(s.name == f.name for s in specs):
            raise ProfileError(f"key 'fields[{i}].name': duplicate field {f.name!r}", source)
        specs.append(f)
    by_name = {f.name: f for f in specs}

    codec = r.string("codec", None)
    if codec is not None and not _codec_known(codec):
        raise r.fail("codec", f"no codec named {codec!r}",
                     f"known codecs: {', '.join(codec_names()) or 'none'}")
    if codec is None and not specs:
        raise r.fail("fields", "a profile without a codec needs a field layout ([[fields]])")

    identity = r.str_list("identity", ())
    code = r.str_list("code", ())
    if codec is None:
        for k, names in (("identity", identity), ("code", code)):
            for n in names:
                if n not in by_name:
                    raise r.fail(k, f"names no field in [[fields]]: {n!r}")
                if by_name[n].offset + by_name[n].width > bmin * frame.parts:
                    raise r.fail(k, f"field {n!r} is missing from the shortest frame "
                                    f"({bmin} bits); {k} fields must be in every frame")
    ch = r.table("check", None)
    check = _check(ch, by_name, bmin * frame.parts)

    rr = r.table("repeat", None)
    repeat = Repeat()
    if rr is not None:
        repeat = Repeat(
            frames_per_press=rr.integer("frames_per_press", 3, lo=1, hi=1000),
            max_frames_per_press=rr.integer("max_frames_per_press", 0, lo=0),
            inter_frame_gap_us=rr.number("inter_frame_gap_us", 10_000.0, lo=0),
            same_code_within_press=rr.boolean("same_code_within_press", True),
            changes_between_presses=rr.str_list("changes_between_presses", ()),
        )
        if repeat.max_frames_per_press and repeat.max_frames_per_press < repeat.frames_per_press:
            raise rr.fail("max_frames_per_press", "must be 0 (no limit) or at least "
                                                  "frames_per_press")
        rr.finish()

    pe = r.table("passive_entry", None)
    passive_entry = None
    if pe is not None:
        pe_field = pe.string("field")
        if codec is None and pe_field not in by_name:
            raise pe.fail("field", f"names no field in [[fields]]: {pe_field!r}")
        vals = pe.raw("values")
        if not isinstance(vals, list) or not vals or not all(
                isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in vals):
            raise pe.fail("values", f"must be a non-empty list of integers >= 0, got {vals!r}")
        pe.finish()
        passive_entry = PassiveEntry(pe_field, tuple(int(x) for x in vals))

    prof = Profile(
        name=name, family=family, description=description,
        frequencies_hz=tuple(float(x) for x in freqs), modulation=modulation,
        line_code=line_code, timing=timing, frame=frame, line=line, fields=tuple(specs),
        identity=identity, code=code, check=check, codec=codec, repeat=repeat,
        passive_entry=passive_entry, invert=r.boolean("invert", False), priority=r.integer("priority", 0, lo=-100, hi=100),
        notes=r.string("notes", ""), source=source)
    r.used.add("variants")
    r.finish()
    return prof


def _merge(base: dict, over: dict) -> dict:
    """Deep-merge a variant's table over the shared keys (tables merge, other values replace)."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def profiles_from_toml(text: str, source: str = "<string>") -> list[Profile]:
    """Profiles defined by one TOML document (one profile, or a family's variants)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(f"not valid TOML: {e}", source) from None
    variants = data.pop("variants", None)
    if variants is None:
        return [profile_from_dict(data, source)]
    if not isinstance(variants, list) or not variants or not all(isinstance(v, dict)
                                                                 for v in variants):
        raise ProfileError("key 'variants': must be a non-empty array of tables "
                           "([[variants]])", source)
    out = []
    for i, v in enumerate(variants):
        if "name" not in v:
            raise ProfileError(f"key 'variants[{i}].name': is required", source)
        try:
            out.append(profile_from_dict(_merge(data, v), source))
        except ProfileError as e:
            raise ProfileError(f"variant {v['name']!r}: {_strip_path(str(e), source)}",
                               source) from None
    names = [p.name for p in out]
    if len(set(names)) != len(names):
        raise ProfileError("key 'variants': two variants share a name", source)
    return out


def _strip_path(msg: str, source: str) -> str:
    prefix = f"{source}: "
    return msg[len(prefix):] if msg.startswith(prefix) else msg


def load_profile_file(path: str | Path) -> list[Profile]:
    """Load the profile(s) of one ``.toml`` file; ProfileError names the file and the key."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError("no such profile file", p) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ProfileError(f"cannot read profile: {e}", p) from None
    return profiles_from_toml(text, str(p))


def load_profile_dir(directory: str | Path) -> list[Profile]:
    """All profiles of the ``*.toml`` files in a directory (sorted by file name)."""
    d = Path(directory)
    if not d.is_dir():
        raise ProfileError("not a directory of profiles", d,
                           "give --profiles a folder holding .toml profile files")
    out: list[Profile] = []
    for f in sorted(d.glob("*.toml")):
        out.extend(load_profile_file(f))
    return out


def builtin_profiles() -> list[Profile]:
    """The profiles shipped in the ``keyguard.firmware_profiles`` package."""
    root = resources.files("keyguard.firmware_profiles")
    out: list[Profile] = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            out.extend(profiles_from_toml(entry.read_text(encoding="utf-8"),
                                          f"keyguard.firmware_profiles/{entry.name}"))
    return out
