"""File replay as a stream source, so ``--replay FILE`` runs the monitor exactly as a dongle would.

Without ``realtime`` the file is read as fast as the pipeline consumes it and nothing is ever
dropped (the reader waits for the consumer). With ``realtime`` blocks are released at the
capture's sample rate, as a live source would release them, and a pipeline that cannot keep up
loses blocks, counted in the stats: a rehearsal of the live behaviour.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

from keyguard.events import CaptureRecord
from keyguard.io.capture import Capture
from keyguard.sdr.source import QUEUE_S, EventCallback, Source


class ReplaySource(Source):
    """Stream ``capture`` (opened with :func:`keyguard.io.open_capture` or ``Capture.from_array``).

    realtime: pace at the sample rate. loop: start over at the end (rehearsals; the sample index
    keeps counting). start_time: UTC of the first sample when the file does not say (else the
    capture's own ``start_time``; None leaves packet times null, as ``scan`` would).
    """

    live = False

    def __init__(self, capture: Capture, *, realtime: bool = False, loop: bool = False,
                 start_time: datetime | None = None, block_s: float = 0.1, queue_s: float = QUEUE_S,
                 on_event: EventCallback | None = None):
        super().__init__(capture.path, capture.sample_rate, capture.center_freq, block_s=block_s,
                         queue_s=queue_s, fmt=capture.format, on_event=on_event)
        if capture.reader is None:
            raise ValueError(f"{capture.path}: this capture has no IQ samples to replay")
        self.capture = capture
        self.realtime, self.loop = bool(realtime), bool(loop)
        self.hw = capture.hw
        st = start_time if start_time is not None else capture.start_time
        if st is not None and st.tzinfo is None:
            st = st.replace(tzinfo=timezone.utc)
        self.start_time = st

    def _open(self) -> None:
        if self.start_time is not None:
            self._set_anchor(self.start_time.timestamp(), 0)

    def _produce(self) -> None:
        t0 = time.monotonic()
        while not self._stop.is_set():
            for blk in self.capture.blocks(self.block_size):
                if self._stop.is_set():
                    return
                if self.realtime:
                    # a live source hands a block over once its last sample has been received
                    due = t0 + (self._next_index + blk.samples.size) / self.sample_rate
                    delay = due - time.monotonic()
                    if delay > 0 and self._stop.wait(delay):
                        return
                self._push(blk.samples, drop_when_full=self.realtime)
            if not self.loop or self.capture.num_samples == 0:
                return

    def capture_record(self) -> CaptureRecord:
        """The file's own capture record (its SHA-256 and duration)."""
        cap = self.capture
        return CaptureRecord(capture=cap.path, sha256=cap.sha256, format=cap.format,
                             sample_rate=cap.sample_rate, center_freq=cap.center_freq,
                             start_time=self.start_time,
                             duration=None if self.loop else cap.duration)
