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


#: two frames of one key this close in time (s) are copies of one transmission, not two frames
COPY_TOLERANCE_S = 0.005
#: a copy this much (dB) stronger than the frame held replaces its RF evidence (the weaker one
#: is an image or a far copy; the fingerprint must be the strong transmitter's)
COPY_MARGIN_DB = 10.0


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
    #: medians of the frames' carrier (Hz) and level (dB), kept up to date by :meth:`add`
    freq_hz: float | None = None
    rssi_db: float | None = None
    #: frames that were copies of frames already held (images, simultaneous copies)
    copies: int = 0
    _slots: list = field(default_factory=list, repr=False)  # [abs_t, level, burst, freq]

    def add(self, pkt: Packet, abs_t: float, abs_end: float, burst: BurstInfo | None) -> None:
        """Add a frame. A frame at the same moment as one already held is a copy of it (a
        receiver image, a simultaneous relayed copy): it adds no frame, and its RF evidence
        replaces the held one's only when it is ``COPY_MARGIN_DB`` stronger."""
        lvl = pkt.rssi_db if pkt.rssi_db is not None else (
            burst.rssi_db if burst is not None else None)
        freq = None if pkt.freq_hz is None else float(pkt.freq_hz)
        for slot in self._slots:
            if abs(slot[0] - abs_t) <= COPY_TOLERANCE_S:
                if lvl is not None and (slot[1] is None or lvl >= slot[1] + COPY_MARGIN_DB):
                    slot[1:] = [lvl, burst, freq]
                    self._refresh()
                self.copies += 1
                return
        self._slots.append([abs_t, lvl, burst, freq])
        self.frames += 1
        self.t_end = max(self.t_end, pkt.t_end)
        self.abs_end = max(self.abs_end, abs_end)
        if pkt.integrity == "ok":
            self.integrity_ok = True
        self._refresh()

    def _refresh(self) -> None:
        freqs = [s[3] for s in self._slots if s[3] is not None]
        levels = [s[1] for s in self._slots if s[1] is not None]
        self.freqs_hz, self.rssis_db = freqs, levels
        self.freq_hz = _median(freqs) if freqs else None
        self.rssi_db = _median(levels) if levels else None
        bursts: list = []
        for s in self._slots:
            if s[2] is not None and all(b is not s[2] for b in bursts):
                bursts.append(s[2])
        self.bursts = bursts
        self.features = [b.features for b in bursts if b.features is not None]

    def where(self) -> dict[str, Any]:
        """Machine-readable position of the press for alert evidence."""
        return {"capture": self.capture.name, "t": self.t, "t_end": self.t_end,
                "frames": self.frames}


def _median(v: list) -> float:
    """Median of a short list (a press has a handful of frames; numpy costs more here)."""
    s = sorted(v)
    n = len(s)
    return float(s[n // 2]) if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


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
