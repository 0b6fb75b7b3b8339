"""Writers: exact round trips (hypothesis), streaming from blocks, no clobbering of inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from keyguard.io import Capture, open_capture, write_iq
from keyguard.io.writers import encode

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
INT_DTYPES = {"cu8": np.uint8, "cs8": np.int8, "cs16": "<i2"}


@SETTINGS
@given(data=st.data(), fmt=st.sampled_from(sorted(INT_DTYPES)))
def test_integer_files_round_trip_byte_for_byte(tmp_path, data, fmt):
    dt = np.dtype(INT_DTYPES[fmt])
    comps = data.draw(arrays(dt, st.integers(1, 400).map(lambda n: 2 * n)))
    src = tmp_path / f"in.{fmt}"
    src.write_bytes(comps.tobytes())
    c = open_capture(src)
    out = tmp_path / f"out.{fmt}"
    write_iq(out, c.blocks(block_size=37, overlap=5), fmt, overwrite=True)
    assert out.read_bytes() == src.read_bytes()


@SETTINGS
@given(x=arrays(np.float32, st.integers(1, 300).map(lambda n: 2 * n),
                elements=st.floats(-1e6, 1e6, width=32, allow_subnormal=True)))
def test_cf32_round_trips_exactly(tmp_path, x):
    samples = x.view(np.complex64)
    p = tmp_path / "x.cf32"
    r = write_iq(p, samples, "cf32", overwrite=True)
    assert r.num_samples == samples.size and r.num_bytes == 8 * samples.size
    assert np.array_equal(open_capture(p).read(), samples)


@SETTINGS
@given(x=arrays(np.float32, st.integers(1, 300).map(lambda n: 2 * n),
                elements=st.floats(-1.0, 1.0, width=32)), fmt=st.sampled_from(sorted(INT_DTYPES)))
def test_integer_quantisation_error_is_half_a_step(tmp_path, x, fmt):
    samples = x.view(np.complex64)
    p = tmp_path / f"q.{fmt}"
    write_iq(p, samples, fmt, overwrite=True)
    step = {"cu8": 1 / 127.5, "cs8": 1 / 128, "cs16": 1 / 32768}[fmt]
    back = open_capture(p).read()
    err = np.abs(back.view(np.float32) - x)
    top = {"cu8": 1.0, "cs8": 127 / 128, "cs16": 32767 / 32768}[fmt]
    inside = x <= top
    assert np.all(err[inside] <= step / 2 + 1e-6)
    # above the top code (only up to +1.0 for the signed formats) values clip to it
    assert np.all(back.view(np.float32)[~inside] == np.float32(top))


def test_clipping_and_refusals(tmp_path):
    assert encode(np.array([2 + 2j, -2 - 2j]), "cu8").tolist() == [255, 255, 0, 0]
    assert encode(np.array([1 + 0j]), "cs16").tolist() == [32767, 0]
    with pytest.raises(ValueError, match="NaN"):
        encode(np.array([np.nan + 0j]), "cf32")
    with pytest.raises(ValueError, match="cannot write format"):
        write_iq(tmp_path / "x.wav", np.zeros(2, np.complex64), "wav")
    p = tmp_path / "keep.cu8"
    p.write_bytes(b"\1\2")
    with pytest.raises(FileExistsError):
        write_iq(p, np.zeros(2, np.complex64), "cu8")
    assert p.read_bytes() == b"\1\2"


def test_streamed_copy_of_a_long_capture(tmp_path):
    x = (np.random.default_rng(3).standard_normal(200_000) * 0.2).astype(np.complex64)
    src = Capture.from_array(x, 1e6)
    r = write_iq(tmp_path / "c.cf32", src.blocks(block_size=4096, overlap=100), "cf32", sha512=True)
    assert r.num_samples == x.size and len(r.sha512) == 128
    assert np.array_equal(open_capture(tmp_path / "c.cf32").read(), x)
    assert not list(tmp_path.glob("*.part"))
