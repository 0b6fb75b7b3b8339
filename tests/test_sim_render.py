"""keyguard.sim.render: timing, carrier offset, FSK and SNR measured back out of the IQ."""

from __future__ import annotations

import math

import numpy as np
import pytest

from keyguard.pulse_train import PulseTrain
from keyguard.sim.render import add_awgn, render_pulse_train


def _long_train(n_pulses: int = 1000) -> PulseTrain:
    rng = np.random.default_rng(1)
    # awkward fractional durations: no edge lands on a whole sample at any rate used here
    on = rng.choice([413.7, 827.3], n_pulses)
    off = rng.choice([413.7, 827.3], n_pulses)
    d = np.empty(2 * n_pulses)
    d[0::2], d[1::2] = on, off
    return PulseTrain(d[:-1], np.tile([1, 0], n_pulses)[:-1])


@pytest.mark.parametrize("fs", [250e3, 1.024e6, 2.4e6])
def test_edges_land_at_their_exact_fractional_time_without_drift(fs):
    pt = _long_train()
    lead = 0.37e-3
    x = render_pulse_train(pt, fs, lead_s=lead, tail_s=1e-3)
    env = np.abs(x).astype(np.float64)
    edges = lead * fs + np.concatenate([[0.0], np.cumsum(pt.durations_us)]) * 1e-6 * fs
    rising = edges[:-1][pt.levels == 1]
    # a rising edge at p leaves (floor(p)+1-p) of the straddled sample on
    k = np.floor(rising).astype(int)
    measured = k + 1 - env[k]
    assert np.max(np.abs(measured - rising)) < 1e-4  # samples, over ~1 s of train: no drift
    # each pulse's energy equals its duration exactly
    assert env.sum() == pytest.approx(pt.durations_us[pt.levels == 1].sum() * 1e-6 * fs, rel=1e-5)
    expected_len = math.ceil((lead + pt.duration_us * 1e-6 + 1e-3) * fs)
    assert abs(x.size - expected_len) <= 1


@pytest.mark.parametrize("cfo", [-70e3, -12.345e3, 0.0, 31.4e3])
def test_carrier_offset_is_measured_back(cfo):
    fs = 1.024e6
    pt = _long_train(200)
    x = render_pulse_train(pt, fs, freq_offset_hz=cfo, amplitude=0.5, phase=0.3)
    on = np.abs(x) > 0.49
    prod = x[1:] * np.conj(x[:-1])
    est = np.angle(prod[on[1:] & on[:-1]].sum()) * fs / (2 * np.pi)
    assert est == pytest.approx(cfo, abs=0.5)
    assert np.abs(x).max() == pytest.approx(0.5, rel=1e-5)
    # the carrier is one continuous phasor across pulses: its phase at sample n is 2πfn/fs + phase
    n = np.flatnonzero(on)[::97]
    ph = np.angle(x[n] * np.exp(-1j * (2 * np.pi * cfo * n / fs + 0.3)))
    assert np.max(np.abs(ph)) < 1e-3


def test_fsk_is_continuous_phase_at_plus_minus_deviation():
    fs = 1e6
    pt = PulseTrain(np.array([250.0, 500.0, 250.0, 750.0, 250.0]), np.array([1, 0, 1, 0, 1]),
                    modulation="FSK", fsk_deviation_hz=25e3)
    x = render_pulse_train(pt, fs, freq_offset_hz=5e3, lead_s=100e-6, tail_s=100e-6)
    env = np.abs(x)
    # carrier on for the whole train (both symbols), off in lead and tail
    assert np.all(env[100:100 + 2000] > 0.999) and np.all(env[:100] == 0) and np.all(env[-99:] == 0)
    f = np.angle(x[1:] * np.conj(x[:-1])) * fs / (2 * np.pi)
    assert np.median(f[110:340]) == pytest.approx(30e3, abs=1)   # mark: offset + deviation
    assert np.median(f[360:740]) == pytest.approx(-20e3, abs=1)  # space: offset − deviation
    # continuous phase: no sample-to-sample step beyond the largest instantaneous frequency
    assert np.max(np.abs(f[100:2099])) <= 30e3 + 1


