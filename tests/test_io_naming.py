"""rtl_433 naming conventions, the FORMAT: prefix, defaults, and which value wins."""

from __future__ import annotations

import pytest

from keyguard.errors import CaptureFormatError
from keyguard.io.metadata import resolve
from keyguard.io.naming import parse_capture_name, split_format_prefix


@pytest.mark.parametrize("spec, fmt, source, freq, rate", [
    ("g001_433.92M_250k.cu8", "cu8", "extension", 433.92e6, 250e3),
    ("lock_315.1M_920k.cu8", "cu8", "extension", 315.1e6, 920e3),
    ("x_3000k.cs16", "cs16", "extension", None, 3e6),
    ("dir/gfile001.data", "cu8", "extension", None, None),
    ("a.complex16u", "cu8", "extension", None, None),
    ("a.complex16s", "cs8", "extension", None, None),
    ("a.cfile", "cf32", "extension", None, None),
    ("a.complex", "cf32", "extension", None, None),
    ("a.CF32", "cf32", "extension", None, None),
    ("cs16:capture.bin", "cs16", "prefix", None, None),
    ("CU8:/x/y_868.3MHz_1024ksps.raw", "cu8", "prefix", 868.3e6, 1.024e6),
    ("rec_cs16_2.4Msps_915MHz.bin", "cs16", "name", 915e6, 2.4e6),
    ("433920000Hz_250000sps.cu8", "cu8", "extension", 433.92e6, 250e3),
    ("/data/868M/capture_1M.cu8", "cu8", "extension", 1e6, None),  # later wins: rtl_433 reads the whole path
    ("v1.433M_x.cu8", "cu8", "extension", None, None),  # "1.433M" is not a parameter
    ("g001433.92M.cu8", "cu8", "extension", None, None),  # glued to letters: not a parameter
    ("58417-1402-up-right_318M_250k.ook", "ook", "extension", 318e6, 250e3),
    ("r.sigmf-meta", "sigmf", "extension", None, None),
    ("r.sigmf", "sigmf", "extension", None, None),
    ("key.sub", "sub", "extension", None, None),
    ("x.bin", None, None, None, None),
])
def test_parse_capture_name(spec, fmt, source, freq, rate):
    n = parse_capture_name(spec)
    assert (n.fmt, n.fmt_source) == (fmt, source)
    assert n.center_freq == (pytest.approx(freq) if freq else None)
    assert n.sample_rate == (pytest.approx(rate) if rate else None)


def test_prefix_is_not_split_when_the_whole_name_exists(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cu8:odd").write_bytes(b"\0\0")
    assert split_format_prefix("cu8:odd") == (None, "cu8:odd")
    assert split_format_prefix("cu8:other") == ("cu8", "other")
    assert split_format_prefix("nosuchfmt:file") == (None, "nosuchfmt:file")


def test_resolution_order_and_assumed_defaults():
    name = parse_capture_name("g_315M_1024k.cu8")
    r = resolve("p", name=name)
    assert (r.center_freq, r.sample_rate, r.assumed) == (315e6, 1.024e6, ())
    r = resolve("p", name=name, file_meta={"sample_rate": 2e6, "center_freq": 433e6})
    assert (r.center_freq, r.sample_rate) == (433e6, 2e6) and r.sources["sample_rate"] == "file"
    r = resolve("p", name=name, file_meta={"sample_rate": 2e6}, sample_rate=250e3, center_freq=868e6)
    assert (r.center_freq, r.sample_rate) == (868e6, 250e3)
    r = resolve("p", name=parse_capture_name("g.cu8"))
    assert (r.center_freq, r.sample_rate, r.assumed) == (433.92e6, 250e3, ("sample_rate", "center_freq"))
    # above 800 MHz the default rate is 1 Msps, but only after a stated centre
    r = resolve("p", name=parse_capture_name("g_868.35M.cu8"))
    assert (r.sample_rate, r.assumed) == (1e6, ("sample_rate",))
    r = resolve("p", name=None, center_freq=915e6)
    assert r.sample_rate == 1e6


@pytest.mark.parametrize("rate", [0, -250e3, 200e6, 500, float("nan")])
def test_absurd_rates_are_format_errors(rate):
    with pytest.raises(CaptureFormatError, match="sample rate"):
        resolve("cap.cu8", name=None, sample_rate=rate)


def test_absurd_rate_from_name_says_so():
    with pytest.raises(CaptureFormatError, match="from the file name"):
        resolve("x_0k.cu8", name=parse_capture_name("x_0k.cu8"))
    with pytest.raises(CaptureFormatError, match="centre frequency"):
        resolve("x.cu8", name=None, center_freq=-5)
    with pytest.raises(CaptureFormatError, match="ISO-8601"):
        resolve("x.cu8", name=None, start_time="yesterday")
    r = resolve("x.cu8", name=None, start_time="2024-05-01T12:00:00+02:00")
    assert r.start_time.isoformat() == "2024-05-01T10:00:00+00:00"
