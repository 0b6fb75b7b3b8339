"""Threads sharing one block's work (`keyguard monitor --workers`): the same records as one
thread, byte for byte, on a capture where several regions finish in one pass (a jammer, its
by-products and fob presses under it)."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from conftest import REPO
from keyguard.dsp.bursts import BurstDetector
from keyguard.dsp.workers import Ahead, ordered_map
from keyguard.io import open_capture
from keyguard.pipeline import ScanOptions, Scanner

SAMPLE = REPO / "captures/rolljam_sample/rolljam_sample_433.92M_250k.cu8"


def test_ordered_map_keeps_input_order_and_uses_threads():
    seen = set()

    def job(x):
        seen.add(threading.get_ident())
        return x * x

    assert ordered_map(job, range(50), workers=2) == [x * x for x in range(50)]
    assert ordered_map(job, [], workers=2) == []
    assert ordered_map(job, [3], workers=2) == [9]
    assert len(seen) >= 1


def test_ordered_map_raises_a_jobs_exception():
    def job(x):
        if x == 3:
            raise ValueError("bad item 3")
        return x

    with pytest.raises(ValueError, match="bad item 3"):
        ordered_map(job, range(6), workers=2)


def _bursts(workers):
    cap = open_capture(str(SAMPLE))
    det = BurstDetector(cap.sample_rate, cap.center_freq, workers=workers)
    out = list(det.iter_bursts(cap))
    return out, det.stats


def test_burst_detector_threads_give_the_same_bursts():
    one, stats1 = _bursts(1)
    two, stats2 = _bursts(2)
    assert len(one) == len(two) > 5
    for a, b in zip(one, two):
        assert (a.start, a.stop, a.offset_hz, a.rssi_db, a.duty_cycle) == \
            (b.start, b.stop, b.offset_hz, b.rssi_db, b.duty_cycle)
        assert a.iq.tobytes() == b.iq.tobytes()
    assert stats1 == stats2


@pytest.mark.slow  # the 8 s scene scanned twice: ~6 s
def test_scan_with_threads_gives_byte_identical_records():
    def records(workers):
        sc = Scanner(ScanOptions(workers=workers))
        # the summary's elapsed_s is wall time, the one field that may differ between runs
        return [{k: v for k, v in r.to_dict().items() if k != "elapsed_s"}
                for r in sc.scan_paths([SAMPLE])]

    assert records(1) == records(2)


def test_ahead_serves_submitted_items_and_forgets_the_rest():
    calls = []

    def job(x):
        calls.append(x)
        if x == "bad":
            raise ValueError("bad item")
        return x.upper()

    ahead = Ahead(job)
    a, b, c = "a", "b", "bad"
    ahead.submit([a, b, c])
    ahead.submit([a])  # already under way: not a second job
    assert ahead.take(a).result() == "A"
    assert ahead.take(a) is None  # taken once
    assert ahead.take("never submitted") is None
    with pytest.raises(ValueError, match="bad item"):
        ahead.take(c).result()  # a job's exception comes out where its result is asked for
    ahead.keep([])  # b is no longer wanted
    assert ahead.take(b) is None
    assert ahead.served == 2
    assert calls.count("a") == 1


def _stream_records(workers, offset):
    """The bundled scene through a live session that restarted at ``offset`` samples, 64 k
    samples a block; records and how many bursts were measured ahead."""
    cap = open_capture(str(SAMPLE))
    sc = Scanner(ScanOptions(workers=workers))
    sess = sc.stream("live", cap.sample_rate, cap.center_freq)
    if offset:
        sess = sess.restarted(offset)
    recs = []
    for block in cap.blocks(1 << 16):
        block = replace(block, start=block.start + offset)
        recs += sess.process(block)
    recs += sess.finish()
    served = sess._ahead.served if sess._ahead is not None else 0
    return [r.to_dict() for r in recs], served


@pytest.mark.parametrize("offset", [0, 123_457])
def test_bursts_measured_ahead_give_the_same_records(offset):
    one, _ = _stream_records(1, offset)
    two, served = _stream_records(2, offset)
    assert served > 0  # bursts held behind the jammer were measured while they waited
    assert len(one) > 5
    assert one == two
