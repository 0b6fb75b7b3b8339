"""RTL-SDR dongle source: the real pyrtlsdr error with no dongle attached, the rate limits, and
the accounting of USB buffers (overruns seen as jumps of the wall clock)."""

from __future__ import annotations

import numpy as np
import pytest

from keyguard.errors import InputError, SourceError
from keyguard.sdr.rtlsdr_source import RtlSdrSource, check_rtl_sample_rate


def _dongles() -> int:
    try:
        from rtlsdr.librtlsdr import librtlsdr
        return int(librtlsdr.rtlsdr_get_device_count())
    except Exception:
        return 0


no_dongle = pytest.mark.skipif(_dongles() > 0, reason="an RTL-SDR dongle is attached")


@no_dongle
def test_no_dongle_is_one_clear_line_from_the_real_library():
    with pytest.raises(SourceError) as e:
        RtlSdrSource(0, sample_rate=2.4e6).open()
    assert str(e.value) == ("no RTL-SDR dongle found (device index 0): plug one in or use "
                            "--rtl-tcp/--replay")


@no_dongle
def test_unknown_serial_is_one_clear_line():
    with pytest.raises(SourceError, match="no RTL-SDR dongle with serial 'KG0001' found"):
        RtlSdrSource(serial="KG0001").open()


def test_sample_rate_outside_the_dongle_range_is_an_input_error():
    for bad in (100e3, 500e3, 2.56e6, 3.2e6):
        with pytest.raises(InputError, match="not one an RTL-SDR can stream"):
            RtlSdrSource(sample_rate=bad)
    assert check_rtl_sample_rate(250e3) == 250e3 and check_rtl_sample_rate(2.4e6) == 2.4e6


def _buffers(src, count, n_samples, period_s, t0=1000.0, late_at=None, late_s=0.0):
    """Feed ``count`` USB buffers as librtlsdr would, ``period_s`` apart (one late by late_s)."""
    now = t0
    for i in range(count):
        now += period_s + (late_s if i == late_at else 0.0)
        src.on_samples(np.full(2 * n_samples, 128, np.uint8), now=now)


def test_usb_overrun_is_counted_as_dropped_samples():
    rate = 2.4e6
    src = RtlSdrSource(sample_rate=rate, block_s=0.01, queue_s=10.0, on_event=lambda s: None)
    n = 24_000  # 10 ms buffers
    _buffers(src, 50, n, 0.01, late_at=20, late_s=0.5)  # the host lost 0.5 s of samples
    st = src.stats
    assert st.samples_dropped == pytest.approx(0.5 * rate, rel=0.02)
    assert st.gaps == 1
    blocks = []
    while not src._queue.empty():
        blocks.append(src._queue.get_nowait())
    gapped = [b for b in blocks if b.gap_before]
    assert len(gapped) == 1 and gapped[0].index == 20 * n + gapped[0].gap_before


def test_crystal_drift_is_not_mistaken_for_overruns():
    rate = 2.4e6
    src = RtlSdrSource(sample_rate=rate, block_s=0.01, queue_s=100.0, on_event=lambda s: None)
    # the dongle runs 100 ppm slow for 60 s: 6 ms of drift, no sample lost
    _buffers(src, 6000, 24_000, 0.01 * (1 + 100e-6))
    assert src.stats.samples_dropped == 0 and src.stats.gaps == 0


def test_a_full_queue_drops_whole_buffers_and_counts_them():
    src = RtlSdrSource(sample_rate=1e6, block_s=0.01, queue_s=0.02, on_event=lambda s: None)
    _buffers(src, 10, 10_000, 0.01)
    st = src.stats
    assert st.samples_received == 100_000
    assert st.samples_dropped == 80_000 and st.gaps == 1
