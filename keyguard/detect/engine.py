"""The detection engine: feeds bursts and packets from several captures, in time order, to every
detector and collects their alerts.

Driving it from a pipeline::

    engine = DetectionEngine(profiles=registry, state=State(path), models=models)
    for cap in order_captures(captures):                  # by start time
        sink(engine.begin(cap))        # or begin_capture(name, start_time=..., sha256=...)
        for burst, packets in decoded_bursts(cap):        # dsp -> protocols -> features
            info = BurstInfo.from_burst(burst, features=features_from_burst(burst, ...))
            sink(engine.observe(info, packets))            # lists of Alert
            sink(engine.advance_to(horizon))   # the front end: nothing earlier is to come
        sink(engine.end_capture())
    sink(engine.finish())

Alerts come out as soon as each detector can decide, always by :meth:`finish`: a press is
judged once its profile's inter-frame gap has passed after its last frame (a replay or RollJam
is reported then; a second old code of the same identity within the RollBack window escalates
it to a ``rollback`` alert); jamming is reported when the channel clears. How soon that is
depends on how soon the engine learns that time has passed: a feeder that knows its release
horizon (the burst detector does) says so with :meth:`advance_to`; otherwise observations wait
``engine.reorder_s`` for stragglers and time moves only when evidence arrives.

Every decision is taken at a time fixed by the evidence (a press's close time, a detector's
window), with exactly the evidence that starts before it: how finely :meth:`advance_to` is
called (a live stream's blocks, or once per burst in a file scan) changes when an alert comes
out, never what it says.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from dataclasses import replace
from datetime import datetime
from typing import Any, Iterable, Sequence

from keyguard.detect.base import DetectionContext, Detector
from keyguard.detect.bruteforce import BruteforceDetector
from keyguard.detect.codes import CodeMemory
from keyguard.detect.config import DetectConfig
from keyguard.detect.fingerprint import FingerprintMemory, te_window_us
from keyguard.detect.jamlog import JamLog
from keyguard.detect.jamming import JammingDetector
from keyguard.detect.observation import BurstInfo, CaptureInfo, Observation, Timeline
from keyguard.detect.presses import PressTracker
from keyguard.detect.profiles import ProfileIndex
from keyguard.detect.replay import ReplayDetector
from keyguard.events import Alert, Packet
from keyguard.state import State


def default_detectors() -> list[Detector]:
    """One of each detector, in the order they see each press (replay first, then RollJam: the
    fingerprint detectors read what they concluded)."""
    from keyguard.detect.clone import CloneDetector
    from keyguard.detect.relay import RelayDetector
    from keyguard.detect.rolljam import RollJamDetector
    return [JammingDetector(), ReplayDetector(), RollJamDetector(), CloneDetector(),
            RelayDetector(), BruteforceDetector()]


class DetectionEngine:
    """Runs detectors over captures on one timeline.

    config: thresholds (:class:`DetectConfig`). profiles: protocol profiles (a
    ``keyguard.protocols`` registry or name → profile) for repeat behaviour and code kinds.
    state: an open :class:`~keyguard.state.State` to check against and extend, or None.
    models: ``keyguard.models`` objects by role (``"burst"``: burst classifier).
    detectors: replaces the default set.
    """

    def __init__(self, config: DetectConfig | None = None, *, profiles: Any = None,
                 state: State | None = None, models: dict | None = None,
                 detectors: Sequence[Detector] | None = None):
        self.config = config or DetectConfig()
        self.timeline = Timeline(self.config.engine.unknown_gap_s)
        prof = ProfileIndex(profiles, self.config.press)
        # presses are handed out once their own gap has passed (a dropout rejoins a press
        # already handed out), so "the next press" is known this long after its last frame
        latency = ProfileIndex(profiles, replace(self.config.press, rejoin_gap_s=0.0)
                               ).max_press_gap_s()
        self.ctx = DetectionContext(config=self.config, profiles=prof,
                                    codes=CodeMemory(state, self.config.replay.counter_window),
                                    jams=JamLog(state),
                                    fingerprints=FingerprintMemory(state, self.config.fingerprint),
                                    state=state, models=dict(models or {}),
                                    press_latency_s=latency)
        self.detectors = list(detectors) if detectors is not None else default_detectors()

        def te_window(protocol: str) -> tuple[float, float] | None:
            facts = prof.facts(protocol)
            return te_window_us(facts.te_us, facts.te_tolerance_us)

        self.presses = PressTracker(prof.press_gap_s, prof.is_fixed,
                                    self.config.press.rejoin_gap_s,
                                    self.config.press.rejoin_freq_hz,
                                    self.config.press.rejoin_grid_freq_hz,
                                    self.config.press.rejoin_grid_tol_s, te_window,
                                    self.config.press.rejoin_grid_gap_s)
        self._heap: list = []
        self._seq = itertools.count()
        self._handles = itertools.count()
        self._latest = float("-inf")
        self._open = False
        self.counts: Counter = Counter()

    # captures ------------------------------------------------------------------------------
    def begin_capture(self, name: str, *, start_time: datetime | None = None,
                      duration_s: float | None = None, sha256: str | None = None,
                      receiver: str | None = None, center_freq_hz: float | None = None
                      ) -> list[Alert]:
        """Start a capture (ending the previous one, whose last alerts are returned). Its
        placement on the timeline is then :attr:`capture`."""
        alerts = self.end_capture() if self._open else []
        cap = self.timeline.place(name, start_time, duration_s, sha256, receiver, center_freq_hz)
        handle = next(self._handles)
        self.ctx.capture, self.ctx.handle = cap, handle
        self.ctx.captures[handle] = cap
        if self.ctx.state is not None:
            self.ctx.state.begin_capture(handle, name, sha256, cap.offset_s, start_time,
                                         duration_s, receiver)
        self._open = True
        self.counts["captures"] += 1
        return alerts

    @property
    def capture(self) -> CaptureInfo | None:
        """The capture being fed (None before the first)."""
        return self.ctx.capture

    def begin(self, capture: Any, receiver: str | None = None) -> list[Alert]:
        """:meth:`begin_capture` from a ``keyguard.io.Capture``. ``receiver`` names the dongle
        (the user's ``--receiver``); a hardware description is not enough, since two dongles of
        one model have different tuner errors."""
        return self.begin_capture(capture.path, start_time=capture.start_time,
                                  duration_s=capture.duration or None, sha256=capture.sha256,
                                  receiver=receiver, center_freq_hz=capture.center_freq)

    def end_capture(self) -> list[Alert]:
        """Finish the current capture: release everything buffered, close its presses."""
        if not self._open:
            return []
        out = self._release(float("inf"))
        for c, p in self.presses.close_all():
            out += self._step(c)
            out += self._press(p)
        for d in self.detectors:
            out += d.end_capture(self.ctx)
        if self.ctx.state is not None:
            self.ctx.state.end_capture(self.ctx.handle)
        self._open = False
        return self._sorted(out)

    def finish(self) -> list[Alert]:
        """End of the run: every pending decision is made and returned."""
        out = self.end_capture()
        for d in self.detectors:
            out += d.flush(self.ctx)
        if self.ctx.state is not None:
            self.ctx.state.flush()
        return self._sorted(out)

    # evidence ------------------------------------------------------------------------------
    def observe(self, burst: BurstInfo | None = None, packets: Iterable[Packet] = ()
                ) -> list[Alert]:
        """One burst (or None for a pulse-only capture) and the packets decoded from it."""
        if not self._open:
            raise RuntimeError("begin_capture() first")
        obs = Observation(burst, list(packets))
        if burst is None and not obs.packets:
            return []
        cap = self.ctx.capture
        t = cap.abs_t(obs.t)
        heapq.heappush(self._heap, (t, next(self._seq), obs))
        end = cap.abs_t(burst.t_end if burst is not None else max(p.t_end for p in obs.packets))
        self.timeline.note_time(end)
        self._latest = max(self._latest, t)
        return self._sorted(self._release(self._latest - self.config.engine.reorder_s))

    def advance_to(self, t: float) -> list[Alert]:
        """The feeder's promise that no observation starting before capture time ``t`` (s) is
        still to come (a front end's release horizon): everything observed before it is handed
        to the detectors, and every decision due before it is made. Never moves time back."""
        if not self._open:
            raise RuntimeError("begin_capture() first")
        return self._sorted(self._release(self.ctx.capture.abs_t(t)))

    def observe_packets(self, packets: Iterable[Packet]) -> list[Alert]:
        """Packets without bursts (pulse captures, or a decoder that does not expose bursts):
        each packet is its own observation."""
        out = []
        for p in packets:
            out += self.observe(None, [p])
        return out

    # internals -----------------------------------------------------------------------------
    def _release(self, upto: float) -> list[Alert]:
        out: list[Alert] = []
        while self._heap and self._heap[0][0] <= upto:
            t, _, obs = heapq.heappop(self._heap)
            out += self._advance(t)
            out += self._dispatch(obs)
        if upto != float("inf"):
            out += self._advance(upto)
        return out

    def _advance(self, t: float) -> list[Alert]:
        """Move time to ``t`` (s): presses closing before it are handed out one close time
        after the other, each preceded by the detectors' decisions due by then, so the order of
        decisions never depends on how time was stepped."""
        out: list[Alert] = []
        while True:
            c = self.presses.next_close()
            if c is None or c >= t:
                break
            out += self._step(c)
            for _, p in self.presses.due(c):
                out += self._press(p)
        out += self._step(t)
        return out

    def _step(self, t: float) -> list[Alert]:
        ctx = self.ctx
        ctx.now = max(ctx.now, t)
        out: list[Alert] = []
        for d in self.detectors:
            out += d.advance(ctx.now, ctx)
        return out

    def _dispatch(self, obs: Observation) -> list[Alert]:
        ctx = self.ctx
        self.counts["bursts" if obs.burst is not None else "packet_groups"] += 1
        for pkt in obs.packets:
            self.counts["packets"] += 1
            if pkt.integrity != "bad":  # a failed check means the code may be wrong
                # a packet decoded in a part of the burst demodulated on its own is that part's
                # transmitter's: the press takes its carrier, level and features from it
                burst = obs.burst.part_of(pkt.t, pkt.t_end) if obs.burst is not None else None
                self.presses.add(pkt, ctx.capture, ctx.handle, burst, ctx.now)
        out: list[Alert] = []
        for d in self.detectors:
            out += d.observe_burst(obs, ctx)
        return out

    def _press(self, p) -> list[Alert]:
        self.counts["presses"] += 1
        out: list[Alert] = []
        for d in self.detectors:
            out += d.observe_press(p, self.ctx)
        for d in self.detectors:
            # a detector that decides on the press but reports with what the others noted
            judged = getattr(d, "press_judged", None)
            if judged is not None:
                out += judged(p, self.ctx)
        # what no detector flagged is the identity's own radio: it extends the reference
        self.ctx.fingerprints.learn(p)
        return out

    def _sorted(self, alerts: list[Alert]) -> list[Alert]:
        order = {c.name: h for h, c in self.ctx.captures.items()}
        for a in alerts:
            self.counts[f"alert:{a.kind}"] += 1
        return sorted(alerts, key=lambda a: (order.get(a.capture, 0), a.t, a.kind))

    @property
    def alerts_by_kind(self) -> dict[str, int]:
        return {k.split(":", 1)[1]: v for k, v in self.counts.items() if k.startswith("alert:")}