def test_fsk_deviation_defaults_to_the_pulse_train_then_20_khz():
    fs = 1e6
    pt = PulseTrain(np.array([500.0]), np.array([1]), modulation="FSK")
    x = render_pulse_train(pt, fs)
    f = np.angle(x[1:] * np.conj(x[:-1])) * fs / (2 * np.pi)
    assert np.median(f) == pytest.approx(20e3, abs=1)
    pt.fsk_deviation_hz = 7e3
    x = render_pulse_train(pt, fs)
    f = np.angle(x[1:] * np.conj(x[:-1])) * fs / (2 * np.pi)
    assert np.median(f) == pytest.approx(7e3, abs=1)


def test_raised_cosine_edges_have_the_asked_rise_time_and_keep_the_50_percent_point():
    fs = 10e6
    rise_us = 20.0
    pt = PulseTrain(np.array([400.0]), np.array([1]))
    x = render_pulse_train(pt, fs, rise_time_us=rise_us, lead_s=50e-6, tail_s=50e-6)
    env = np.abs(x)
    t = np.arange(env.size) / fs * 1e6
    up = t < 250
    t10 = np.interp(0.1, env[up], t[up])
    t90 = np.interp(0.9, env[up], t[up])
    t50 = np.interp(0.5, env[up], t[up])
    # 0.5(1−cos(πt/T)) crosses 10 % and 90 % 0.59 T apart
    assert t90 - t10 == pytest.approx(0.5903 * rise_us, abs=0.3)
    assert t50 == pytest.approx(50.0, abs=0.15)
    assert env.sum() / fs * 1e6 == pytest.approx(400.0, rel=1e-3)
    # the tail is extended so that the falling edge is not cut
    y = render_pulse_train(pt, fs, rise_time_us=rise_us)
    assert abs(y[-1]) < 1e-3


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 25.0])
def test_awgn_gives_the_asked_snr_over_the_whole_band(snr_db):
    fs = 1.024e6
    rng = np.random.default_rng(7)
    pt = _long_train(300)
    clean = render_pulse_train(pt, fs, freq_offset_hz=40e3, amplitude=0.3, lead_s=0.05)
    y = add_awgn(clean, snr_db, rng)
    assert y.dtype == np.complex64
    noise_p = np.mean(np.abs(y[: int(0.05 * fs)]) ** 2)
    on = np.abs(clean) > 0.299
    sig_p = np.mean(np.abs(y[on]) ** 2) - noise_p
    assert 10 * np.log10(sig_p / noise_p) == pytest.approx(snr_db, abs=0.15)
    # noise power follows the asked signal power when it is given
    z = add_awgn(np.zeros(100_000, np.complex64), 20.0, rng, signal_power=0.01)
    assert np.mean(np.abs(z) ** 2) == pytest.approx(1e-4, rel=0.02)


def test_awgn_is_deterministic_for_a_seed_and_needs_a_carrier():
    x = render_pulse_train(_long_train(20), 250e3)
    a = add_awgn(x, 12, np.random.default_rng(3))
    b = add_awgn(x, 12, np.random.default_rng(3))
    assert a.tobytes() == b.tobytes()
    with pytest.raises(ValueError):
        add_awgn(np.zeros(10, np.complex64), 10, np.random.default_rng(0))


def test_empty_and_off_only_trains_render_silence():
    pt = PulseTrain(np.array([100.0]), np.array([0]))
    x = render_pulse_train(pt, 1e6)
    assert x.size == 100 and not np.any(x)
    assert render_pulse_train(PulseTrain(np.zeros(0), np.zeros(0)), 1e6, lead_s=1e-5).size == 10
