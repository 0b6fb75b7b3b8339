"""Raw IQ files: conversions, partial samples, NaN/Inf, sidecar metadata, overlap, read-only."""

from __future__ import annotations

import hashlib
import os
import tracemalloc

import numpy as np
import pytest

from keyguard.errors import CaptureFormatError, CaptureNotFoundError
from keyguard.io import detect_format, open_capture, write_iq
from keyguard.io.levels import measure_levels
from keyguard.io.sigmf_io import verify_sha512, write_sigmf


def test_each_raw_format_maps_to_full_scale(tmp_path):
    (tmp_path / "a.cu8").write_bytes(bytes([0, 255, 127, 128]))
    (tmp_path / "a.cs8").write_bytes(np.array([-128, 127, 0, 64], np.int8).tobytes())
    (tmp_path / "a.cs16").write_bytes(np.array([-32768, 32767, 0, 16384], "<i2").tobytes())
    (tmp_path / "a.cf32").write_bytes(np.array([-1.0, 0.5, 2.0, 0.25], "<f4").tobytes())
    want = {
        "cu8": [-1 + 1j, (127 - 127.5) / 127.5 + 1j * (128 - 127.5) / 127.5],
        "cs8": [-1 + 127 / 128 * 1j, 0.5j],
        "cs16": [-1 + 32767 / 32768 * 1j, 0.5j],
        "cf32": [-1 + 0.5j, 2 + 0.25j],
    }
    for fmt, values in want.items():
        c = open_capture(tmp_path / f"a.{fmt}")
        x = c.read()
        assert c.format == fmt and x.dtype == np.complex64 and c.num_samples == 2
        np.testing.assert_allclose(x, values, rtol=0, atol=1e-7)


def test_aliases_and_forced_formats(tmp_path):
    raw = bytes(range(8))
    for name in ("g.data", "g.complex16u"):
        (tmp_path / name).write_bytes(raw)
        assert open_capture(tmp_path / name).format == "cu8"
    (tmp_path / "g.bin").write_bytes(raw)
    with pytest.raises(CaptureFormatError, match="cannot tell the sample format"):
        open_capture(tmp_path / "g.bin")
    assert open_capture(f"cs16:{tmp_path / 'g.bin'}").num_samples == 2
    assert open_capture(tmp_path / "g.bin", fmt="CF32").num_samples == 1
    with pytest.raises(CaptureFormatError, match="unknown input format"):
        open_capture(tmp_path / "g.bin", fmt="mp3")


def test_trailing_partial_sample_is_a_warning(tmp_path):
    p = tmp_path / "cut.cs16"
    p.write_bytes(np.arange(10, dtype="<i2").tobytes() + b"\x01\x02\x03")  # 5 samples + 3 bytes
    c = open_capture(p)
    assert c.num_samples == 5 and c.read().size == 5
    assert c.warnings == ["ignored 3 trailing bytes (a partial 4-byte cs16 sample: recording cut off?)"]
    (tmp_path / "tiny.cf32").write_bytes(b"\0" * 7)
    with pytest.raises(CaptureFormatError, match="no complete cf32 sample"):
        open_capture(tmp_path / "tiny.cf32")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_in_cf32_are_format_errors(tmp_path, bad):
    x = np.zeros(1000, np.complex64)
    x[700] = complex(0, bad)
    p = tmp_path / "bad.cf32"
    p.write_bytes(x.tobytes())
    c = open_capture(p)
    assert c.read(0, 600).size == 600  # blocks before the bad sample read fine
    with pytest.raises(CaptureFormatError, match="sample 700 is NaN or infinite"):
        for _ in c.blocks(block_size=256):
            pass


def test_missing_empty_and_directory(tmp_path):
    with pytest.raises(CaptureNotFoundError, match="no such file"):
        open_capture(tmp_path / "nope.cu8")
    with pytest.raises(CaptureNotFoundError, match="is a directory"):
        open_capture(tmp_path)
    (tmp_path / "empty.cu8").write_bytes(b"")
    with pytest.raises(CaptureFormatError, match="empty"):
        open_capture(tmp_path / "empty.cu8")


def test_blocks_overlap_so_a_burst_across_a_boundary_is_whole(tmp_path):
    n, block, burst_at, burst_len = 10_000, 1024, 3 * 1024 - 40, 100
    x = np.zeros(n, np.complex64)
    x[burst_at:burst_at + burst_len] = 0.5
    p = tmp_path / "b.cf32"
    p.write_bytes(x.tobytes())
    c = open_capture(p)
    blocks = list(c.blocks(block_size=block, overlap=128))
    # new samples tile the capture exactly
    assert np.array_equal(np.concatenate([b.samples[b.overlap:] for b in blocks]), x)
    assert all(b.samples[:b.overlap].tolist() == x[b.start:b.start + b.overlap].tolist() for b in blocks)
    whole = [b for b in blocks if b.start <= burst_at and burst_at + burst_len <= b.end]
    assert whole and np.count_nonzero(whole[0].samples) == burst_len
    assert not any(b.start <= burst_at and burst_at + burst_len <= b.end
                   for b in c.blocks(block_size=block, overlap=0))


