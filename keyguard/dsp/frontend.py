"""The whole IQ front end in one call: capture → bursts → pulse trains, in time order.

:class:`FrontEnd` holds the options (burst detection and demodulation) and runs a capture
block by block in bounded memory; :func:`iter_pulse_trains` is the one-line form. Pulse
captures (Flipper ``.sub``, rtl_433 ``.ook``) already hold pulse trains and pass straight
through. Output is deterministic: the same capture and options give the same trains.

Each IQ pulse train carries, besides its levels, ``meta`` entries from the front end:
``offset_hz`` (carrier, Hz from the capture centre), ``channel_snr_db``, ``decision_snr_db``,
``run_margin`` (per-run decision margin, see :mod:`keyguard.dsp.demod`), ``smoothing_us``,
``grid_us`` (chip grid when the weak-signal chip decisions were used), ``burst_start`` /
``burst_stop`` (capture sample indices), ``duty_cycle``, ``bandwidth_hz``, ``continuous``
(jammer-like), ``truncated_start`` / ``truncated_end`` and, for FSK, ``fsk_tones_hz``.
"""

from __future__ import annotations

import heapq
from typing import Iterator

from keyguard.dsp.bursts import Burst, BurstDetector
from keyguard.dsp.demod import demodulate, held_fob
from keyguard.io.capture import DEFAULT_BLOCK, Capture
from keyguard.pulse_train import PulseTrain

#: a train may start a little before its burst's first carrier-on sample (FSK carrier spans
#: are measured with their own smoothing); trains are held this long (s) to stay in order
_ORDER_SLACK_S = 0.005


class FrontEnd:
    """Burst detection, channelisation and demodulation of IQ captures.

    block_size: samples per block read from the capture (memory is a few blocks plus the
    longest burst kept whole). modulation: "OOK", "FSK" or None (automatic per burst).
    demodulate_continuous: also demodulate jammer-like bursts (default: they are reported
    by :meth:`bursts` but give no pulse train). Every other keyword goes to
    :class:`~keyguard.dsp.bursts.BurstDetector` (``min_snr_db``, ``channel_bw_hz``, ...).
    """

    def __init__(self, *, block_size: int = DEFAULT_BLOCK, modulation: str | None = None,
                 demodulate_continuous: bool = False, **detector_options):
        if block_size <= 0:
            raise ValueError("block_size must be positive")
        if modulation is not None and modulation.upper() not in ("OOK", "FSK"):
            raise ValueError(f"modulation must be 'OOK', 'FSK' or None, not {modulation!r}")
        self.block_size = int(block_size)
        self.modulation = modulation.upper() if modulation else None
        self.demodulate_continuous = demodulate_continuous
        self.detector_options = dict(detector_options)
        # fail on a bad option now, not at the first capture
        BurstDetector(250e3, **self.detector_options)

    def detector(self, capture: Capture) -> BurstDetector:
        """A fresh burst detector for this capture's rate and centre."""
        return BurstDetector(capture.sample_rate, capture.center_freq, **self.detector_options)

    def bursts(self, capture: Capture) -> Iterator[Burst]:
        """Every burst of an IQ capture, jammer-like ones included, in time order."""
        if capture.is_pulse_capture:
            return
        yield from self.detector(capture).iter_bursts(capture, self.block_size)

    def pulse_trains(self, capture: Capture) -> Iterator[PulseTrain]:
        """Every pulse train of a capture in time order (pulse captures pass through)."""
        if capture.is_pulse_capture:
            yield from sorted(capture.pulse_trains, key=lambda pt: pt.t)
            return
        # Bursts arrive ordered by start and a burst's trains start at (or just before) it, so
        # a train can be released once a burst starts later than it by the slack.
        pending: list = []
        seq = 0
        for burst in self.bursts(capture):
            while pending and pending[0][0] <= burst.t - _ORDER_SLACK_S:
                yield heapq.heappop(pending)[2]
            if (burst.continuous and not self.demodulate_continuous
                    and not held_fob(burst)):
                continue  # a jammer's carrier; a held button close by is keyed and stays
            for pt in demodulate(burst, self.modulation):
                heapq.heappush(pending, (pt.t, seq, pt))
                seq += 1
        while pending:
            yield heapq.heappop(pending)[2]


def iter_pulse_trains(capture: Capture, **options) -> Iterator[PulseTrain]:
    """The pulse trains of a capture, in time order (``options`` as for :class:`FrontEnd`)."""
    return FrontEnd(**options).pulse_trains(capture)
