"""Evidence clips: the bounded ring of recent IQ (wrap-around, overlap, gaps) and SigMF clips
that keyguard's own reader opens again, with the alert as an annotation and a valid SHA-512."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from keyguard.alerts.evidence import EvidenceRecorder, IQRingBuffer
from keyguard.events import Alert
from keyguard.io import open_capture
from keyguard.io.sigmf_io import verify_sha512
from keyguard.sdr.replay import ReplaySource
from keyguard.io.capture import Capture
from keyguard.sdr.source import StreamBlock

RATE = 10_000.0


def cu8_like(n: int, seed: int = 0) -> np.ndarray:
    """Random samples exactly representable as cu8 (so a cu8 ring is lossless)."""
    b = np.random.default_rng(seed).integers(0, 256, 2 * n).astype(np.float32)
    return ((b - 127.5) / 127.5).view(np.complex64)


def blocks(x: np.ndarray, size: int, t0: datetime | None = None, overlap: int = 0):
    pos = 0
    while pos < x.size:
        start = max(0, pos - overlap)
        yield StreamBlock(start=start, samples=x[start:pos + size], overlap=pos - start,
                          sample_rate=RATE,
                          time=None if t0 is None else t0 + timedelta(seconds=start / RATE))
        pos += size


@pytest.mark.parametrize("store", ["cf32", "cu8"])
def test_ring_keeps_the_newest_samples_across_wrap_around_and_overlap(store):
    x = cu8_like(25_000)
    ring = IQRingBuffer(RATE, seconds=0.7, store=store)  # 7000 samples
    for b in blocks(x, 1300, overlap=200):
        ring.push(b)
    assert ring.end == 25_000 and ring.first == 18_000 and ring.held == 7000
    first, got = ring.samples(17_000, 21_000)  # clipped to what is held
    assert first == 18_000 and np.array_equal(got, x[18_000:21_000])
    first, got = ring.samples(0, 10**9)
    assert np.array_equal(got, x[18_000:])
    assert ring._buf.nbytes == 7000 * (2 if store == "cu8" else 8)  # bounded memory


def test_ring_holds_lost_samples_as_zeros_and_lists_the_gap():
    x = cu8_like(6000)
    ring = IQRingBuffer(RATE, seconds=1.0)
    ring.push(StreamBlock(start=0, samples=x[:2000], overlap=0, sample_rate=RATE))
    ring.push(StreamBlock(start=3000, samples=x[3000:6000], overlap=0, sample_rate=RATE,
                          gap_before=1000))
    first, got = ring.samples(0, 6000)
    assert first == 0 and np.array_equal(got[:2000], x[:2000])
    assert not got[2000:3000].any() and np.array_equal(got[3000:], x[3000:])
    assert ring.gaps == [(2000, 3000)]


def test_clip_around_an_alert_reads_back_with_its_annotation_and_hash(tmp_path):
    x = cu8_like(100_000, seed=3)  # 10 s
    t0 = datetime(2024, 3, 1, 8, 0, 0, tzinfo=timezone.utc)
    written = []
    rec = EvidenceRecorder(tmp_path, RATE, center_freq=433.92e6, hw="RTL-SDR (R820T)",
                           source="rtl_tcp://127.0.0.1:1234", store="cu8",
                           on_clip=written.append)
    a = Alert("replay", "rtl_tcp://127.0.0.1:1234", 5.0, 5.3, "high", 0.91,
              "code seen 4 s earlier replayed", identity="keeloq:0D36C681",
              evidence={"first_seen": {"t": 1.0}}).to_dict()
    for i, b in enumerate(blocks(x, 1000, t0)):
        rec.push(b)
        if b.end == 60_000:  # the detector raises the alert 0.7 s after the burst ended
            rec.request(a)
            assert not written  # the 2 s after the alert have not been received yet
    assert len(written) == 1
    clip = written[0]
    assert clip.sample_start == 30_000 and clip.num_samples == 73_000 - 30_000  # ±2 s
    cap = open_capture(clip.meta_path)
    assert cap.format == "sigmf" and cap.sample_rate == RATE
    assert cap.center_freq == 433.92e6 and cap.hw == "RTL-SDR (R820T)"
    assert cap.start_time == t0 + timedelta(seconds=3)
    assert np.array_equal(cap.read(), x[30_000:73_000])
    assert verify_sha512(cap) is True
    meta = json.loads(clip.meta_path.read_text())
    sha = hashlib.sha512(clip.data_path.read_bytes()).hexdigest()
    assert meta["global"]["core:sha512"] == sha == clip.sha512
    ann = meta["annotations"][0]
    assert ann["core:label"] == "replay" and ann["core:sample_start"] == 20_000
    assert ann["core:sample_count"] == 3000
    assert ann["keyguard:alert"] == json.loads(json.dumps(a))
    assert ann["keyguard:source_sample_start"] == 30_000


def test_clip_at_the_end_of_a_stream_and_with_a_gap(tmp_path):
    x = cu8_like(50_000, seed=4)
    cap = Capture.from_array(x, RATE, path="rehearsal.cu8")
    rec = EvidenceRecorder(tmp_path, RATE, source=cap.path)
    with ReplaySource(cap, block_s=0.1) as src:
        for b in src.blocks():
            rec.push(b)
    rec.request(Alert("jamming", cap.path, 4.5, 4.9, "medium", 0.8, "carrier").to_dict())
    clips = rec.finish()  # the stream ended before t_end + 2 s: written with what there is
    assert len(clips) == 1 and clips[0].sample_start == 25_000
    assert clips[0].num_samples == 25_000
    rec2 = EvidenceRecorder(tmp_path / "gap", RATE, source=cap.path)
    for b in blocks(x, 1000):
        if b.start == 20_000:
            continue
        rec2.push(b)
    rec2.request(Alert("jamming", cap.path, 2.0, 2.2, "medium", 0.8, "carrier").to_dict())
    clip = rec2.finish()[0]
    meta = json.loads(clip.meta_path.read_text())
    gaps = [a for a in meta["annotations"] if a["core:label"] == "dropped samples"]
    spans = [(g["core:sample_start"], g["core:sample_count"]) for g in gaps]
    assert spans == [(20_000 - clip.sample_start, 1000)]


def test_a_second_run_does_not_overwrite_and_a_failed_write_is_reported(tmp_path):
    x = cu8_like(60_000, seed=5)
    a = Alert("clone", "cap", 3.0, 3.1, "high", 0.9, "foreign fingerprint").to_dict()
    names = []
    for run in range(2):
        rec = EvidenceRecorder(tmp_path / "ev", RATE, source="cap")
        for b in blocks(x, 2000):
            rec.push(b)
        rec.request(a)
        names += [c.meta_path.name for c in rec.finish()]
    assert len(set(names)) == 2 and all((tmp_path / "ev" / n).exists() for n in names)

    errors: list[str] = []
    rec = EvidenceRecorder(tmp_path / "gone", RATE, on_error=errors.append)
    (tmp_path / "gone").rmdir()
    (tmp_path / "gone").write_text("not a directory any more")
    for b in blocks(x, 2000):
        rec.push(b)
    rec.request(a)
    assert rec.finish() == [] and rec.failed == 1
    assert len(errors) == 1 and "not written" in errors[0]
