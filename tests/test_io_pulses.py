"""Pulse captures (.sub, .ook) rendered as I/Q: timing, placement, SNR, offset, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from keyguard.io import open_capture, pulse_capture_to_iq
from keyguard.io.levels import measure_levels
from keyguard.io.pulses import DEFAULT_PULSE_AMPLITUDE

SUB = ("Filetype: Flipper SubGhz RAW File\nVersion: 1\nFrequency: 433920000\n"
       "Preset: FuriHalSubGhzPresetOok650Async\nProtocol: RAW\n"
       "RAW_Data: -1000 400 -400 400 -400 800 -30000 800 -800 800 -5000\n")


@pytest.fixture
def sub_file(tmp_path):
    p = tmp_path / "k.sub"
    p.write_text(SUB)
    return p


def test_sub_capture_has_placed_bursts_and_renders(sub_file):
    c = open_capture(sub_file)
    assert c.format == "sub" and c.is_pulse_capture and c.center_freq == 433.92e6
    assert c.sample_rate == 250e3 and c.assumed == ()
    a, b = c.pulse_trains
    assert a.t == pytest.approx(1e-3) and b.t == pytest.approx(1e-3 + 2.4e-3 + 30e-3)
    total_us = 1000 + 2400 + 30000 + 2400 + 5000
    assert c.num_samples == int(np.ceil(total_us * 1e-6 * 250e3))
    clean = pulse_capture_to_iq(c, 1e6, snr_db=None)
    env = np.abs(clean.read())
    on = env > DEFAULT_PULSE_AMPLITUDE / 2
    edges = np.flatnonzero(np.diff(on.astype(int))) + 1  # sample index of each change
    # at 1 Msps one sample is 1 µs: every edge is where the durations put it
    want = np.cumsum([1000, 400, 400, 400, 400, 800, 30000, 800, 800, 800])
    assert edges.tolist() == want.tolist()
    assert np.allclose(env[on], DEFAULT_PULSE_AMPLITUDE, atol=1e-5) and np.all(env[~on] == 0)


def test_render_is_independent_of_block_size_and_seeded(sub_file):
    c = open_capture(sub_file)
    whole = c.read()
    for bs in (1000, 4096, 7):
        got = np.concatenate([b.samples[b.overlap:] for b in c.blocks(block_size=bs, overlap=3)]) \
            if bs > 7 else np.concatenate([c.read(i, bs) for i in range(0, 3000, bs)])
        assert np.array_equal(got, whole[:got.size])
    assert np.array_equal(open_capture(sub_file).read(), whole)  # deterministic
    other = pulse_capture_to_iq(c, c.sample_rate, snr_db=40.0, seed=1).read()
    assert not np.array_equal(other, whole)


def test_to_iq_snr_and_frequency_offset(sub_file):
    c = open_capture(sub_file)
    noisy = pulse_capture_to_iq(c, 500e3, snr_db=20.0, freq_offset_hz=25e3, seed=7)
    assert c.sample_rate == 250e3  # the original is untouched
    lv = measure_levels(noisy)
    assert lv.noise_floor_dbfs == pytest.approx(20 * np.log10(DEFAULT_PULSE_AMPLITUDE) - 20.0, abs=0.5)
    first = noisy.pulse_trains[1]
    i0 = int(first.t * 500e3) + 10
    x = noisy.read(i0, 700)  # inside the 800 µs carrier-on run
    f = np.fft.fftfreq(x.size, 1 / 500e3)[np.argmax(np.abs(np.fft.fft(x)))]
    assert f == pytest.approx(25e3, abs=1e3)


def test_ook_capture_renders_at_each_packages_offset(shared_captures):
    c = open_capture(shared_captures / "rtl_433_tests/tests/megacode/01/48881-0728_318M_250k.ook")
    assert c.format == "ook" and c.center_freq == 318e6 and c.sample_rate == 250e3
    assert c.extra["metadata_sources"]["center_freq"] == "name"
    pt = c.pulse_trains[0]
    assert pt.freq_hz == 318e6 - 4231 and pt.meta["freq_offset_hz"] == -4231
    x = pulse_capture_to_iq(c, 250e3, snr_db=None).read(0, int(1000e-6 * 250e3))  # first pulse
    f = np.fft.fftfreq(x.size, 1 / 250e3)[np.argmax(np.abs(np.fft.fft(x)))]
    assert f == pytest.approx(-4231, abs=1100)  # FFT bin is 1 kHz wide here


def test_fsk_sub_renders_constant_envelope(shared_captures):
    c = open_capture(shared_captures / "flipper_sub/Honda/Lock_honda.sub")
    x = pulse_capture_to_iq(c, 250e3, snr_db=None).read(10_000, 5000)
    assert np.allclose(np.abs(x), DEFAULT_PULSE_AMPLITUDE, atol=1e-3)  # carrier on throughout


def test_decoded_sub_has_no_samples(shared_captures):
    c = open_capture(shared_captures / "flipper_sub/_reference_nonvehicle/flipper_unit_tests/doorhan.sub")
    assert c.num_samples == 0 and c.pulse_trains == [] and c.extra["sub"]["key"] == "4850F07233789514"
    assert list(c.blocks()) == []
