"""Frames → presses: a held button repeats its frame, and those repeats are one press.

A fob sends the same frame again and again while its button is held (KeeLoq every ≈ 15 ms guard,
other families per their profile). Frames with the same key (protocol, identity, code — or the
payload for fixed-code remotes) separated by no more than the press gap belong to one
:class:`Press`; a gap longer than that starts a new press. A genuine rolling-code fob never sends
the same code in two presses, which is what the replay detector relies on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from keyguard.detect.observation import BurstInfo, CaptureInfo
from keyguard.events import Packet


@dataclass
class Press:
    """One press: consecutive frames of one key. Times in s (``t`` capture-relative,
    ``abs_t`` on the timeline)."""

    key: tuple
    protocol: str
    identity: str | None
    code: str | None
    data: str
    capture: CaptureInfo
    handle: int
    t: float
    t_end: float
    abs_t: float
    abs_end: float
    frames: int = 0
    counter: int | None = None
    integrity_ok: bool = False
    freqs_hz: list = field(default_factory=list)
    rssis_db: list = field(default_factory=list)
    features: list = field(default_factory=list)  # FeatureVector per frame (when IQ was there)
    bursts: list = field(default_factory=list)    # BurstInfo per frame (for relay evidence)
    fixed_code: bool = False
    #: what detectors concluded about the press, for the others: ``flags`` such as "old"
    #: (replay detector), ``notes`` such as the fingerprint comparison (clone detector).
    flags: set = field(default_factory=set)
    notes: dict = field(default_factory=dict)

    def add(self, pkt: Packet, abs_t: float, abs_end: float, burst: BurstInfo | None) -> None:
        self.frames += 1
        self.t_end = max(self.t_end, pkt.t_end)
        self.abs_end = max(self.abs_end, abs_end)
        if pkt.integrity == "ok":
            self.integrity_ok = True
        if pkt.freq_hz is not None:
            self.freqs_hz.append(float(pkt.freq_hz))
        if pkt.rssi_db is not None:
            self.rssis_db.append(float(pkt.rssi_db))
        if burst is not None and (not self.bursts or self.bursts[-1] is not burst):
            self.bursts.append(burst)
            if burst.features is not None:
                self.features.append(burst.features)

    @property
    def freq_hz(self) -> float | None:
        return float(np.median(self.freqs_hz)) if self.freqs_hz else None

    @property
    def rssi_db(self) -> float | None:
        return float(np.median(self.rssis_db)) if self.rssis_db else None

    def where(self) -> dict[str, Any]:
        """Machine-readable position of the press for alert evidence."""
        return {"capture": self.capture.name, "t": self.t, "t_end": self.t_end,
                "frames": self.frames}


def packet_counter(pkt: Packet) -> int | None:
    """The press counter from the packet's fields (decoded in clear or decrypted), or None.

    The contract allows integers or hex strings for field values."""
    v = pkt.fields.get("counter") if pkt.fields else None
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, str):
        s = v.strip().lower()
        try:
            return int(s, 16)
        except ValueError:
            return None
    return None


def press_key(pkt: Packet) -> tuple | None:
    """What must stay equal across the frames of one press; None for packets that carry no
    identity and no code (they cannot be tracked press by press)."""
    if pkt.code is not None:
        return ("code", pkt.code)
    if pkt.identity is not None:
        return ("fixed", pkt.protocol, pkt.identity, pkt.data)
    return None


class PressTracker:
    """Groups frames into presses, streaming.

    gap_for(protocol) gives the longest gap (s) between two frames of one press. :meth:`add`
    returns ``(press, is_new)``; :meth:`advance` returns the presses that can no longer grow at
    timeline time ``now`` (s), oldest first — including any that a later frame of the same key
    proved over.
    """

    def __init__(self, gap_for: Callable[[str], float], is_fixed: Callable[[Packet], bool],
                 rejoin_gap_s: float = 0.0, rejoin_freq_hz: float = 0.0):
        self._gap_for = gap_for
        self._is_fixed = is_fixed
        self.rejoin_gap_s = float(rejoin_gap_s)
        self.rejoin_freq_hz = float(rejoin_freq_hz)
        self._open: dict[tuple, Press] = {}
        self._closed: list[Press] = []

    def add(self, pkt: Packet, capture: CaptureInfo, handle: int,
            burst: BurstInfo | None) -> tuple[Press, bool] | None:
        """Add one frame; None for a packet that has neither identity nor code."""
        key = press_key(pkt)
        if key is None:
            return None
        abs_t, abs_end = capture.abs_t(pkt.t), capture.abs_t(pkt.t_end)
        cur = self._open.get(key)
        if cur is not None:
            if cur.handle == handle and self._continues(cur, pkt, abs_t - cur.abs_end):
                cur.add(pkt, abs_t, abs_end, burst)
                return cur, False
            self._closed.append(self._open.pop(key))
        p = Press(key=key, protocol=pkt.protocol, identity=pkt.identity, code=pkt.code,
                  data=pkt.data, capture=capture, handle=handle, t=pkt.t, t_end=pkt.t_end,
                  abs_t=abs_t, abs_end=abs_end, counter=packet_counter(pkt),
                  fixed_code=self._is_fixed(pkt))
        p.add(pkt, abs_t, abs_end, burst)
        self._open[key] = p
        return p, True

    def _continues(self, cur: Press, pkt: Packet, gap_s: float) -> bool:
        if gap_s <= self._gap_for(pkt.protocol):
            return True
        f = cur.freq_hz
        return (gap_s <= self.rejoin_gap_s and f is not None and pkt.freq_hz is not None
                and abs(float(pkt.freq_hz) - f) <= self.rejoin_freq_hz)

    def _horizon(self, p: Press) -> float:
        """How long (s) after its last frame a press may still grow."""
        g = self._gap_for(p.protocol)
        return max(g, self.rejoin_gap_s) if p.freq_hz is not None else g

    def advance(self, now: float) -> list[Press]:
        done = [p for p in self._open.values() if now - p.abs_end > self._horizon(p)]
        for p in done:
            del self._open[p.key]
        done += self._closed
        self._closed = []
        return sorted(done, key=lambda p: p.abs_t)

    def close_all(self) -> list[Press]:
        done = list(self._open.values()) + self._closed
        self._open.clear()
        self._closed = []
        return sorted(done, key=lambda p: p.abs_t)
