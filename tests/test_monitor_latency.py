"""The live pipeline (StreamSession, as `keyguard monitor` drives it) on the bundled RollJam scene:
every alert comes out within 1 s of stream time after the transmission completing it, and the
alerts are those `keyguard scan` gives for the same samples."""

from __future__ import annotations

import pytest

from conftest import REPO
from keyguard.events import Alert
from keyguard.io import open_capture
from keyguard.pipeline import ScanOptions, Scanner

SAMPLE = REPO / "captures/rolljam_sample/rolljam_sample_433.92M_250k.cu8"
BLOCK_S = 0.1  # the live sources' block (keyguard.sdr.source: block_s)


def _opts():
    # learning unknown codes looks ahead over the whole file, which a stream cannot
    return ScanOptions(learn_unknown=False)


def _live(cap):
    """[(stream time the alert came out, alert)] feeding the capture in 0.1 s blocks."""
    sc = Scanner(_opts())
    session = sc.stream(cap.path, cap.sample_rate, cap.center_freq, cap.start_time)
    out = []
    n = int(round(BLOCK_S * cap.sample_rate))
    for block in cap.blocks(n):
        pos = (block.start + block.samples.size) / cap.sample_rate
        out += [(pos, r) for r in session.process(block) if isinstance(r, Alert)]
    out += [(cap.duration, r) for r in session.finish() if isinstance(r, Alert)]
    return out


@pytest.fixture(scope="module")
def live():
    cap = open_capture(str(SAMPLE))
    return cap, _live(cap)


@pytest.mark.slow  # the 8 s scene through the whole pipeline: ~3 s, ~6 s with the scan below
def test_every_alert_leaves_within_a_second_of_stream_time(live):
    cap, timed = live
    assert sorted(a.kind for _, a in timed) == ["jamming", "rolljam", "rolljam"]
    for at, a in timed:
        # decided from the samples up to `at`, before the stream ended
        assert at < cap.duration
        assert 0.0 < at - a.t_end < 1.0, (a.kind, a.t, a.t_end, at)


@pytest.mark.slow
def test_stream_and_scan_give_the_same_alerts(live):
    _cap, timed = live
    scanned = [r for r in Scanner(_opts()).scan_paths([SAMPLE]) if isinstance(r, Alert)]

    def canon(alerts):
        return sorted(repr(sorted(a.to_dict().items())) for a in alerts)

    assert canon(a for _, a in timed) == canon(scanned)


def test_source_reports_its_queue_high_water_mark():
    # a consumer three times slower than real time fills the queue to capacity (and drops);
    # one that keeps up leaves it nearly empty
    import time

    import numpy as np

    from keyguard.io.capture import Capture
    from keyguard.sdr.replay import ReplaySource

    x = (np.exp(2j * np.pi * 0.01 * np.arange(40_000))).astype(np.complex64)

    def run(pause_s):
        src = ReplaySource(Capture.from_array(x, 100e3), realtime=True, block_s=0.02,
                           queue_s=0.08)
        with src:
            for _ in src.blocks():
                time.sleep(pause_s)
        return src.stats

    slow, fast = run(0.06), run(0.0)
    assert slow.queue_capacity == fast.queue_capacity == 4
    assert slow.queue_high_water == 4 and slow.samples_dropped > 0
    assert fast.queue_high_water <= 2 and fast.samples_dropped == 0
