"""Live monitoring: a source's blocks through the scan pipeline to sinks, for days on end.

``Monitor`` joins a :class:`keyguard.sdr.source.Source` (RTL-SDR, rtl_tcp or replay), a
:class:`keyguard.pipeline.Scanner` (the same decoding and detection as ``keyguard scan``), a
:class:`keyguard.alerts.dispatch.SinkSet` and optionally an
:class:`keyguard.alerts.evidence.EvidenceRecorder`. Records go to the sinks the moment the
pipeline decides them. Samples the source lost (rtl_tcp stalls, USB overruns) are never filled
in: the burst detector restarts after the gap and the gap is counted and reported.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from keyguard.errors import SourceError
from keyguard.events import Alert, Summary, severity_rank
from keyguard.pipeline import Scanner


@dataclass
class MonitorStatus:
    """What the status line shows (also handed to ``on_status``)."""

    elapsed_s: float
    stream_s: float
    rate_sps: float
    realtime_factor: float
    noise_db: float | None
    packets: int
    alerts: int
    samples_dropped: int
    gaps: int
    reconnects: int
    lag_s: float
    sink_errors: int

    def line(self) -> str:
        noise = "  -  " if self.noise_db is None else f"{self.noise_db:5.1f}"
        return (f"keyguard monitor: {self.stream_s:8.1f} s of air, {self.rate_sps / 1e6:5.3f} Msps "
                f"({self.realtime_factor:4.2f}x), noise {noise} dBFS, {self.packets} packets, "
                f"{self.alerts} alerts, dropped {self.samples_dropped} samples in {self.gaps} "
                f"gaps, {self.reconnects} reconnects, lag {self.lag_s:.2f} s"
                + (f", {self.sink_errors} sink errors" if self.sink_errors else ""))


class Monitor:
    """Run the pipeline on a live source until it ends or :meth:`stop` is called.

    status_interval_s: how often ``on_status`` is called (s of wall time).
    min_severity: alerts below it are not sent to the sinks (they still count and get clips
    only when sent).
    """

    def __init__(self, source, scanner: Scanner, sinks, *, evidence=None,
                 on_status: Callable[[MonitorStatus], None] | None = None,
                 status_interval_s: float = 2.0, min_severity: str = "info"):
        self.min_rank = severity_rank(min_severity)
        self.source = source
        self.scanner = scanner
        self.sinks = sinks
        self.evidence = evidence
        self.on_status = on_status
        self.status_interval_s = float(status_interval_s)
        self._stop = threading.Event()
        self._noise_db: float | None = None
        self._expected = None     # next sample index the detector expects
        self.sink_errors = 0
        self.interrupted = False
        self.source_error: SourceError | None = None

    def stop(self) -> None:
        """Ask the run to end (safe from signal handlers and other threads)."""
        self.interrupted = True
        self._stop.set()
        try:
            self.source.stop()
        except Exception:  # the source may already be closed; stopping must never raise
            pass

    def run(self) -> Summary:
        """Stream until the source ends or stop(); flush everything; return the summary."""
        started = time.monotonic()
        last_status = started
        src = self.source
        with src:
            blocks = src.blocks()
            session = None
            try:
                for block in blocks:
                    if session is None:
                        # a live source learns its start time from its first samples: the
                        # capture record and every packet's `time` need it
                        self.sinks.emit(src.capture_record())
                        session = self._new_session()
                    if self._stop.is_set():
                        break
                    if self.evidence is not None:
                        self.evidence.push(block)
                    if self._expected is not None and block.start != self._expected:
                        # lost samples: finish what the old detector holds, restart after them
                        self._emit(session.drain())
                        session = session.restarted(block.start)
                    self._expected = block.start + block.samples.size
                    self._emit(session.process(block))
                    if session.noise_db is not None:
                        self._noise_db = session.noise_db
                    now = time.monotonic()
                    if self.on_status and now - last_status >= self.status_interval_s:
                        self.on_status(self.status(now - started))
                        last_status = now
            except SourceError as e:
                # the source is gone for good: everything received so far is still decided,
                # delivered and summarised before the error is raised
                self.source_error = e
            if session is None:
                self.sinks.emit(src.capture_record())
                session = self._new_session()
            self._emit(session.finish())
            if self.evidence is not None:
                self.evidence.finish()
            summary = self.scanner.summary()
            st = src.stats
            summary.extra.update({
                "samples_received": st.samples_received, "samples_dropped": st.samples_dropped,
                "gaps": st.gaps, "gap_s": round(st.gap_s, 6), "reconnects": st.reconnects,
                "queue_high_water": st.queue_high_water, "queue_capacity": st.queue_capacity,
                "interrupted": self.interrupted,
                "source_error": None if self.source_error is None else str(self.source_error),
            })
            self.sinks.emit(summary)
        if self.on_status:
            self.on_status(self.status(time.monotonic() - started))
        self.scanner.close()
        if self.source_error is not None:
            raise self.source_error
        return summary

    # ------------------------------------------------------------------------------------
    def _new_session(self):
        src = self.source
        return self.scanner.stream(src.uri, src.sample_rate, src.center_freq,
                                   start_time=src.start_time,
                                   # the user's name for the dongle, else the source itself
                                   receiver=self.scanner.options.receiver or src.uri)

    def _emit(self, records) -> None:
        for rec in records:
            if isinstance(rec, Alert) and severity_rank(rec.severity) < self.min_rank:
                continue
            self.sinks.emit(rec)
            if isinstance(rec, Alert) and self.evidence is not None:
                self.evidence.request(rec.to_dict())

    def status(self, elapsed_s: float) -> MonitorStatus:
        st = self.source.stats
        c = self.scanner.counts
        stream_s = (self._expected or 0) / self.source.sample_rate
        rate = (self._expected or 0) / elapsed_s if elapsed_s > 0 else 0.0
        sink_errors = sum(getattr(s, "failures", 0) for s in self.sinks.status())
        return MonitorStatus(elapsed_s=elapsed_s, stream_s=stream_s, rate_sps=rate,
                             realtime_factor=rate / self.source.sample_rate,
                             noise_db=self._noise_db, packets=c["packets"], alerts=c["alerts"],
                             samples_dropped=st.samples_dropped, gaps=st.gaps,
                             reconnects=st.reconnects, lag_s=st.lag_s, sink_errors=sink_errors)

