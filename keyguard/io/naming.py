"""rtl_433's capture-naming conventions: format prefix, extension, frequency and rate in the name.

- ``FORMAT:path`` forces a format (``cu8:capture.bin``, ``cs16:-``-style), case-insensitive.
- The extension (or a format word anywhere in the path) names the sample format: ``.cu8``,
  ``.data`` and ``.complex16u`` are cu8; ``.complex16s`` is cs8 (8-bit I + 8-bit Q = 16 bits per
  complex sample); ``.cs16``; ``.cf32``, ``.cfile`` and ``.complex`` (GNU Radio) are cf32.
- A number suffixed with ``M``, ``Hz``, ``kHz``, ``MHz`` or ``GHz`` is the centre frequency; a
  number suffixed with ``k``, ``sps``, ``ksps``, ``Msps`` or ``Gsps`` is the sample rate
  (``g001_433.92M_250k.cu8``, ``lock_315.1M_920k.cu8``, ``x_3000k.cs16``). Parameters are
  separated by non-alphanumeric characters; the whole path is scanned and later ones win, so
  the file name beats its folders.
- When nothing says otherwise rtl_433 assumes 433.92 MHz and 250 ksps (1 Msps above 800 MHz).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: Formats keyguard reads, as ``Capture.format`` names them.
FORMATS = ("cu8", "cs8", "cs16", "cf32", "sigmf", "wav", "sub", "ook")

#: Words accepted as a ``FORMAT:`` prefix or format parameter, and the format each means.
FORMAT_WORDS = {
    "cu8": "cu8", "data": "cu8", "complex16u": "cu8",
    "cs8": "cs8", "complex16s": "cs8",
    "cs16": "cs16",
    "cf32": "cf32", "cfile": "cf32", "complex": "cf32", "fc32": "cf32",
    "sigmf": "sigmf", "sigmf-meta": "sigmf", "sigmf-data": "sigmf",
    "wav": "wav", "sub": "sub", "ook": "ook",
}

#: File extensions (lower case, without the dot) and their formats.
EXTENSIONS = dict(FORMAT_WORDS)

DEFAULT_CENTER_FREQ = 433.92e6
DEFAULT_SAMPLE_RATE = 250e3
#: Above this centre frequency (Hz) the default sample rate is :data:`HIGH_BAND_SAMPLE_RATE`.
HIGH_BAND_HZ = 800e6
HIGH_BAND_SAMPLE_RATE = 1e6

_FREQ_UNITS = {"m": 1e6, "hz": 1.0, "khz": 1e3, "mhz": 1e6, "ghz": 1e9}
_RATE_UNITS = {"k": 1e3, "sps": 1.0, "ksps": 1e3, "msps": 1e6, "gsps": 1e9}
# A (fractional) number with a unit, standing alone between non-alphanumeric characters. The
# second look-behind keeps "1.433M" from matching as "433M".
_PARAM_RE = re.compile(
    r"(?<![0-9A-Za-z])(?<![0-9]\.)(\d+(?:\.\d+)?)(ghz|mhz|khz|hz|gsps|msps|ksps|sps|m|k)(?![0-9A-Za-z])",
    re.IGNORECASE)
_WORD_RE = re.compile(r"[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?")


@dataclass(frozen=True)
class NameInfo:
    """What a capture's name says.

    path: the file path with any ``FORMAT:`` prefix removed.
    fmt: the format, or None when the name does not say. fmt_source: ``"prefix"``,
    ``"extension"``, ``"name"`` or None.
    center_freq, sample_rate: Hz from the name, or None.
    """

    path: str
    fmt: str | None
    fmt_source: str | None
    center_freq: float | None
    sample_rate: float | None


def split_format_prefix(spec: str) -> tuple[str | None, str]:
    """``"cs16:path"`` → ``("cs16", "path")``; no (known) prefix → ``(None, spec)``.

    A name that exists as a file is never split, so ``cu8:odd-name`` on disk still opens.
    """
    head, sep, rest = str(spec).partition(":")
    if sep and rest and head.lower() in FORMAT_WORDS and not Path(spec).exists():
        return FORMAT_WORDS[head.lower()], rest
    return None, str(spec)


def parse_capture_name(spec: str | Path) -> NameInfo:
    """Read format, centre frequency and sample rate from a capture's path (see module doc)."""
    forced, path = split_format_prefix(str(spec))
    fmt, source = forced, ("prefix" if forced else None)
    name = Path(path).name.lower()
    if fmt is None:
        if name.endswith(".sigmf-meta") or name.endswith(".sigmf-data") or name.endswith(".sigmf"):
            fmt, source = "sigmf", "extension"
        else:
            ext = Path(path).suffix.lower().lstrip(".")
            if ext in EXTENSIONS:
                fmt, source = EXTENSIONS[ext], "extension"
            else:
                words = [w for w in _WORD_RE.findall(Path(path).name.lower()) if w in FORMAT_WORDS
                         and FORMAT_WORDS[w] in ("cu8", "cs8", "cs16", "cf32")]
                if words:
                    fmt, source = FORMAT_WORDS[words[-1]], "name"
    center = rate = None
    for m in _PARAM_RE.finditer(path):
        value, unit = float(m.group(1)), m.group(2).lower()
        if unit in _FREQ_UNITS:
            center = value * _FREQ_UNITS[unit]
        else:
            rate = value * _RATE_UNITS[unit]
    return NameInfo(path=path, fmt=fmt, fmt_source=source, center_freq=center, sample_rate=rate)


def default_sample_rate(center_freq: float | None) -> float:
    """rtl_433's default rate for a centre frequency (Hz): 1 Msps above 800 MHz, else 250 ksps."""
    if center_freq is not None and center_freq > HIGH_BAND_HZ:
        return HIGH_BAND_SAMPLE_RATE
    return DEFAULT_SAMPLE_RATE
