"""File replay as a stream source: exact samples, overlap, times, real-time pacing and the
counting of blocks dropped when the consumer cannot keep up."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from keyguard.io import open_capture
from keyguard.io.capture import Capture
from keyguard.sdr.replay import ReplaySource


def tone(n: int, rate: float) -> np.ndarray:
    t = np.arange(n) / rate
    return (0.5 * np.exp(2j * np.pi * 1000 * t)).astype(np.complex64)


def test_replay_yields_the_whole_file_in_order(shared_captures):
    path = shared_captures / "rtl_433_tests/tests/generic_remote/01/gfile003.cu8"
    cap = open_capture(path)
    src = ReplaySource(cap, block_s=0.05)
    with src:
        blocks = list(src.blocks())
    assert np.array_equal(np.concatenate([b.samples for b in blocks]), cap.read())
    assert all(b.gap_before == 0 and b.overlap == 0 for b in blocks)
    assert blocks[1].start == blocks[0].samples.size
    rec = src.capture_record().to_dict()
    assert rec["capture"] == str(path) and rec["sha256"] == cap.sha256
    assert rec["format"] == "cu8" and rec["duration"] == pytest.approx(cap.duration)
    st = src.stats
    assert st.samples_received == cap.num_samples and st.samples_dropped == 0


def test_overlap_repeats_the_tail_of_the_previous_block():
    x = tone(10_000, 100e3)
    src = ReplaySource(Capture.from_array(x, 100e3), block_s=0.02)  # 2000-sample blocks
    with src:
        blocks = list(src.blocks(overlap=300))
    assert blocks[0].overlap == 0 and all(b.overlap == 300 for b in blocks[1:])
    for b in blocks:
        assert np.array_equal(b.samples, x[b.start:b.end])


def test_block_times_follow_the_start_time():
    t0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    x = tone(10_000, 100e3)
    src = ReplaySource(Capture.from_array(x, 100e3), start_time=t0, block_s=0.02)
    with src:
        blocks = list(src.blocks())
    assert blocks[3].time == t0 + timedelta(seconds=blocks[3].start / 100e3)
    assert src.capture_record().to_dict()["start_time"] == "2024-05-01T12:00:00.000000Z"
    undated = ReplaySource(Capture.from_array(x, 100e3))
    with undated:
        assert all(b.time is None for b in undated.blocks())


def test_realtime_replay_takes_the_capture_duration():
    x = tone(30_000, 100e3)  # 0.3 s
    src = ReplaySource(Capture.from_array(x, 100e3), realtime=True, block_s=0.02)
    t0 = time.monotonic()
    with src:
        n = sum(b.samples.size for b in src.blocks())
    assert n == 30_000
    assert 0.25 < time.monotonic() - t0 < 1.0


def test_realtime_replay_drops_and_counts_blocks_a_slow_consumer_misses():
    x = tone(40_000, 100e3)  # 0.4 s in 20 blocks of 0.02 s
    src = ReplaySource(Capture.from_array(x, 100e3), realtime=True, block_s=0.02, queue_s=0.04)
    got = []
    with src:
        for b in src.blocks():
            got.append(b)
            time.sleep(0.06)  # three times slower than real time
    st = src.stats
    kept = sum(b.samples.size for b in got)
    assert st.samples_dropped > 0 and st.gaps >= 1
    assert kept + st.samples_dropped == 40_000  # every sample is delivered or counted
    # each gap inside the stream is announced by the block after it; drops after the last
    # delivered block have no block to announce them and show in the counters alone
    assert any(b.gap_before for b in got)
    for prev, b in zip(got, got[1:]):
        assert b.start == prev.end + b.gap_before
    trailing = 40_000 - got[-1].end
    assert got[0].gap_before == got[0].start
    assert sum(b.gap_before for b in got) + trailing == st.samples_dropped
    for b in got:  # the sample clock still says where each block was in the file
        assert np.array_equal(b.samples, x[b.start:b.end])


def test_fast_replay_never_drops_even_with_a_slow_consumer():
    x = tone(20_000, 100e3)
    src = ReplaySource(Capture.from_array(x, 100e3), block_s=0.01, queue_s=0.02)
    with src:
        n = 0
        for b in src.blocks():
            n += b.samples.size
            time.sleep(0.005)
    assert n == 20_000 and src.stats.samples_dropped == 0


def test_loop_keeps_counting_samples_until_stopped():
    x = tone(5_000, 100e3)
    src = ReplaySource(Capture.from_array(x, 100e3), loop=True, block_s=0.02)
    blocks = []
    with src:
        for b in src.blocks():
            blocks.append(b)
            if b.end >= 12_000:
                src.stop()
    assert blocks[0].start == 0 and blocks[-1].end >= 12_000
    for a, b in zip(blocks, blocks[1:]):
        assert b.start == a.end and b.gap_before == 0
    stream = np.concatenate([b.samples for b in blocks])
    assert np.array_equal(stream[:15_000], np.tile(x, 3)[:stream.size][:15_000])
