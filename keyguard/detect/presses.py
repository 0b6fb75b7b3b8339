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
#: is an image or a far copy; the fingerprint must be the strong transmitter's). Receiver
#: images, intermodulation products and a clipped transmission's spurs sit 8 dB or more under
#: their source (an AF relay's clipped copy 105 kHz off came 8.5 dB under the relayed frame and
#: was judged instead of it), while two real transmitters sending one code at the same moment
#: are rarer than that: 6 dB keeps a margin for level measurement error (≈ 1 dB).
COPY_MARGIN_DB = 6.0


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
    feature_bursts: list = field(default_factory=list)  # the bursts ``features`` came from
    fixed_code: bool = False
    #: the decoded fields of its first frame (button, status bits...)
    fields: dict = field(default_factory=dict)
    #: what detectors concluded about the press, for the others: ``flags`` such as "old"
    #: (replay detector), ``notes`` such as the fingerprint comparison (clone detector).
    flags: set = field(default_factory=set)
    notes: dict = field(default_factory=dict)
    #: medians of the frames' carrier (Hz) and level (dB), kept up to date by :meth:`add`
    freq_hz: float | None = None
    rssi_db: float | None = None
    #: frames that were copies of frames already held (images, simultaneous copies)
    copies: int = 0
    #: the base units (µs) its bursts can measure (its profile's window; None: not known)
    te_window_us: tuple[float, float] | None = None
    _slots: list = field(default_factory=list, repr=False)  # [abs_t, level, burst, freq, s]

    def add(self, pkt: Packet, abs_t: float, abs_end: float, burst: BurstInfo | None) -> None:
        """Add a frame. A frame at the same moment as one already held is a copy of it (a
        receiver image, a simultaneous relayed copy): it adds no frame, and its RF evidence
        replaces the held one's only when it is ``COPY_MARGIN_DB`` stronger."""
        lvl = pkt.rssi_db if pkt.rssi_db is not None else (
            burst.rssi_db if burst is not None else None)
        freq = None if pkt.freq_hz is None else float(pkt.freq_hz)
        dur = max(0.0, pkt.t_end - pkt.t)
        for slot in self._slots:
            if abs(slot[0] - abs_t) <= COPY_TOLERANCE_S:
                if lvl is not None and (slot[1] is None or lvl >= slot[1] + COPY_MARGIN_DB):
                    slot[1:] = [lvl, burst, freq, dur]
                    self._refresh()
                self.copies += 1
                return
        self._slots.append([abs_t, lvl, burst, freq, dur])
        self.frames += 1
        self.t_end = max(self.t_end, pkt.t_end)
        self.abs_end = max(self.abs_end, abs_end)
        if pkt.integrity == "ok":
            self.integrity_ok = True
        self._refresh()

    def on_frame_grid(self, abs_t: float, tol_s: float) -> bool:
        """Whether a frame starting at ``abs_t`` (s, timeline) lands on this press's frame grid:
        a whole number of frame periods after its last frame, within ``tol_s`` (s). The period
        is the shortest step between the press's frame starts, and every step must be a whole
        number of it (a fob's timer sets when its frames go out; lost frames leave multiples).
        False with fewer than two frames."""
        starts = sorted(s[0] for s in self._slots)
        steps = np.diff(starts)
        if steps.size == 0 or float(steps.min()) <= COPY_TOLERANCE_S:
            return False
        period = float(steps.min())
        if np.any(np.abs(steps - np.round(steps / period) * period) > tol_s):
            return False
        ahead = abs_t - starts[-1]
        k = round(ahead / period)
        return k >= 1 and abs(ahead - k * period) <= tol_s

    def frames_in(self, burst: BurstInfo) -> int:
        """How many of the press's frames came inside ``burst``."""
        return sum(1 for s in self._slots if s[2] is burst)

    def merged(self) -> bool:
        """Every frame of the press came inside a burst it fills less than ``FRAME_COVER``
        of (merged with another transmission): the carriers held are those bursts' estimates,
        not the transmitter's."""
        return bool(self._slots) and all(
            s[2] is not None and s[4] < FRAME_COVER * max(s[2].duration_s, 1e-9)
            for s in self._slots)

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
        # a burst the press's frames fill only in part also holds another transmission (a
        # sensor or another fob keyed right beside the frames, merged into one burst): its RF
        # fingerprint is not this transmitter's, and a reference learnt from it would make
        # every later press of the key a "clone"
        self.feature_bursts = [b for b in bursts if b.features is not None
                               and sum(s[4] for s in self._slots if s[2] is b)
                               >= FRAME_COVER * max(b.t_end - b.t, 1e-9)
                               and self._overhang_s(b) <= FRAME_OVERHANG_S]
        self.features = [b.features for b in self.feature_bursts]

    def _overhang_s(self, burst: BurstInfo) -> float:
        """How far (s) ``burst`` reaches before this press's first frame in it or after its
        last: the longer of the two."""
        own = [s for s in self._slots if s[2] is burst]
        a = self.capture.abs_t(burst.t)
        z = self.capture.abs_t(burst.t_end)
        return max(min(s[0] for s in own) - a, z - max(s[0] + s[4] for s in own), 0.0)

    def where(self) -> dict[str, Any]:
        """Machine-readable position of the press for alert evidence."""
        return {"capture": self.capture.name, "t": self.t, "t_end": self.t_end,
                "frames": self.frames}


