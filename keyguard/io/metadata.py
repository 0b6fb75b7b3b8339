"""Deciding a capture's sample rate, centre frequency and start time, and checking them.

Each value comes from the first of: an explicit argument (CLI option), the file's own metadata
(SigMF, a ``.sigmf-meta`` beside a raw file, WAV/``.sub``/``.ook`` headers), the file name
(rtl_433 conventions), and last rtl_433's defaults. A value that fell back to a default is
listed in ``Capture.assumed`` so that the user can be told.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone

from keyguard.errors import CaptureFormatError
from keyguard.io.naming import DEFAULT_CENTER_FREQ, NameInfo, default_sample_rate

#: Sample rates keyguard accepts (Hz): below 1 ksps no key fob fits, above 100 Msps no SDR that
#: records these bands; outside this range the number is a mistake (Hz vs kHz, a typo).
MIN_SAMPLE_RATE = 1e3
MAX_SAMPLE_RATE = 100e6
#: Centre frequencies accepted (Hz).
MAX_CENTER_FREQ = 100e9


@dataclass
class Resolved:
    """The chosen values, where each came from (``explicit``, ``file``, ``name``, ``default``)."""

    sample_rate: float
    center_freq: float | None
    start_time: datetime | None
    sources: dict = field(default_factory=dict)

    @property
    def assumed(self) -> tuple:
        return tuple(k for k in ("sample_rate", "center_freq") if self.sources.get(k) == "default")


_SOURCE_WORDS = {"explicit": "the command line / argument", "file": "the file's metadata",
                 "name": "the file name"}


def check_sample_rate(rate: float, path: str, source: str = "explicit") -> float:
    """Return ``rate`` (Hz) as float, or raise CaptureFormatError when it is 0, negative or absurd."""
    where = _SOURCE_WORDS.get(source, source)
    try:
        r = float(rate)
    except (TypeError, ValueError):
        raise CaptureFormatError(f"sample rate {rate!r} from {where} is not a number", path) from None
    if not math.isfinite(r) or r <= 0:
        raise CaptureFormatError(f"sample rate {rate!r} Hz from {where} must be positive", path,
                                 "give it with --sample-rate, e.g. 250000 or 250k")
    if not MIN_SAMPLE_RATE <= r <= MAX_SAMPLE_RATE:
        raise CaptureFormatError(
            f"sample rate {r:g} Hz from {where} is outside {MIN_SAMPLE_RATE:g}..{MAX_SAMPLE_RATE:g} Hz",
            path, "is the unit right? rates are in Hz (250000 = 250 ksps)")
    return r


def check_center_freq(freq: float | None, path: str, source: str = "explicit") -> float | None:
    """Return ``freq`` (Hz) as float or None; CaptureFormatError when negative or absurd."""
    if freq is None:
        return None
    where = _SOURCE_WORDS.get(source, source)
    try:
        f = float(freq)
    except (TypeError, ValueError):
        raise CaptureFormatError(f"centre frequency {freq!r} from {where} is not a number", path) from None
    if not math.isfinite(f) or f < 0 or f > MAX_CENTER_FREQ:
        raise CaptureFormatError(f"centre frequency {freq!r} Hz from {where} is not a radio frequency",
                                 path, "frequencies are in Hz, e.g. 433920000")
    return f


def as_utc(t: datetime | str | None, path: str = "<argument>") -> datetime | None:
    """A start time as an aware UTC datetime; naive times are taken as UTC; ISO-8601 text parsed."""
    if t is None:
        return None
    if isinstance(t, str):
        try:
            t = datetime.fromisoformat(t.strip())
        except ValueError:
            raise CaptureFormatError(f"start time {t!r} is not ISO-8601", path,
                                     "e.g. 2024-05-01T12:00:00Z") from None
    if t.tzinfo is None:
        return t.replace(tzinfo=timezone.utc)
    return t.astimezone(timezone.utc)


def resolve(path: str, *, name: NameInfo | None, file_meta: dict | None = None,
            sample_rate: float | None = None, center_freq: float | None = None,
            start_time: datetime | str | None = None, default_center: bool = True) -> Resolved:
    """Choose sample rate, centre frequency and start time for a capture (see module doc).

    file_meta: ``sample_rate``/``center_freq``/``start_time`` the file itself states (None = not).
    default_center: whether an unknown centre falls back to 433.92 MHz (rtl_433's default) or
    stays None.
    """
    fm = file_meta or {}
    sources: dict[str, str] = {}

    def pick(key: str, explicit):
        if explicit is not None:
            return explicit, "explicit"
        if fm.get(key) is not None:
            return fm[key], "file"
        from_name = getattr(name, key, None) if name is not None else None
        if from_name is not None:
            return from_name, "name"
        return None, None

    cf, src = pick("center_freq", center_freq)
    if cf is not None:
        cf = check_center_freq(cf, path, src)
        sources["center_freq"] = src
    elif default_center:
        cf, sources["center_freq"] = DEFAULT_CENTER_FREQ, "default"

    sr, src = pick("sample_rate", sample_rate)
    if sr is None:
        # the high-band default only follows a centre that something actually stated
        stated = cf if sources.get("center_freq") not in (None, "default") else None
        sr, src = default_sample_rate(stated), "default"
    sr = check_sample_rate(sr, path, src)
    sources["sample_rate"] = src

    if start_time is not None:
        st, sources["start_time"] = as_utc(start_time, path), "explicit"
    elif fm.get("start_time") is not None:
        st, sources["start_time"] = as_utc(fm["start_time"], path), "file"
    else:
        st = None
    return Resolved(sample_rate=sr, center_freq=cf, start_time=st, sources=sources)
