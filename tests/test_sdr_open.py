"""open_source: the monitor's --device / --rtl-tcp / --replay options to one Source."""

from __future__ import annotations

import pytest

from keyguard.errors import SourceError
from keyguard.sdr.open import SourceSpecError, open_source, parse_host_port
from keyguard.sdr.replay import ReplaySource
from keyguard.sdr.rtl_tcp import RtlTcpSource
from keyguard.sdr.rtlsdr_source import RtlSdrSource


def test_host_port_forms():
    assert parse_host_port("127.0.0.1:1235") == ("127.0.0.1", 1235)
    assert parse_host_port("pi.local") == ("pi.local", 1234)
    assert parse_host_port("[::1]:7000") == ("::1", 7000)
    for bad in (":1234", "127.0.0.1:0", "127.0.0.1:http", "127.0.0.1:70000"):
        with pytest.raises(SourceSpecError):
            parse_host_port(bad)


def test_exactly_one_source():
    with pytest.raises(SourceSpecError, match="exactly one"):
        open_source()
    with pytest.raises(SourceSpecError, match=r"got --device, --rtl-tcp"):
        open_source(device=0, rtl_tcp="127.0.0.1:1234")


def test_each_option_builds_its_source(shared_captures):
    s = open_source(rtl_tcp="127.0.0.1:1299", center_freq=868.3e6, sample_rate=1e6, ppm=-2)
    assert isinstance(s, RtlTcpSource) and (s.host, s.port, s.ppm) == ("127.0.0.1", 1299, -2)
    assert s.uri == "rtl_tcp://127.0.0.1:1299" and s.center_freq == 868.3e6
    path = shared_captures / "rtl_433_tests/tests/generic_remote/01/gfile003.cu8"
    r = open_source(replay=str(path), realtime=True)
    assert isinstance(r, ReplaySource) and r.sample_rate == 250e3 and r.realtime
    d = open_source(device="7", sample_rate=2.4e6)
    assert isinstance(d, RtlSdrSource) and d.device_index == 7 and d.serial is None
    assert open_source(device=":00000001").serial == "00000001"
    assert open_source(device="KG-CAR-3").serial == "KG-CAR-3"


def test_open_failures_are_one_line_source_errors():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SourceError, match="cannot connect"):
        open_source(rtl_tcp=f"127.0.0.1:{port}").open()
