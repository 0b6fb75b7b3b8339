"""The IQ front end's input conversion: its fast form gives the byte tables' values, bit for bit.

8-bit captures (cu8, cs8) are converted with float32 arithmetic when that reproduces the
format's byte table exactly (checked once per format); the front end's bursts and pulse trains
are compared bit for bit before and after such speed-ups, so the values must not move.
(The demodulator's fast forms are checked the same way in tests/test_demod_speed.py.)
"""

from __future__ import annotations

import numpy as np
import pytest

from keyguard.io.raw import SAMPLE_FORMATS, _arithmetic_exact, _lut, _pair_lut


@pytest.mark.parametrize("name", ["cu8", "cs8"])
def test_8bit_conversion_equals_the_byte_tables_for_every_pair(name):
    fmt = SAMPLE_FORMATS[name]
    assert _arithmetic_exact(fmt)  # else the reader falls back to the tables (slower, same values)
    pairs = np.arange(65536, dtype="<u2").view(np.uint8).view(fmt.dtype)
    got = fmt.to_complex(pairs)
    assert got.dtype == np.complex64
    assert np.array_equal(got, _pair_lut(fmt))
    lut = _lut(fmt)
    assert got[0] == lut[0] + 1j * lut[0] and got[-1] == lut[255] + 1j * lut[255]


def test_8bit_conversion_keeps_full_scale_extremes():
    # cu8 0 and 255 are −1 and +1 exactly; cs8 −128 is −1 exactly
    cu8 = SAMPLE_FORMATS["cu8"].to_complex(np.array([0, 255], dtype=np.uint8))
    assert cu8[0] == complex(-1.0, 1.0)
    cs8 = SAMPLE_FORMATS["cs8"].to_complex(np.array([-128, 127], dtype=np.int8))
    assert cs8[0] == complex(-1.0, 127 / 128)


@pytest.mark.parametrize("name", ["cu8", "cs8", "cs16"])
def test_integer_conversion_gives_an_array_of_its_own(name):
    # the burst detector keeps a block that owns its data without copying it
    fmt = SAMPLE_FORMATS[name]
    raw = np.arange(64).astype(fmt.dtype)
    x = fmt.to_complex(raw)
    assert x.dtype == np.complex64 and x.flags.owndata and x.size == 32
    expect = (raw.astype(np.float64) - fmt.zero) / fmt.full_scale
    assert np.allclose(x.view(np.float32), expect, rtol=0, atol=1e-7)
