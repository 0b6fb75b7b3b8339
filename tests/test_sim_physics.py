"""The simulator's physics, measured back out of the rendered IQ: CFO, SNR, path loss, fingerprint
edges, jammer offset and J/S, relay delay and latency, clipping, DC spike, IQ image."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest

from keyguard.pulse_train import PulseTrain
from keyguard.sim.attacks import Jam, Relay, Replay, Replayer
from keyguard.sim.channel import ChannelModel, fractional_delay, path_loss_db
from keyguard.sim.fingerprint import Fingerprint, render_burst
from keyguard.sim.scenario import Device, Press, Scenario

FLAT = ChannelModel(shadowing_db=0.0, k_factor_db=math.inf, delay_spread_ns=0.0)
QUIET_FP = {"clock_error": 0.0, "jitter_us": 0.0, "phase_noise_hz": 0.0, "chirp_hz": 0.0,
            "droop_db": 0.0, "extinction_db": 80.0}


def toy_frames(req):
    """A KeeLoq-shaped PWM frame (preamble, 4 ms header, 66 bits) whose bits hash the fields;
    three frames 15.6 ms apart (more while the button is held). Stands in for the protocol
    encoder so these tests exercise the simulator alone."""
    h = zlib.crc32(repr(sorted(req.fields.items())).encode())
    bits = [(h >> (i % 32)) & 1 for i in range(66)]
    d, lv = [400.0, 400.0] * 12, [1, 0] * 12
    d[-1] = 4000.0
    for b in bits:
        d += [400.0, 800.0] if b else [800.0, 400.0]
        lv += [1, 0]
    f = PulseTrain(np.array(d[:-1]), np.array(lv[:-1]))
    period = f.duration_us * 1e-6 + 0.0156
    n = req.repeats or max(3, int(req.hold_s / period) + 1)
    return [PulseTrain(f.durations_us, f.levels, t=i * period) for i in range(n)]


def _scenario(devices, presses=(), attacks=(), duration=2.0, rate=1.024e6, channel=FLAT, **rx):
    rx = dict(dict(sample_rate=rate, ppm=0.0, dc_offset=[0.0, 0.0], iq_gain_db=0.0, iq_phase_deg=0.0,
                   adc_bits=None), **rx)
    if isinstance(rx.get("dc_offset"), list):
        rx["dc_offset"] = complex(*rx["dc_offset"])
    return Scenario(name="phys", duration_s=duration, receiver=rx, channel=channel,
                    devices=list(devices), presses=list(presses), attacks=list(attacks))


def _on_mask(x: np.ndarray, frac: float = 0.5) -> np.ndarray:
    a = np.abs(x)
    return a > frac * np.percentile(a, 99.9)


def _cfo(x: np.ndarray, fs: float) -> float:
    on = _on_mask(x)
    p = x[1:] * np.conj(x[:-1])
    return float(np.angle(np.sum(p[on[1:] & on[:-1]])) * fs / (2 * np.pi))


def test_carrier_offset_is_crystal_plus_tuner_error():
    dev = Device("fob", protocol="toy", serial=1, freq_hz=433.92e6, snr_db=40.0,
                 fingerprint=dict(QUIET_FP, ppm=-17.5))
    r = _scenario([dev], [Press("fob", 0.2)], ppm=42.0, noise_figure_db=6.0).plan(seed=3, frame_source=toy_frames)
    x = r.render()
    expected = 433.92e6 * (1 - 17.5e-6) - 433.92e6 * (1 + 42e-6)
    (press,) = [e for e in r.truth if e.kind == "press"]
    assert press.params["baseband_offset_hz"] == pytest.approx(expected, abs=0.01)
    fs = r.sample_rate
    seg = x[int(press.t * fs):int(press.t_end * fs)]
    assert _cfo(seg, fs) == pytest.approx(expected, abs=30.0)  # ≈ −25.8 kHz


@pytest.mark.parametrize("snr_db", [8.0, 20.0])
def test_snr_over_the_whole_band_is_what_was_asked(snr_db):
    dev = Device("fob", protocol="toy", serial=2, snr_db=snr_db, fingerprint=QUIET_FP)
    r = _scenario([dev], [Press("fob", 0.5)], duration=1.2).plan(seed=1, frame_source=toy_frames)
    x = r.render()
    fs = r.sample_rate
    noise = np.mean(np.abs(x[: int(0.45 * fs)]) ** 2)
    # carrier-on samples, found from the clean schedule (noise would bias a threshold at 8 dB)
    clean = r.emissions[0]
    w = clean.waveform()
    on_idx = clean.start + np.flatnonzero(np.abs(w) > 0.5 * np.abs(w).max())
    sig = np.mean(np.abs(x[on_idx]) ** 2) - noise
    assert 10 * np.log10(sig / noise) == pytest.approx(snr_db, abs=0.35)
    assert [e.params["snr_db"] for e in r.truth if e.kind == "press"][0] == pytest.approx(snr_db)


def test_received_power_follows_log_distance_path_loss():
    near = Device("near", protocol="toy", serial=3, position=(10.0, 0.0, 1.0),
                  fingerprint=dict(QUIET_FP, tx_power_dbm=-15.0))
    far = Device("far", protocol="toy", serial=4, position=(20.0, 0.0, 1.0),
                 fingerprint=dict(QUIET_FP, tx_power_dbm=-15.0))
    ch = ChannelModel(path_loss_exponent=3.0, shadowing_db=0.0, k_factor_db=math.inf, delay_spread_ns=0.0)
    r = _scenario([near, far], [Press("near", 0.1), Press("far", 0.6)], duration=1.1, channel=ch,
                  gain_db=20.0).plan(seed=2, frame_source=toy_frames)
    x = r.render()
    fs = r.sample_rate
    p = {}
    for e in r.truth:
        seg = x[int(e.t * fs):int(e.t_end * fs)]
        p[e.source] = 10 * np.log10(np.mean(np.abs(seg[_on_mask(seg)]) ** 2))
    assert p["near"] - p["far"] == pytest.approx(30 * math.log10(2), abs=0.3)
    assert path_loss_db(1.0) == pytest.approx(25.2, abs=0.05)  # free space at 1 m, 433.92 MHz


def test_fingerprint_rise_time_and_droop_are_in_the_waveform():
    fs = 10e6
    fp = Fingerprint(rise_time_us=12.0, fall_time_us=3.0, droop_db=2.0, extinction_db=30.0)
    pt = PulseTrain(np.array([500.0, 500.0] * 10)[:-1], np.array([1, 0] * 10)[:-1])
    x = render_burst(pt, fp, fs, freq_offset_hz=0.0, amplitude=1.0, rng=np.random.default_rng(0),
                     lead_s=50e-6, tail_s=50e-6)
    a = np.abs(x).astype(float)
    t = np.arange(a.size) / fs * 1e6
    first = (t > 30) & (t < 300)
    rise = np.interp(0.9, a[first], t[first]) - np.interp(0.1, a[first], t[first])
    assert rise == pytest.approx(0.59 * 12.0, abs=0.3)
    # droop: the last pulse is 2 dB below the first (measured mid-pulse)
    first_lvl = a[int((50 + 250) * 10)]
    last_lvl = a[int((50 + 18 * 500 + 250) * 10)]
    assert 20 * np.log10(first_lvl / last_lvl) == pytest.approx(2.0 * 18.5 / 19, abs=0.1)
    # extinction: inside the frame the "off" carrier leaks at −30 dB
    gap = a[int((50 + 750) * 10)]
    assert 20 * np.log10(gap / first_lvl) == pytest.approx(-30.0, abs=0.5)


@pytest.mark.parametrize("waveform", ["cw", "noise"])
def test_jammer_offset_and_jsr_are_measured_back(waveform):
    dev = Device("fob", protocol="toy", serial=5, snr_db=25.0, fingerprint=QUIET_FP)
    jam = Jam(t=0.6, t_end=1.2, target="fob", offset_hz=-70e3, jsr_db=12.0, waveform=waveform,
              bandwidth_hz=100e3)
    r = _scenario([dev], [Press("fob", 0.1)], [jam], duration=1.3).plan(seed=4, frame_source=toy_frames)
    x = r.render()
    fs = r.sample_rate
    (ev,) = [e for e in r.truth if e.kind == "jamming"]
    (pr,) = [e for e in r.truth if e.kind == "press"]
    noise = np.mean(np.abs(x[int(0.45 * fs):int(0.55 * fs)]) ** 2)
    seg = x[int(pr.t * fs):int(pr.t_end * fs)]
    fob = np.mean(np.abs(seg[_on_mask(seg)]) ** 2) - noise
    j = x[int(0.7 * fs):int(1.1 * fs)]
    jam_p = np.mean(np.abs(j) ** 2) - noise
    assert 10 * np.log10(jam_p / fob) == pytest.approx(12.0, abs=0.4)
    assert ev.params["jsr_db"] == pytest.approx(12.0)
    spec = np.abs(np.fft.fftshift(np.fft.fft(j[: 1 << 18]))) ** 2
    f = np.fft.fftshift(np.fft.fftfreq(1 << 18, 1 / fs))
    # the jammer's own crystal moves it from −70 kHz by up to ±15 ppm (±6.5 kHz)
    assert abs(ev.params["baseband_offset_hz"] + 70e3) < 7e3
    if waveform == "cw":
        # within the drift of the jammer's phase noise over 0.4 s (a few Hz)
        assert _cfo(j, fs) == pytest.approx(ev.params["baseband_offset_hz"], abs=40.0)
    else:
        near = np.abs(f + 70e3) < 150e3
        excess = np.clip(spec[near] - np.median(spec[~near]), 0, None)
        centroid = np.sum(f[near] * excess) / np.sum(excess)
        assert centroid == pytest.approx(ev.params["baseband_offset_hz"], abs=500.0)
        occupied = f[spec > 0.5 * np.median(spec[np.abs(f - centroid) < 30e3])]
        assert occupied.max() - occupied.min() == pytest.approx(100e3, rel=0.15)


def test_pulsed_and_swept_jammers_have_their_duty_and_span():
    dev = Device("fob", protocol="toy", serial=6, snr_db=20.0, fingerprint=QUIET_FP)
    pulsed = Jam(t=0.1, t_end=0.5, target="fob", jsr_db=20.0, waveform="pulsed", period_s=0.01, duty=0.3,
                 name="p")
    swept = Jam(t=0.6, t_end=1.0, target="fob", jsr_db=20.0, waveform="swept", offset_hz=0.0,
                sweep_span_hz=300e3, sweep_period_s=0.004, name="s")
    r = _scenario([dev], [], [pulsed, swept], duration=1.05).plan(seed=5, frame_source=toy_frames)
    x = r.render()
    fs = r.sample_rate
    seg = np.abs(x[int(0.15 * fs):int(0.45 * fs)])
    assert np.mean(seg > 0.5 * seg.max()) == pytest.approx(0.3, abs=0.01)
    s = x[int(0.65 * fs):int(0.95 * fs)]
    inst = np.angle(s[1:] * np.conj(s[:-1])) * fs / (2 * np.pi)
    lo, hi = np.percentile(inst, [1, 99])
    assert hi - lo == pytest.approx(300e3 * 0.98, rel=0.05)


def test_fractional_delay_is_measured_back_from_the_cross_spectrum():
    fs = 2.4e6
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(1 << 15) + 1j * rng.standard_normal(1 << 15)).astype(np.complex64)
    x = np.fft.ifft(np.fft.fft(x) * (np.abs(np.fft.fftfreq(x.size)) < 0.3)).astype(np.complex64)
    for delay in (140e-9, 2.7e-6):
        y = fractional_delay(x, delay, fs)
        c = np.fft.fft(y[64:-64]) * np.conj(np.fft.fft(x[64:-64]))
        f = np.fft.fftfreq(c.size, 1 / fs)
        band = np.abs(f) < 0.25 * fs
        order = np.argsort(f[band])
        slope = np.polyfit(f[band][order], np.unwrap(np.angle(c[band][order])), 1, w=np.abs(c[band][order]))[0]
        assert -slope / (2 * np.pi) == pytest.approx(delay, abs=3e-9)


def test_af_relay_copy_is_delayed_amplified_and_frequency_shifted():
    dev = Device("car-key", protocol="toy", serial=7, fingerprint=QUIET_FP)
    relay = Relay("car-key", t=0.2, mode="af", fob_position=(45.0, 0.0, 1.0), delay_s=150e-9,
                  translation_error_hz=1500.0, p1db_dbm=40.0, gain_db=55.0)
    r = _scenario([dev], [], [relay], duration=0.6, rate=2.4e6).plan(seed=6, frame_source=toy_frames)
    (ev,) = [e for e in r.truth if e.kind == "relay"]
    direct = [e for e in r.emissions if e.source == "car-key"][0]
    copy = [e for e in r.emissions if e.source == "relay" and hasattr(e, "waveform")][0]
    a, b = direct.waveform(), copy.waveform()
    n = min(a.size, b.size)
    a, b = a[:n], b[:n]
    fs = r.sample_rate
    # undo the translation error, then the delay is the phase slope of the cross spectrum
    b = b * np.exp(-2j * np.pi * 1500.0 * np.arange(n) / fs)
    c = np.fft.fft(b) * np.conj(np.fft.fft(a))
    f = np.fft.fftfreq(n, 1 / fs)
    w = np.abs(c)
    band = w > 0.05 * w.max()
    order = np.argsort(f[band])
    slope = np.polyfit(f[band][order], np.unwrap(np.angle(c[band][order])), 1, w=w[band][order])[0]
    assert -slope / (2 * np.pi) == pytest.approx(150e-9, abs=15e-9)
    gain_db = 10 * np.log10(np.sum(np.abs(b) ** 2) / np.sum(np.abs(a) ** 2))
    assert gain_db == pytest.approx(ev.params["relay_rx_power_dbm"] - ev.params["fob_rx_power_dbm"], abs=0.5)
    shifted = b * np.exp(2j * np.pi * 1500.0 * np.arange(n) / fs)
    assert _cfo(shifted, fs) - _cfo(a, fs) == pytest.approx(1500.0, abs=30)


def test_df_relay_latency_is_measured_back_from_the_envelopes():
    dev = Device("car-key", protocol="toy", serial=8, fingerprint=QUIET_FP)
    relay = Relay("car-key", t=0.2, mode="df", fob_position=(30.0, 0.0, 1.0), latency_s=2.5e-3)
    r = _scenario([dev], [], [relay], duration=0.6, gain_db=45.0).plan(seed=7, frame_source=toy_frames)
    x = r.render()
    fs = r.sample_rate
    (ev,) = [e for e in r.truth if e.kind == "relay"]
    (pr,) = [e for e in r.truth if e.kind == "press"]
    assert ev.t - pr.t == pytest.approx(2.5e-3, abs=1e-6)
    # the weak direct answer starts the burst, the strong regenerated one arrives latency later
    env = np.abs(x[int(pr.t * fs) - 2000:int(pr.t * fs) + int(0.01 * fs)])
    noise = np.median(np.abs(x[: int(0.1 * fs)]))
    direct_on = np.argmax(env > 10 * noise)
    relay_on = np.argmax(env > 0.5 * env.max())
    assert 20 * np.log10(env.max() / env[direct_on + 50]) > 20  # the direct answer is weak
    assert (relay_on - direct_on) / fs == pytest.approx(2.5e-3, abs=10e-6)


def test_clipping_fraction_matches_an_overdriven_sine():
    # a carrier 3.5 dB over full scale: each of I and Q clips for (2/π)·acos(1/A) of the time
    dev = Device("fob", protocol="toy", serial=9, fingerprint=dict(QUIET_FP, tx_power_dbm=0.0))
    sc = _scenario([dev], [Press("fob", 0.1)], duration=0.5, adc_bits=8, gain_db=0.0)
    rx_dbm = sc.plan(seed=8, frame_source=toy_frames).truth[0].params["rx_power_dbm"]
    # gain that puts the carrier 3.5 dB above full scale
    sc.receiver["gain_db"] = sc.plan(seed=8, frame_source=toy_frames).receiver.full_scale_dbm_at_0db - rx_dbm + 3.5
    r = sc.plan(seed=8, frame_source=toy_frames)
    x = r.render()
    amp = 10 ** (3.5 / 20)
    (pr,) = r.truth
    w = r.emissions[0].waveform()
    on = r.emissions[0].start + np.flatnonzero(np.abs(w) > 0.99 * np.abs(w).max())
    clipped = np.mean(np.abs(x.real[on]) >= 1.0)
    assert clipped == pytest.approx(2 / np.pi * np.arccos(1 / amp), abs=0.02)
    assert np.all(np.abs(x.real) <= 1.0) and np.all(np.abs(x.imag) <= 1.0)


def test_dc_spike_and_iq_image_are_where_the_receiver_puts_them():
    dev = Device("fob", protocol="toy", serial=10, snr_db=40.0, freq_hz=433.92e6 + 120e3,
                 fingerprint=dict(QUIET_FP, ppm=0.0))
    dc = complex(0.02, -0.01)
    sc = _scenario([dev], [Press("fob", 0.05)], duration=0.4, adc_bits=8, gain_db=0.0,
                   dc_offset=[dc.real, dc.imag], iq_gain_db=0.4, iq_phase_deg=2.0)
    # gain that puts the carrier 6 dB below full scale: no clipping, the image (−31 dB) well
    # above the 8-bit floor
    r0 = sc.plan(seed=9, frame_source=toy_frames)
    sc.receiver["gain_db"] = r0.receiver.full_scale_dbm_at_0db - r0.truth[0].params["rx_power_dbm"] - 6.0
    r = sc.plan(seed=9, frame_source=toy_frames)
    x = r.render()
    fs = r.sample_rate
    quiet = x[-int(0.05 * fs):]
    assert quiet.mean() == pytest.approx(dc, abs=0.003)  # the DC spike: a constant offset
    (pr,) = r.truth
    seg = x[int(pr.t * fs):int(pr.t * fs) + (1 << 16)] - dc
    spec = np.abs(np.fft.fftshift(np.fft.fft(seg))) ** 2
    f = np.fft.fftshift(np.fft.fftfreq(seg.size, 1 / fs))

    def band(fc):
        return spec[np.abs(f - fc) < 15e3].sum()

    image_db = 10 * np.log10(band(120e3) / band(-120e3))
    assert image_db == pytest.approx(r.receiver.image_rejection_db, abs=1.0)
    assert 25 < r.receiver.image_rejection_db < 40


def test_hackrf_replay_carries_its_noise_floor_and_lo_leak_between_pulses():
    dev = Device("fob", protocol="toy", serial=11, snr_db=30.0, fingerprint=QUIET_FP)
    rep = Replay("fob", t=0.6, of=0.1, replayer=Replayer("hackrf", record_snr_db=25.0, power_dbm=-20.0,
                                                         position=(4.0, 0.0, 1.0)))
    r = _scenario([dev], [Press("fob", 0.1)], [rep], duration=1.1).plan(seed=10, frame_source=toy_frames)
    x = r.render()
    fs = r.sample_rate
    (ev,) = [e for e in r.truth if e.kind == "replay"]
    (pr,) = [e for e in r.truth if e.kind == "press"]
    # inter-frame gap of the original press vs the same gap in the replay (≈ 15 ms of "silence")
    gap_len = int(0.01 * fs)
    def gap_power(t0):
        frame_end = t0 + 0.0967
        s = x[int((frame_end + 0.003) * fs):int((frame_end + 0.003) * fs) + gap_len]
        return np.mean(np.abs(s) ** 2), s
    g_orig, _ = gap_power(pr.t)
    g_rep, s = gap_power(ev.t)
    assert 10 * np.log10(g_rep / g_orig) > 6.0  # the recording's noise floor came along
    # its LO leakage is a line at the hackrf's LO offset
    spec = np.abs(np.fft.fftshift(np.fft.fft(s))) ** 2
    f = np.fft.fftshift(np.fft.fftfreq(s.size, 1 / fs))
    assert f[np.argmax(spec)] == pytest.approx(ev.params["lo_offset_hz"], abs=2 * fs / s.size)