#: share of a burst's duration its decoded frames must cover for its RF features to stand for
#: the press (a held button's frames with their guard gaps cover ≈ 80 %)
FRAME_COVER = 0.5
#: ... and how far (s) it may reach beyond them: a burst that runs on 81 ms after a press's last
#: frame holds another transmission (a passer-by's fob 11.7 kHz away, keyed during the owner's
#: last frame: the merged burst read Te 205 µs for 412 and pulled the carrier 7 ppm, a "clone"
#: on fresh benign soak seed 8021); a doorbell's ring reaches 39 ms past its last decoded frame
FRAME_OVERHANG_S = 0.06


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

    gap_for(protocol) gives the longest gap (s) between two frames of one press. A press is
    *closed* — handed to the detectors — as soon as that gap has passed after its last frame
    (``abs_end + gap``, its close time), so alerts on it are not held back by the dropout
    bridge. A dropout inside a held press (frames resuming within ``rejoin_gap_s`` on the same
    carrier, ± ``rejoin_freq_hz``, or within ``rejoin_grid_gap_s`` on that carrier and the
    press's frame grid) still joins the press: a closed press stays rejoinable that long, and
    the resumed frames extend it without making a second press (the detectors have judged it
    already; a genuine fob's dropout is not a new press and never a replay of itself).

    :meth:`add` returns ``(press, is_new)``; :meth:`due` returns ``(close time, press)`` for the
    presses that can no longer grow at timeline time ``now`` (s), in close-time order — the
    engine delivers them in that order, so when it is asked changes nothing.
    """

    def __init__(self, gap_for: Callable[[str], float], is_fixed: Callable[[Packet], bool],
                 rejoin_gap_s: float = 0.0, rejoin_freq_hz: float = 0.0,
                 rejoin_grid_freq_hz: float = 0.0, rejoin_grid_tol_s: float = 0.0,
                 te_window_us: Callable[[str], tuple[float, float] | None] | None = None,
                 rejoin_grid_gap_s: float = 0.0):
        self._gap_for = gap_for
        self._is_fixed = is_fixed
        self._te_window_us = te_window_us
        self.rejoin_gap_s = float(rejoin_gap_s)
        self.rejoin_freq_hz = float(rejoin_freq_hz)
        self.rejoin_grid_freq_hz = float(rejoin_grid_freq_hz)
        self.rejoin_grid_tol_s = float(rejoin_grid_tol_s)
        self.rejoin_grid_gap_s = float(rejoin_grid_gap_s)
        self._open: dict[tuple, Press] = {}
        self._closed: list[tuple[float, Press]] = []  # proven over by a later frame
        self._recent: dict[tuple, Press] = {}         # closed, a dropout may still rejoin
        #: frames that resumed a closed press after a dropout
        self.rejoined = 0

    def add(self, pkt: Packet, capture: CaptureInfo, handle: int,
            burst: BurstInfo | None, now: float | None = None) -> tuple[Press, bool] | None:
        """Add one frame (``now``: the timeline time it is handed over at, s; default its
        start); None for a packet that has neither identity nor code."""
        key = press_key(pkt)
        if key is None:
            return None
        abs_t, abs_end = capture.abs_t(pkt.t), capture.abs_t(pkt.t_end)
        cur = self._open.get(key)
        if cur is not None:
            if cur.handle == handle and self._continues(cur, pkt, abs_t - cur.abs_end, burst):
                cur.add(pkt, abs_t, abs_end, burst)
                return cur, False
            # this frame proves the press over: it closes now
            self._closed.append((abs_t if now is None else now, self._open.pop(key)))
        else:
            old = self._recent.get(key)
            if old is not None and old.handle == handle and self._rejoins(
                    old, pkt, abs_t - old.abs_end, burst):
                old.add(pkt, abs_t, abs_end, burst)
                self.rejoined += 1
                return old, False
        p = Press(key=key, protocol=pkt.protocol, identity=pkt.identity, code=pkt.code,
                  data=pkt.data, capture=capture, handle=handle, t=pkt.t, t_end=pkt.t_end,
                  abs_t=abs_t, abs_end=abs_end, counter=packet_counter(pkt),
                  fixed_code=self._is_fixed(pkt), fields=dict(pkt.fields or {}),
                  te_window_us=None if self._te_window_us is None
                  else self._te_window_us(pkt.protocol))
        p.add(pkt, abs_t, abs_end, burst)
        self._open[key] = p
        self._recent.pop(key, None)
        return p, True

    def _continues(self, cur: Press, pkt: Packet, gap_s: float,
                   burst: BurstInfo | None = None) -> bool:
        return gap_s <= self._gap_for(pkt.protocol) or self._rejoins(cur, pkt, gap_s, burst)

    def _rejoins(self, cur: Press, pkt: Packet, gap_s: float,
                 burst: BurstInfo | None = None) -> bool:
        """A frame resuming ``cur`` after a dropout of ``gap_s`` (s): within the rejoin gap, on
        its carrier. A frame that fills less than ``FRAME_COVER`` of its burst came merged with
        another transmission, and its carrier is that merged burst's estimate, not its own:
        the gap alone decides (a held button resuming inside a sensor's burst); so it does when
        all of the press's earlier frames came merged (a held button that began inside one,
        whose last frames come alone). A frame farther off the press's carrier, up to
        ``rejoin_grid_freq_hz``, still resumes it when it starts on the press's frame grid
        (:meth:`Press.on_frame_grid`, within ``rejoin_grid_tol_s``). After a dropout longer
        than the rejoin gap, up to ``rejoin_grid_gap_s``, only a frame on both the press's
        carrier and its grid resumes it."""
        if gap_s > self.rejoin_gap_s:
            return (gap_s <= self.rejoin_grid_gap_s and not cur.merged()
                    and cur.freq_hz is not None and pkt.freq_hz is not None
                    and abs(float(pkt.freq_hz) - cur.freq_hz) <= self.rejoin_freq_hz
                    and cur.on_frame_grid(cur.abs_end + gap_s, self.rejoin_grid_tol_s))
        if burst is not None and pkt.t_end - pkt.t < FRAME_COVER * max(burst.duration_s, 1e-9):
            return True
        if cur.merged():
            return True  # the press's own carrier was never measured: its frames came merged
        f = cur.freq_hz
        if f is None or pkt.freq_hz is None:
            return False
        df = abs(float(pkt.freq_hz) - f)
        if df <= self.rejoin_freq_hz:
            return True
        # a clipped fob's carrier estimate can move kHz across a dropout, but its frames still
        # come on its own timer's grid; another radio sending the code starts anywhere on it
        return df <= self.rejoin_grid_freq_hz and cur.on_frame_grid(cur.abs_end + gap_s,
                                                                     self.rejoin_grid_tol_s)

    def close_time(self, p: Press) -> float:
        """Timeline time (s) after which ``p`` can no longer grow as one press."""
        return p.abs_end + self._gap_for(p.protocol)

    def next_close(self) -> float | None:
        """The earliest close time (s) of a press not yet handed out, or None."""
        times = [c for c, _ in self._closed] + [self.close_time(p) for p in self._open.values()]
        return min(times) if times else None

    def due(self, upto: float) -> list[tuple[float, Press]]:
        """``(close time, press)`` of every press whose close time is at or before ``upto`` (s;
        the caller has handed over every frame that starts before it), in close-time order, then
        start order. They stay rejoinable for ``rejoin_gap_s`` after their last frame."""
        now = upto
        done = [(self.close_time(p), p) for p in self._open.values() if self.close_time(p) <= upto]
        for _, p in done:
            del self._open[p.key]
        done += self._closed
        self._closed = []
        done.sort(key=lambda cp: (cp[0], cp[1].abs_t))
        for _, p in done:
            if self.rejoin_gap_s > 0 and p.freq_hz is not None and p.key not in self._open:
                self._recent[p.key] = p
        keep = max(self.rejoin_gap_s, self.rejoin_grid_gap_s)
        for k in [k for k, p in self._recent.items() if now - p.abs_end > keep]:
            del self._recent[k]
        return done

    def close_all(self) -> list[tuple[float, Press]]:
        """Every press not yet handed out (end of a capture), in close-time order."""
        done = [(self.close_time(p), p) for p in self._open.values()] + self._closed
        self._open.clear()
        self._closed = []
        self._recent.clear()
        return sorted(done, key=lambda cp: (cp[0], cp[1].abs_t))
