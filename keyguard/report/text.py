"""How the report writes values as text (shared by the HTML and PDF writers).

Plain text only: escaping for HTML is the HTML writer's job.
"""

from __future__ import annotations

import json
import math
from pathlib import PurePath
from typing import Any, Callable


def basename(path: str) -> str:
    """The file name of a path or URI as given (the path itself when it has none)."""
    return PurePath(str(path)).name or str(path)


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def num(v: Any, fmt: str) -> str:
    """A number with ``fmt`` (e.g. ``.2f``), ``-`` for None or anything not a finite number."""
    return format(v, fmt) if _finite(v) else "-"


def freq(v: Any) -> str:
    """A carrier: MHz with 6 decimals when absolute, ``+12.0 kHz offset`` when relative."""
    if not _finite(v):
        return "-"
    if abs(v) >= 1e6:
        return f"{v / 1e6:.6f}"
    return f"{v / 1e3:+.1f} kHz offset"


def value(v: Any) -> str:
    """An evidence or option value: numbers compact, scalar lists joined, objects as JSON."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))  # 433920000, not 4.3392e+08
        return f"{v:.1f}" if abs(v) >= 1e4 else f"{v:.6g}"
    if isinstance(v, (int, str)):
        return str(v)
    if v is None:
        return "null"
    if isinstance(v, (list, tuple)) and all(not isinstance(x, (dict, list, tuple)) for x in v):
        return ", ".join(value(x) for x in v)
    return json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)


def rate(r: Any) -> str:
    """A sample rate: ``2.4 Msps (2,400,000 Hz)``."""
    if not _finite(r) or not r:
        return "-"
    main = f"{r / 1e6:g} Msps" if r >= 1e6 else f"{r / 1e3:g} ksps"
    return f"{main} ({r:,.0f} Hz)"


def size(n: int | None) -> str:
    """A file size: ``7,372,800,000 bytes (6.87 GiB)``."""
    if n is None:
        return "-"
    for unit, k in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= k:
            return f"{n:,} bytes ({n / k:.2f} {unit})"
    return f"{n:,} bytes"


def duration(seconds: float) -> str:
    """``412 µs``, ``38.2 ms``, ``4.10 s``, ``12.5 min``, ``1.25 h``."""
    s = abs(float(seconds))
    if not math.isfinite(s):
        return "-"
    if s < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if s < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    if s < 120:
        return f"{seconds:.2f} s"
    if s < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


#: The packet fields compared side by side for an alert's places: (label, getter).
PACKET_FIELDS: tuple[tuple[str, Callable[[dict], Any]], ...] = (
    ("capture", lambda p: basename(p["capture"])),
    ("t (s)", lambda p: num(p.get("t"), ".6f")),
    ("time (UTC)", lambda p: p.get("time") or "-"),
    ("protocol", lambda p: p.get("protocol")),
    ("identity", lambda p: p.get("identity")),
    ("code", lambda p: p.get("code")),
    ("button", lambda p: (p.get("fields") or {}).get("button")),
    ("counter", lambda p: (p.get("fields") or {}).get("counter")),
    ("data", lambda p: p.get("data")),
    ("integrity", lambda p: p.get("integrity")),
    ("RSSI (dB)", lambda p: num(p.get("rssi_db"), ".1f")),
    ("SNR (dB)", lambda p: num(p.get("snr_db"), ".1f")),
    ("carrier (MHz)", lambda p: freq(p.get("freq_hz"))),
)
