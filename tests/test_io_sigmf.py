"""SigMF: pairs, archives, metadata fields, core:sha512, and the errors for broken recordings."""

from __future__ import annotations

import hashlib
import json
import tarfile

import numpy as np
import pytest

from keyguard.errors import CaptureFormatError, CaptureNotFoundError
from keyguard.io import Capture, open_capture
from keyguard.io.sigmf_io import verify_sha512, write_sigmf


def tone(n: int = 3000) -> np.ndarray:
    return (0.7 * np.exp(2j * np.pi * 0.01 * np.arange(n))).astype(np.complex64)


ANN = [{"core:sample_start": 100, "core:sample_count": 50, "core:label": "burst"},
       {"core:sample_start": 7, "core:comment": "no count"}]


@pytest.mark.parametrize("fmt, datatype", [("cf32", "cf32_le"), ("cs16", "ci16_le"),
                                           ("cu8", "cu8"), ("cs8", "ci8")])
def test_pair_round_trip_with_metadata(tmp_path, fmt, datatype):
    x = tone()
    meta_path = write_sigmf(tmp_path / "rec", x, 1e6, fmt=fmt, center_freq=433.92e6,
                            start_time="2024-05-01T12:00:00.25Z", hw="RTL-SDR Blog v4",
                            annotations=ANN, description="test")
    md = json.loads(meta_path.read_text())
    data = (tmp_path / "rec.sigmf-data").read_bytes()
    assert md["global"]["core:datatype"] == datatype
    assert md["global"]["core:sha512"] == hashlib.sha512(data).hexdigest()
    assert md["captures"][0]["core:datetime"] == "2024-05-01T12:00:00.250000Z"
    for spec in (meta_path, tmp_path / "rec.sigmf-data", tmp_path / "rec"):
        c = open_capture(spec)
        assert c.format == "sigmf" and c.sample_rate == 1e6 and c.center_freq == 433.92e6
        assert c.start_time.isoformat() == "2024-05-01T12:00:00.250000+00:00"
        assert c.hw == "RTL-SDR Blog v4" and c.assumed == ()
        assert [a["core:sample_start"] for a in c.annotations] == [7, 100]
        assert c.extra["sample_format"] == fmt
        assert c.sha256 == hashlib.sha256(data).hexdigest()  # the data file's bytes
        tol = {"cf32": 0, "cs16": 1 / 32768, "cu8": 1 / 127.5, "cs8": 1 / 128}[fmt]
        np.testing.assert_allclose(c.read(), x, rtol=0, atol=tol)
        assert verify_sha512(c) is True


def test_archive_round_trip_reads_in_place(tmp_path):
    x = tone(5000)
    arc = write_sigmf(tmp_path / "rec.sigmf", x, 250e3, fmt="cs16", center_freq=315e6, annotations=ANN)
    assert tarfile.is_tarfile(arc)
    c = open_capture(arc)
    assert c.format == "sigmf" and c.num_samples == 5000 and c.center_freq == 315e6
    assert c.start_time is None and c.annotations[1]["core:label"] == "burst"
    np.testing.assert_allclose(c.read(), x, atol=1 / 32768)
    assert c.reader.path == str(arc) and c.reader.offset > 0  # no extraction
    assert verify_sha512(c) is True
    assert c.sha256 == hashlib.sha256(arc.read_bytes()).hexdigest()


def test_stream_write_from_blocks_and_refuses_to_overwrite(tmp_path):
    x = tone(10_000)
    src = Capture.from_array(x, 1e6)
    write_sigmf(tmp_path / "s", src.blocks(block_size=999, overlap=17), 1e6)
    assert np.array_equal(open_capture(tmp_path / "s.sigmf-meta").read(), x)
    with pytest.raises(FileExistsError):
        write_sigmf(tmp_path / "s", x, 1e6)


def test_sha512_mismatch_is_detected(tmp_path):
    write_sigmf(tmp_path / "r", tone(), 1e6)
    data = tmp_path / "r.sigmf-data"
    b = bytearray(data.read_bytes())
    b[0] ^= 1
    data.write_bytes(bytes(b))
    assert verify_sha512(open_capture(tmp_path / "r.sigmf-meta")) is False


def _meta(tmp_path, glob=None, captures=None, data: bytes | None = b"\0" * 64):
    g = {"core:datatype": "cf32_le", "core:sample_rate": 1e6, "core:version": "1.0.0"}
    g.update(glob or {})
    (tmp_path / "m.sigmf-meta").write_text(json.dumps({"global": g, "captures": captures or
                                                       [{"core:sample_start": 0}], "annotations": []}))
    if data is not None:
        (tmp_path / "m.sigmf-data").write_bytes(data)
    return tmp_path / "m.sigmf-meta"


def test_missing_data_file(tmp_path):
    with pytest.raises(CaptureNotFoundError, match="m.sigmf-data is missing"):
        open_capture(_meta(tmp_path, data=None))
    with pytest.raises(CaptureNotFoundError, match="core:dataset"):
        open_capture(_meta(tmp_path, {"core:dataset": "other.bin"}))


@pytest.mark.parametrize("datatype, words", [("cq16_le", "unknown SigMF datatype 'cq16_le'"),
                                             ("banana", "unknown SigMF datatype"),
                                             ("rf32_le", "real-valued")])
def test_bad_datatypes(tmp_path, datatype, words):
    with pytest.raises(CaptureFormatError, match=words):
        open_capture(_meta(tmp_path, {"core:datatype": datatype}))


def test_other_bad_metadata(tmp_path):
    with pytest.raises(CaptureFormatError, match="sample rate"):
        open_capture(_meta(tmp_path, {"core:sample_rate": 0}))
    with pytest.raises(CaptureFormatError, match="2 channels"):
        open_capture(_meta(tmp_path, {"core:num_channels": 2}))
    p = _meta(tmp_path)
    p.write_text('{"global": {"core:datatype": ')
    with pytest.raises(CaptureFormatError, match="not valid JSON"):
        open_capture(p)
    (tmp_path / "only.sigmf-data").write_bytes(b"\0" * 8)
    with pytest.raises(CaptureNotFoundError, match="no SigMF metadata"):
        open_capture(tmp_path / "only.sigmf-data")


def test_header_bytes_segments_and_missing_rate(tmp_path):
    payload = np.array([0.5 + 0.25j, -0.5j], np.complex64).tobytes()
    p = _meta(tmp_path, {"core:trailing_bytes": 3}, captures=[
        {"core:sample_start": 0, "core:header_bytes": 16, "core:frequency": 868e6},
        {"core:sample_start": 1, "core:frequency": 869e6}], data=b"H" * 16 + payload + b"end")
    c = open_capture(p)
    assert c.read().tolist() == [0.5 + 0.25j, -0.5j] and c.center_freq == 868e6
    assert any("centre frequencies" in w for w in c.warnings)
    md = json.loads(p.read_text())
    del md["global"]["core:sample_rate"]
    p.write_text(json.dumps(md))
    c = open_capture(p)
    assert c.sample_rate == 1e6 and c.assumed == ("sample_rate",)  # 868 MHz stated: 1 Msps default


def test_compressed_archive_is_a_clear_error(tmp_path):
    import gzip
    (tmp_path / "x.sigmf").write_bytes(gzip.compress(b"not a tar"))
    with pytest.raises(CaptureFormatError, match="uncompressed tar"):
        open_capture(tmp_path / "x.sigmf")
