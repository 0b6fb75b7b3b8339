"""What the detectors need to know about a protocol, read from its firmware profile.

The detectors need three facts per protocol: how long a held button's frames may be apart and
still be one press (the profile's inter-frame gap), whether the protocol is a fixed-code one
(its codes can be scanned, its replays only seen by fingerprint), and its nominal timing and
frequency (fingerprint features compare against them). Protocols without a profile fall back to
the defaults in :class:`~keyguard.detect.config.PressConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from keyguard.detect.config import PressConfig
from keyguard.events import Packet


@dataclass(frozen=True)
class ProtocolFacts:
    """inter_frame_gap_s: silence between repeated frames of one press (s). fixed_code: the
    protocol has no rolling part. te_us: its base unit (µs). freq_hz: nominal carrier (Hz).
    passive_entry: the profile's rule for a passive-entry answer (anything with
    ``matches(fields)``, a ``keyguard.protocols.profile.PassiveEntry``), or None when the
    profile does not say how to tell one from a button press."""

    inter_frame_gap_s: float | None = None
    frames_per_press: int | None = None
    fixed_code: bool | None = None
    te_us: float | None = None
    freq_hz: float | None = None
    passive_entry: Any = None
    #: how far (µs) a width may stray from its nominal and still decode
    te_tolerance_us: float | None = None


def facts_of(profile: Any) -> ProtocolFacts:
    """Read a ``keyguard.protocols`` profile's repeat behaviour, code kind, timing, frequency."""
    rep = getattr(profile, "repeat", None)
    gap_s = None
    frames = None
    if rep is not None:
        g_us = _first(rep, "inter_frame_gap_us", "gap_us", "guard_us")
        g_s = _first(rep, "inter_frame_gap_s", "gap_s")
        gap_s = g_s if g_s is not None else (None if g_us is None else g_us * 1e-6)
        frames = _first(rep, "frames_per_press", "frames", "count")
    else:
        g_us = _first(profile, "inter_frame_gap_us", "gap_us", "guard_us")
        gap_s = None if g_us is None else g_us * 1e-6
        frames = _first(profile, "frames_per_press")
    fixed = getattr(profile, "fixed_code", None)
    rolling = getattr(profile, "is_rolling", None)
    if fixed is None and rolling is not None:
        fixed = not bool(rolling)
    if fixed is None:
        code_fields = _first(profile, "code_fields", "rolling_fields")
        if code_fields is not None:
            fixed = len(code_fields) == 0
    timing = getattr(profile, "timing", None)
    te = _first(timing, "te_short_us", "te_short", "te_us") if timing is not None else None
    if te is None:
        te = _first(profile, "te_short_us", "te_short", "te_us")
    tol = _first(timing, "tolerance_us") if timing is not None else None
    freqs = _first(profile, "frequencies_hz", "frequencies", "freq_hz")
    freq = None
    if isinstance(freqs, (list, tuple)) and freqs:
        freq = float(freqs[0])
    elif isinstance(freqs, (int, float)):
        freq = float(freqs)
    return ProtocolFacts(inter_frame_gap_s=None if gap_s is None else float(gap_s),
                         frames_per_press=None if frames is None else int(frames),
                         fixed_code=None if fixed is None else bool(fixed),
                         te_us=None if te is None else float(te), freq_hz=freq,
                         passive_entry=getattr(profile, "passive_entry", None),
                         te_tolerance_us=None if tol is None else float(tol))


def _first(obj: Any, *names: str) -> Any:
    if obj is None:
        return None
    for n in names:
        v = obj.get(n) if isinstance(obj, Mapping) else getattr(obj, n, None)
        if v is not None:
            return v
    return None


class ProfileIndex:
    """Protocol name → :class:`ProtocolFacts`, with the press-gap rule applied.

    profiles: a ``keyguard.protocols`` registry (or any iterable of profiles with ``name``), or
    a mapping name → profile / ``ProtocolFacts``.
    """

    def __init__(self, profiles: Any = None, press: PressConfig | None = None):
        self.press = press or PressConfig()
        self._facts: dict[str, ProtocolFacts] = {}
        items = profiles.items() if isinstance(profiles, Mapping) else (
            (p.name, p) for p in (profiles or ()))
        for name, p in items:
            self._facts[str(name)] = p if isinstance(p, ProtocolFacts) else facts_of(p)
        self._gap_cache: dict[str, float] = {}

    def facts(self, protocol: str) -> ProtocolFacts:
        return self._facts.get(protocol, ProtocolFacts())

    def te_range_us(self) -> tuple[float, float] | None:
        """Shortest and longest base unit (µs) of the known protocols (None: none known)."""
        tes = [f.te_us for f in self._facts.values() if f.te_us]
        return (min(tes), max(tes)) if tes else None

    def passive_entry_answer(self, protocol: str, fields: Mapping) -> bool | None:
        """Whether a frame of ``protocol`` with decoded ``fields`` answers a car's LF challenge
        (passive entry) rather than a button; None when its profile does not say."""
        pe = self.facts(protocol).passive_entry
        return None if pe is None else pe.matches(fields)

    def press_gap_s(self, protocol: str) -> float:
        """Longest silence (s) between two frames of one press of ``protocol``."""
        g = self._gap_cache.get(protocol)
        if g is None:
            f = self.facts(protocol)
            base = f.inter_frame_gap_s if f.inter_frame_gap_s is not None else self.press.default_gap_s
            g = max(base * self.press.gap_margin, self.press.gap_floor_s)
            self._gap_cache[protocol] = g
        return g

    def max_frame_gap_s(self) -> float:
        """The longest silence (s) between two frames of one press of any known protocol (or
        of an unknown one)."""
        return max([self.press_gap_s(n) for n in self._facts] + [self.press_gap_s("")])

    def max_press_gap_s(self) -> float:
        """The longest press gap (s) of any known protocol, bridging included."""
        return max(self.max_frame_gap_s(), self.press.rejoin_gap_s)

    def is_fixed(self, pkt: Packet) -> bool:
        """True for fixed-code transmissions: the profile says so, or the decoder gave an
        identity but no rolling code."""
        if pkt.identity is None and pkt.code is None:
            return False
        f = self.facts(pkt.protocol).fixed_code
        if f is not None:
            return f and pkt.code is None
        return pkt.code is None and pkt.identity is not None and pkt.protocol != "unknown"
