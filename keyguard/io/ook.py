"""rtl_433 pulse files (``.ook``): the pulse data rtl_433 writes with ``-w file.ook``.

Layout (text)::

    ;pulse data
    ;version 1
    ;timescale 1us
    ;created 2021-12-05 00:18:55Z
    ;ook 24 pulses            <- one block per package; ";fsk N pulses" for FSK
    ;freq1 -4231              <- carrier offset from the centre (Hz); FSK blocks add ";freq2"
    ;centerfreq 0 Hz          <- 0 when rtl_433 did not know it
    ;samplerate 250000 Hz
    ;sampledepth 8 bits
    ;range 42.1 dB
    ;rssi -0.2 dB
    ;snr 42.0 dB
    ;noise -42.1 dB
    1064 1996                 <- pulse (carrier on / F1) and gap (off / F2), in timescale units
    ...
    ;end

The file does not say when each package was received, so successive packages are placed one
after another on the capture's time line (each keeps its trailing gap, at least
:data:`MIN_PACKAGE_GAP_US`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from keyguard.errors import CaptureFormatError
from keyguard.io.files import check_capture_file
from keyguard.pulse_train import PulseTrain

#: Shortest silence put between two packages (µs): rtl_433 only ends a package after a gap of
#: about this length, so two packages were at least this far apart on air.
MIN_PACKAGE_GAP_US = 10_000.0

_UNITS_US = {"ns": 1e-3, "us": 1.0, "µs": 1.0, "ms": 1e3, "s": 1e6}
_BLOCK_RE = re.compile(r"^(ook|fsk)\s+(\d+)\s+pulses?$", re.IGNORECASE)
_NUM_RE = re.compile(r"^([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)(?:\s+(\S+))?$")


@dataclass
class OokFile:
    """One parsed ``.ook`` file.

    bursts: one pulse train per package, ``t`` placed as described in the module docstring,
    ``freq_hz`` = the carrier offset from the centre (Hz), ``rssi_db``/``snr_db``/``noise_db``
    as rtl_433 measured them, and the block's other header values in ``meta``.
    sample_rate: rtl_433's sample rate when it wrote the file (Hz), None if not stated.
    center_freq: Hz, None when the file says 0 or nothing.
    created: the ``;created`` time (UTC) or None. warnings: one-line notes.
    """

    path: str
    version: int | None
    timescale_us: float
    created: datetime | None
    bursts: list[PulseTrain] = field(default_factory=list)
    sample_rate: float | None = None
    center_freq: float | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        """End of the last package on the placed time line (s)."""
        return max((b.t_end for b in self.bursts), default=0.0)


def read_ook(path: str | Path) -> OokFile:
    """Read an rtl_433 ``.ook`` pulse file; CaptureFormatError (with line number) on bad input."""
    p = check_capture_file(path)
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise CaptureFormatError(f"not a text file (byte {e.start} is not UTF-8)", p,
                                 "an rtl_433 .ook pulse file is text") from None
    return parse_ook(text, path=str(path))


def parse_ook(text: str, *, path: str = "<text>") -> OokFile:
    """Parse the text of an ``.ook`` file (see :func:`read_ook`)."""
    lines = text.splitlines()
    out = OokFile(path=path, version=None, timescale_us=1.0, created=None)
    first = next((i for i, s in enumerate(lines) if s.strip()), None)
    if first is None or lines[first].strip().lower() != ";pulse data":
        raise CaptureFormatError("not an rtl_433 pulse file: the first line must be ';pulse data'",
                                 path, "write one with rtl_433 -w FILE.ook")
    block: dict | None = None
    t_us = 0.0
    for lineno, line in enumerate(lines[first + 1:], start=first + 2):
        s = line.strip()
        if not s:
            continue
        if s.startswith(";"):
            word, _, rest = s[1:].strip().partition(" ")
            word, rest = word.lower(), rest.strip()
            m = _BLOCK_RE.match(s[1:].strip())
            if m:
                if block is not None:
                    out.warnings.append(f"line {lineno}: a package starts before the previous ';end'")
                    t_us = _finish_block(block, out, t_us)
                block = {"modulation": m.group(1).upper(), "count": int(m.group(2)),
                         "line": lineno, "pulses": [], "gaps": [], "meta": {}}
            elif word == "end":
                if block is None:
                    raise CaptureFormatError(f"line {lineno}: ';end' without a package", path)
                t_us = _finish_block(block, out, t_us)
                block = None
            elif block is None:
                _file_header(word, rest, lineno, out, path)
            else:
                block["meta"][word] = _value(rest)
            continue
        if block is None:
            raise CaptureFormatError(
                f"line {lineno}: pulse data outside a package: {s[:40]!r}", path,
                "data lines belong between ';ook N pulses' and ';end'")
        parts = s.split()
        try:
            pulse, gap = (float(x) for x in parts) if len(parts) == 2 else (None, None)
        except ValueError:
            pulse = None
        if pulse is None or not (np.isfinite(pulse) and np.isfinite(gap)) or pulse < 0 or gap < 0:
            raise CaptureFormatError(
                f"line {lineno}: expected two durations 'pulse gap', found {s[:40]!r}", path)
        block["pulses"].append(pulse * out.timescale_us)
        block["gaps"].append(gap * out.timescale_us)
    if block is not None:
        out.warnings.append(f"the last package (line {block['line']}) has no ';end': file cut off?")
        _finish_block(block, out, t_us)
    if not out.bursts:
        raise CaptureFormatError("no pulse packages (';ook N pulses' ... ';end') in the file", path,
                                 "the file holds no data")
    first_meta = out.bursts[0].meta
    rate = first_meta.get("samplerate")
    if isinstance(rate, float) and rate > 0:
        out.sample_rate = rate
    centre = first_meta.get("centerfreq")
    if isinstance(centre, float) and centre > 0:
        out.center_freq = centre
    return out


def _file_header(word: str, rest: str, lineno: int, out: OokFile, path: str) -> None:
    if word == "version":
        try:
            out.version = int(rest)
        except ValueError:
            raise CaptureFormatError(f"line {lineno}: version {rest!r} is not an integer", path) from None
    elif word == "timescale":
        m = re.match(r"^(\d+(?:\.\d*)?)\s*(ns|us|µs|ms|s)$", rest.strip())
        if not m or float(m.group(1)) <= 0:
            raise CaptureFormatError(f"line {lineno}: timescale {rest!r} is not like '1us'", path)
        out.timescale_us = float(m.group(1)) * _UNITS_US[m.group(2)]
    elif word == "created":
        out.created = _parse_created(rest)
    # other header lines (comments) carry nothing we use


def _parse_created(text: str) -> datetime | None:
    """rtl_433 writes ``2021-12-05 00:18:55Z`` (UTC); anything else is left unknown."""
    s = text.strip()
    for fmt in ("%Y-%m-%d %H:%M:%SZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(s, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    return None


def _value(rest: str):
    """``-4231`` → -4231.0, ``250000 Hz`` → 250000.0, else the text."""
    m = _NUM_RE.match(rest)
    return float(m.group(1)) if m else rest


def _finish_block(block: dict, out: OokFile, t_us: float) -> float:
    """Turn a block into a PulseTrain placed at ``t_us``; return where the next one starts."""
    meta = dict(block["meta"])
    n = len(block["pulses"])
    if n != block["count"]:
        out.warnings.append(f"line {block['line']}: package says {block['count']} pulses, holds {n}")
    if n == 0:
        return t_us
    pulses, gaps = np.asarray(block["pulses"]), np.asarray(block["gaps"])
    modulation = block["modulation"]
    f1 = meta.get("freq1")
    f2 = meta.get("freq2")
    freq = f1 if isinstance(f1, float) else None
    deviation = None
    pt = PulseTrain.from_pairs(pulses, gaps, t=t_us * 1e-6, modulation=modulation)
    if modulation == "FSK" and isinstance(f1, float) and isinstance(f2, float):
        freq, deviation = (f1 + f2) / 2, abs(f1 - f2) / 2
        if f2 > f1:
            # rtl_433's pulse is the time at F1; PulseTrain's level 1 is the higher frequency.
            pt.levels = (1 - pt.levels).astype(np.int8)
    meta["source"] = "rtl_433_ook"
    meta["line"] = block["line"]
    pt.freq_hz = freq
    pt.fsk_deviation_hz = deviation
    pt.rssi_db = _num(meta.get("rssi"))
    pt.snr_db = _num(meta.get("snr"))
    pt.noise_db = _num(meta.get("noise"))
    pt.meta = meta
    out.bursts.append(pt)
    trailing_gap = float(gaps[-1])
    return t_us + float(pt.duration_us) + max(0.0, MIN_PACKAGE_GAP_US - trailing_gap)


def _num(v) -> float | None:
    return v if isinstance(v, float) else None