def test_sidecar_sigmf_meta_supplies_metadata(tmp_path):
    x = (np.exp(1j * np.linspace(0, 20, 4000)) * 0.5).astype(np.complex64)
    write_sigmf(tmp_path / "rec", x, 2.048e6, fmt="cu8", center_freq=868.3e6,
                start_time="2024-05-01T10:00:00Z", hw="RTL-SDR v3",
                annotations=[{"core:sample_start": 10, "core:sample_count": 5, "core:label": "x"}])
    raw = tmp_path / "rec.cu8"
    (tmp_path / "rec.sigmf-data").rename(raw)
    c = open_capture(raw)
    assert c.format == "cu8" and c.sample_rate == 2.048e6 and c.center_freq == 868.3e6
    assert c.start_time.isoformat() == "2024-05-01T10:00:00+00:00" and c.hw == "RTL-SDR v3"
    assert c.assumed == () and c.annotations[0]["core:label"] == "x"
    assert verify_sha512(c) is True  # the sidecar's core:sha512 covers the raw file
    assert c.extra["metadata_sources"]["sample_rate"] == "file"
    assert open_capture(raw, sample_rate=1e6).sample_rate == 1e6  # explicit beats the sidecar
    cs16 = tmp_path / "rec.cs16"
    raw.rename(cs16)
    (tmp_path / "rec.sigmf-meta").rename(tmp_path / "rec.sigmf-meta.bak")
    assert open_capture(cs16).assumed == ("sample_rate", "center_freq")


def _make(tmp_path, kind: str):
    x = (np.random.default_rng(1).standard_normal(5000) * 0.1).astype(np.complex64)
    if kind in ("cu8", "cs8", "cs16", "cf32"):
        write_iq(tmp_path / f"r_433.92M_250k.{kind}", x, kind)
        return tmp_path / f"r_433.92M_250k.{kind}"
    if kind == "sigmf":
        return write_sigmf(tmp_path / "r", x, 1e6, fmt="cs16", annotations=[{"core:sample_start": 1}])
    if kind == "archive":
        return write_sigmf(tmp_path / "r.sigmf", x, 1e6)
    if kind == "wav":
        from scipy.io import wavfile
        wavfile.write(tmp_path / "r.wav", 250000, np.stack([x.real, x.imag], axis=1))
        return tmp_path / "r.wav"
    if kind == "sub":
        (tmp_path / "r.sub").write_text("Filetype: Flipper SubGhz RAW File\nVersion: 1\n"
                                        "Frequency: 433920000\nProtocol: RAW\nRAW_Data: 400 -400 800\n")
        return tmp_path / "r.sub"
    (tmp_path / "r.ook").write_text(";pulse data\n;ook 1 pulses\n400 800\n;end\n")
    return tmp_path / "r.ook"


@pytest.mark.parametrize("kind", ["cu8", "cs8", "cs16", "cf32", "sigmf", "archive", "wav", "sub", "ook"])
def test_inputs_are_never_modified(tmp_path, kind):
    p = _make(tmp_path, kind)
    files = sorted(f for f in tmp_path.iterdir() if f.is_file())
    for f in files:
        os.chmod(f, 0o444)  # read-only on disk: opening any for writing would fail
    state = lambda: [(f.stat().st_mtime_ns, hashlib.sha256(f.read_bytes()).hexdigest()) for f in files]  # noqa: E731
    before = state()
    c = open_capture(p)
    for _ in c.blocks(block_size=1000, overlap=10):
        pass
    measure_levels(c)
    assert c.sha256 and verify_sha512(c) in (None, True)
    assert state() == before and sorted(f for f in tmp_path.iterdir() if f.is_file()) == files


def test_detect_format_from_contents(tmp_path):
    (tmp_path / "a").write_bytes(b"Filetype: Flipper SubGhz RAW File\nVersion: 1\n")
    (tmp_path / "b").write_bytes(b";pulse data\n;version 1\n")
    (tmp_path / "c").write_bytes(b"RIFF\0\0\0\0WAVEfmt ")
    (tmp_path / "d").write_bytes(b'{"global": {}}')
    assert [detect_format(tmp_path / k) for k in "abcd"] == ["sub", "ook", "wav", "sigmf"]


def test_streaming_memory_is_one_block(tmp_path):
    p = tmp_path / "big.cu8"
    with open(p, "wb") as f:
        f.truncate(64 << 20)  # 64 MiB, 32 Mi samples (sparse: fast to make)
    c = open_capture(p)
    tracemalloc.start()
    try:
        total = 0
        for b in c.blocks(overlap=1024):
            total += b.samples.size - b.overlap
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == 32 << 20
    assert peak < 16 << 20, f"peak traced memory {peak / 2**20:.1f} MiB"
