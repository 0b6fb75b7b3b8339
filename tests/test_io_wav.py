"""WAV I/Q recordings (SDR#, HDSDR): sample formats, metadata from name and auxi chunk, errors."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from scipy.io import wavfile

from keyguard.errors import CaptureFormatError
from keyguard.io import open_capture


def iq(n=2000):
    return (0.6 * np.exp(2j * np.pi * 0.013 * np.arange(n))).astype(np.complex64)


@pytest.mark.parametrize("dtype, tol", [(np.uint8, 1 / 127.5), (np.int16, 1 / 32768),
                                        (np.float32, 0), (np.int32, 1e-7)])
def test_two_channel_wav_reads_as_iq(tmp_path, dtype, tol):
    x = iq()
    c2 = np.stack([x.real, x.imag], axis=1)
    if dtype == np.uint8:
        data = np.rint(c2 * 127.5 + 127.5).astype(np.uint8)
    elif dtype == np.int16:
        data = np.rint(c2 * 32768).astype(np.int16)
    elif dtype == np.int32:
        data = np.rint(c2.astype(np.float64) * 2**31).astype(np.int32)
    else:
        data = c2.astype(np.float32)
    p = tmp_path / "SDRSharp_20230501_101500Z_433920000Hz_IQ.wav"
    wavfile.write(p, 2_400_000, data)
    c = open_capture(p)
    assert c.format == "wav" and c.sample_rate == 2.4e6 and c.num_samples == x.size
    assert c.center_freq == 433.92e6 and c.start_time.isoformat() == "2023-05-01T10:15:00+00:00"
    assert c.assumed == ()
    np.testing.assert_allclose(c.read(), x, rtol=0, atol=tol + 1e-7)


def _wav_bytes(channels=2, bits=16, rate=250000, data=b"\0" * 16, size=None, aux=None):
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * bits // 8, channels * bits // 8, bits)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if aux is not None:
        chunks += b"auxi" + struct.pack("<I", len(aux)) + aux
    chunks += b"data" + struct.pack("<I", len(data) if size is None else size) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def test_hdsdr_auxi_chunk_gives_the_centre(tmp_path):
    aux = b"\0" * 32 + struct.pack("<I", 315_000_000) + b"\0" * 8
    p = tmp_path / "rec.wav"
    p.write_bytes(_wav_bytes(aux=aux))
    c = open_capture(p)
    assert c.center_freq == 315e6 and c.assumed == () and c.num_samples == 4


def test_unclosed_recording_reads_what_is_there(tmp_path):
    p = tmp_path / "crash.wav"
    p.write_bytes(_wav_bytes(data=b"\0" * 18, size=0))  # writer died before fixing the size
    c = open_capture(p)
    assert c.num_samples == 4
    assert any("recording not closed properly" in w for w in c.warnings)
    assert any("ignored 2 trailing bytes" in w for w in c.warnings)


@pytest.mark.parametrize("kwargs, words", [
    ({"channels": 1}, "1 channel"),
    ({"bits": 24, "data": b"\0" * 12}, "not supported"),
    ({"rate": 0}, "sample rate 0"),
    ({"data": b""}, "no complete I/Q sample"),
])
def test_bad_wav_files(tmp_path, kwargs, words):
    p = tmp_path / "bad.wav"
    p.write_bytes(_wav_bytes(**kwargs))
    with pytest.raises(CaptureFormatError, match=words):
        open_capture(p)


def test_not_a_wav_and_no_data_chunk(tmp_path):
    p = tmp_path / "x.wav"
    p.write_bytes(b"ID3 this is an mp3")
    with pytest.raises(CaptureFormatError, match="not a WAV file"):
        open_capture(p)
    p.write_bytes(_wav_bytes()[:36])
    with pytest.raises(CaptureFormatError, match="no 'data' chunk"):
        open_capture(p)
