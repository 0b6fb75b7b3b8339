"""Memory of the codes heard: every press of a code-bearing transmitter, in this run and (through
the state file) in earlier runs.

Two questions are asked of it: "was this code heard in an earlier press?" (replay) and "what is
the newest counter this identity has sent?" (an older counter is an old code even if this
receiver never heard it: RollBack replays codes captured elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass

from keyguard.detect.presses import Press
from keyguard.state import PressRecord, State


@dataclass(frozen=True)
class Sighting:
    """Where a code was heard: a press, as stored. ``t`` is capture-relative (s), ``abs_t`` on
    the timeline (s); ``freq_hz`` is the press's carrier when known."""

    capture: str
    t: float
    t_end: float
    abs_t: float
    abs_end: float
    frames: int
    counter: int | None
    code: str | None
    identity: str | None
    freq_hz: float | None = None
    earlier_run: bool = False
    #: its capture's start time was known (``abs_t`` is POSIX time)
    dated: bool = True

    @classmethod
    def of_press(cls, p: Press) -> "Sighting":
        return cls(capture=p.capture.name, t=p.t, t_end=p.t_end, abs_t=p.abs_t,
                   abs_end=p.abs_end, frames=p.frames, counter=p.counter, code=p.code,
                   identity=p.identity, freq_hz=p.freq_hz,
                   dated=p.capture.start_time is not None)

    @classmethod
    def of_record(cls, r: PressRecord) -> "Sighting":
        return cls(capture=r.capture, t=r.t, t_end=r.t_end, abs_t=r.abs_t, abs_end=r.abs_end,
                   frames=r.frames, counter=r.counter, code=r.code, identity=r.identity,
                   earlier_run=True, dated=r.dated)

    def where(self) -> dict:
        return {"capture": self.capture, "t": self.t, "t_end": self.t_end, "frames": self.frames,
                "earlier_run": self.earlier_run}


class CodeMemory:
    """Codes and counters heard so far (this run in memory, earlier runs from ``state``)."""

    #: newest presses kept per identity for :meth:`latest_code` by carrier
    RECENT = 16

    def __init__(self, state: State | None = None, counter_window: int = 32768):
        self.state = state
        self.counter_window = int(counter_window)
        self._by_code: dict[str, list[Sighting]] = {}
        self._newest: dict[str, Sighting] = {}
        self._codes_of: dict[str, set] = {}  # identity -> codes heard (capped: a few suffice)
        # identity -> (carrier Hz or None, code) of its newest presses, oldest first
        self._recent: dict[str, list[tuple[float | None, str]]] = {}

    def sightings(self, code: str) -> list[Sighting]:
        """Every earlier press of ``code``, oldest first."""
        out = []
        if self.state is not None:
            out = [Sighting.of_record(r) for r in self.state.presses_with_code(code)]
        out += self._by_code.get(code, [])
        return out

    def newest_counter(self, identity: str) -> Sighting | None:
        """The press with the highest counter heard from ``identity``, or None."""
        best = self._newest.get(identity)
        if self.state is not None:
            r = self.state.newest_counter(identity)
            if r is not None and r.counter is not None and (
                    best is None or best.counter is None or r.counter > best.counter):
                best = Sighting.of_record(r)
        return best

    def distinct_codes(self, identity: str) -> int:
        """How many different codes ``identity`` has sent (counted up to 8)."""
        n = len(self._codes_of.get(identity, ()))
        if self.state is not None and n < 8:
            n = max(n, self.state.distinct_codes(identity, 8))
        return n

    def codes_of(self, identity: str) -> frozenset:
        """The different codes ``identity`` sent in this run (the first 8)."""
        return frozenset(self._codes_of.get(identity, ()))

    def latest_code(self, identity: str, freq_hz: float | None = None,
                    tolerance_hz: float = 0.0) -> str | None:
        """The code of ``identity``'s newest press (this run, else earlier runs), or None.
        With ``freq_hz``: its newest press this run on that carrier (within ``tolerance_hz``),
        where the run heard any of it (presses without a carrier count everywhere)."""
        if freq_hz is not None and identity in self._recent:
            for f, code in reversed(self._recent[identity]):
                if f is None or abs(f - freq_hz) <= tolerance_hz:
                    return code
            return None
        recent = self._recent.get(identity)
        code = recent[-1][1] if recent else None
        if code is None and self.state is not None:
            code = self.state.latest_code(identity)
        return code

    def record(self, p: Press) -> None:
        """Remember a completed press (and persist it when there is a state file)."""
        s = Sighting.of_press(p)
        if p.code is not None:
            self._by_code.setdefault(p.code, []).append(s)
            if p.identity is not None:
                recent = self._recent.setdefault(p.identity, [])
                recent.append((p.freq_hz, p.code))
                if len(recent) > self.RECENT:
                    del recent[0]
                seen = self._codes_of.setdefault(p.identity, set())
                if len(seen) < 8:
                    seen.add(p.code)
        if p.identity is not None and p.counter is not None:
            cur = self._newest.get(p.identity)
            # a counter far below the newest is a wrap-around (or a re-paired fob): it restarts
            if (cur is None or cur.counter is None or p.counter > cur.counter
                    or cur.counter - p.counter > self.counter_window):
                self._newest[p.identity] = s
        if self.state is not None and (p.code is not None or p.counter is not None):
            self.state.add_press(p.handle, p.protocol, p.identity, p.code, p.counter, p.t,
                                 p.t_end, p.abs_t, p.abs_end, p.frames)
