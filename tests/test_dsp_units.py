"""Unit tests of the DSP building blocks: noise floor, short-time spectrum, channel filter,
demodulator primitives (smoothing choice, hysteresis, edge placement, chip grid)."""

from __future__ import annotations

import numpy as np
import pytest

from keyguard.dsp.channelize import (TickSpectrum, channel_noise_bandwidth, extract_channel,
                                     fft_size_for)
from keyguard.dsp.demod import (Integrator, chip_period, edges_from_levels, hysteresis_levels,
                                otsu_split, refine_ook_edges, spectral_lobes)
from keyguard.dsp.noise import NoiseFloor, min_gamma_mean_table
from keyguard.sim.render import complex_noise


# --- noise floor ------------------------------------------------------------------------------
def test_min_statistics_bias_matches_monte_carlo():
    table = min_gamma_mean_table(64.0, 300)
    rng = np.random.default_rng(0)
    for m in (1, 2, 10, 100, 300):
        sim = rng.gamma(64, 1 / 64, size=(3000, m)).min(axis=1).mean()
        assert table[m] == pytest.approx(sim, rel=0.01)



def test_min_statistics_table_equals_the_whole_grid_bit_for_bit():
    # the table is worked out a few rows at a time with the underflowing tail left at 0; the
    # floors (and so every burst level) depend on its exact values
    from scipy import special
    for shape in (1.0, 4.0, 16.0, 32.0, 64.0, 128.0, 512.0):
        for m_max in (16, 272, 528, 1040):
            hi = 1.0 + 12.0 / np.sqrt(shape)
            x = np.linspace(0.0, hi, 1001)
            log_sf = np.log(np.maximum(special.gammaincc(shape, x * shape), 1e-300))
            m = np.arange(1, m_max + 1)[:, None]
            whole = np.trapezoid(np.exp(m * log_sf[None, :]), x, axis=1)
            want = np.concatenate([[1.0], whole / whole[0]])
            assert min_gamma_mean_table.__wrapped__(shape, m_max).tobytes() == want.tobytes()

def _run_floor(levels: np.ndarray, window: int = 64, warmup: int = 4) -> np.ndarray:
    nf = NoiseFloor(n_bins=8, dof=4, chunk_ticks=16, window_chunks=window, warmup_chunks=warmup)
    rng = np.random.default_rng(1)
    out = []
    for lv in levels:
        nf.push(lv * rng.gamma(64, 1 / 64, size=8))
        out += nf.ready()
    out += nf.ready(final=True)
    return np.array(out)


def test_noise_floor_is_unbiased_and_ignores_a_transmission_shorter_than_the_window():
    levels = np.ones(400)
    levels[100:150] = 100.0  # a jammer 50 chunks long, 20 dB up, in bins of a 64-chunk window
    fl = _run_floor(levels)
    assert fl.shape == (400, 8)
    assert np.median(fl[20:100]) == pytest.approx(1.0, rel=0.05)
    assert fl[100:150].max() < 1.5  # the jammer stays above the floor for its whole length
    assert np.median(fl[300:]) == pytest.approx(1.0, rel=0.05)


def test_noise_floor_follows_a_lasting_level_change_within_one_window():
    levels = np.ones(400)
    levels[150:] = 10.0
    fl = _run_floor(levels)
    assert np.median(fl[100:150]) == pytest.approx(1.0, rel=0.05)
    assert np.median(fl[150 + 64 + 16:]) == pytest.approx(10.0, rel=0.05)


def test_noise_floor_warm_up_looks_ahead_past_a_burst_at_the_start():
    levels = np.ones(50)
    levels[:3] = 100.0  # the capture starts inside a transmission
    fl = _run_floor(levels, warmup=8)
    assert fl[0].mean() == pytest.approx(1.0, rel=0.1)


# --- short-time spectrum and channels ------------------------------------------------------------
def test_tick_spectrum_power_calibration_and_block_independence():
    fs = 250e3
    n_fft = fft_size_for(fs, 4000.0)
    assert n_fft == 64
    rng = np.random.default_rng(2)
    noise = complex_noise(64 * 4 * 400, 0.01, rng)
    tone = (0.1 * np.exp(2j * np.pi * 10 * fs / n_fft * np.arange(noise.size) / fs)).astype(np.complex64)
    x = noise + tone
    ts = TickSpectrum(fs, n_fft, 4)
    whole = ts.push(x)
    assert whole.shape == (400, 64)
    # total power per tick is the sample power; noise is flat at σ²/N per bin
    assert whole.sum(axis=1).mean() == pytest.approx(0.01 + 0.01, rel=0.05)
    noise_bins = np.delete(whole.mean(axis=0), [32 + 9, 32 + 10, 32 + 11])
    assert noise_bins.mean() == pytest.approx(0.01 / 64, rel=0.05)
    assert whole[:, 32 + 9:32 + 12].sum(axis=1).mean() == pytest.approx(0.01, rel=0.1)
    ts2 = TickSpectrum(fs, n_fft, 4)
    pieces = [ts2.push(x[a:a + 1000]) for a in range(0, x.size, 1000)]
    np.testing.assert_allclose(np.concatenate(pieces), whole, rtol=1e-4, atol=1e-9)


def test_extract_channel_passes_the_carrier_and_rejects_a_neighbour_70khz_away():
    fs = 1.024e6
    n = np.arange(200_000)
    fob = np.exp(2j * np.pi * 30e3 * n / fs)
    jam = 1000.0 * np.exp(2j * np.pi * -40e3 * n / fs)  # +60 dB, 70 kHz away
    y, rate, d = extract_channel((fob + jam).astype(np.complex64), fs, 30e3, 40e3)
    assert rate == fs / d and rate >= 100e3
    mid = y[1000:-1000]
    assert np.abs(mid).mean() == pytest.approx(1.0, abs=0.01)  # the jammer is gone
    # the carrier is at 0 Hz now
    assert abs(np.angle(np.mean(mid[1:] * np.conj(mid[:-1])))) < 1e-3


def test_channel_noise_bandwidth_matches_white_noise_through_the_filter():
    fs = 250e3
    w = complex_noise(500_000, 1.0, np.random.default_rng(3))
    y, _, _ = extract_channel(w, fs, 0.0, 40e3)
    assert np.mean(np.abs(y[1000:-1000]) ** 2) == pytest.approx(channel_noise_bandwidth(40e3) / fs, rel=0.03)


# --- demodulator primitives ----------------------------------------------------------------------
def test_otsu_split_separates_two_clusters():
    rng = np.random.default_rng(4)
    a = np.concatenate([rng.normal(0.1, 0.02, 5000), rng.normal(1.0, 0.05, 3000)])
    sp = otsu_split(a)
    assert 0.15 < sp.threshold < 0.85  # anywhere in the empty gap
    assert sp.mid == pytest.approx(0.55, abs=0.02)
    assert sp.low == pytest.approx(0.1, abs=0.02) and sp.high == pytest.approx(1.0, abs=0.02)
    assert sp.eta > 0.95
    assert otsu_split(rng.normal(0, 1, 8000)).eta < 0.7  # one cluster: no real split


def test_integrator_matches_a_direct_moving_average():
    x = np.random.default_rng(5).normal(size=50)
    integ = Integrator(x)
    ma = integ.average(5)
    assert ma[10] == pytest.approx(x[8:13].mean())
    assert integ.average(5, np.array([10]))[0] == pytest.approx(ma[10])


def test_hysteresis_ignores_dither_inside_the_band():
    a = np.array([0, 0.45, 0.55, 0.45, 0.55, 1, 0.55, 0.45, 0.55, 0.45, 0, 0.0])
    lv = hysteresis_levels(a, 0.4, 0.6)
    assert lv.tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0]
    edges, levels = edges_from_levels(lv, a, 0.5)
    assert levels.tolist() == [0, 1, 0]
    # each change moves back to the last midpoint crossing before the hysteresis switched
    assert edges[1] == pytest.approx(3.5) and edges[2] == pytest.approx(8.5)


def test_refined_ook_edges_land_on_the_true_edges_in_noise():
    rng = np.random.default_rng(6)
    n = 3000
    truth = np.array([0, 500, 900, 1700, 2100, n], dtype=float)
    lv = np.array([0, 1, 0, 1, 0], dtype=np.int8)
    env = np.zeros(n)
    for k in range(lv.size):
        env[int(truth[k]):int(truth[k + 1])] = lv[k]
    z = env * np.exp(1j * 0.7) + complex_noise(n, 0.25, rng)
    coarse = truth + np.array([0, 20, -25, 18, -30, 0])
    out = refine_ook_edges(z, coarse, lv)
    assert np.abs(out - truth).max() <= 6


def test_chip_period_finds_the_base_unit_of_a_pwm_burst():
    rng = np.random.default_rng(7)
    d = [50.0, 100.0] * 20 + [100.0, 50.0] * 20
    edges = np.concatenate([[0.0], np.cumsum([300.0] + d + [300.0])]) + rng.normal(0, 3, 83)
    te, strength = chip_period(edges)
    assert te == pytest.approx(50.0, rel=0.02)
    assert strength > 0.95  # fraction of runs on the grid


def test_spectral_lobes_tell_two_tones_from_one():
    fs = 125e3
    n = np.arange(40_000)
    rng = np.random.default_rng(8)
    fsk = np.where((n // 100) % 2 == 0, 40e3, -40e3)
    x = np.exp(2j * np.pi * np.cumsum(fsk) / fs) + complex_noise(n.size, 0.01, rng)
    lobes = spectral_lobes(x.astype(np.complex64), fs)
    assert lobes.two_lobes
    assert sorted([lobes.peak_hz, lobes.second_hz]) == pytest.approx([-40e3, 40e3], abs=1.5e3)
    ook = np.exp(2j * np.pi * 3e3 * n / fs) * ((n // 50) % 2) + complex_noise(n.size, 0.01, rng)
    one = spectral_lobes(ook.astype(np.complex64), fs)
    assert not one.two_lobes and one.peak_hz == pytest.approx(3e3, abs=300)


def _extract_reference(pieces, rate, offset_hz, bw, chunk, dc):
    """extract_channel by its definition: the whole segment in one zero-padded array (DC
    removed, ends faded), overlapping windows as views of it, an out-of-place FFT."""
    import math

    import scipy.fft

    from keyguard.dsp.channelize import _channel_mask, _taper_ramp, channel_decimation
    d = channel_decimation(rate, bw)
    x = np.concatenate(pieces)
    n = x.size
    out_n = -(-n // d)
    guard = int(math.ceil(24.0 / (0.25 * bw) * rate / d))
    if out_n <= 2 * chunk:
        m = scipy.fft.next_fast_len(out_n)
        hop, n_win, lead, guard_lo = m, 1, 0, 0
    else:
        m = scipy.fft.next_fast_len(chunk + 2 * guard)
        hop = m - 2 * guard
        n_win, lead, guard_lo = -(-out_n // hop), guard * d, guard
    nfft = m * d
    padded = np.zeros((n_win - 1) * hop * d + nfft, dtype=np.complex64)
    seg = padded[lead:lead + n]
    seg[:] = x - np.complex64(dc) if dc else x
    taper = min(int(5e-4 * rate), n // 8)
    if taper > 1:
        seg[:taper] *= _taper_ramp(taper)
        seg[n - taper:] *= _taper_ramp(taper)[::-1]
    windows = np.lib.stride_tricks.sliding_window_view(padded, nfft)[:: hop * d]
    spec = scipy.fft.fft(windows, axis=1, workers=1)
    starts = np.arange(n_win) * hop * d - lead
    shift = int(round(offset_hz * nfft / rate))
    j = np.fft.fftfreq(m, 1.0 / m).astype(np.int64)
    sel = spec[:, (shift + j) % nfft] * _channel_mask(m, rate / nfft, float(bw))
    y = scipy.fft.ifft(sel, axis=1, workers=1)
    y *= (np.exp(-2j * np.pi * (shift * rate / nfft) * starts / rate) * (m / nfft))[:, None].astype(np.complex64)
    return y[:, guard_lo:guard_lo + hop].reshape(-1)[:out_n]


def test_extract_channel_windows_built_in_place_equal_the_padded_definition():
    # the windows are written straight into a reused buffer and transformed in place: the
    # output must be bit-identical to the padded-copy definition, whatever the pieces, and a
    # later call must not change an earlier result (the buffer never escapes)
    rng = np.random.default_rng(21)
    results = []
    for t, (rate, n, chunk) in enumerate([(250e3, 3000, 8192), (250e3, 90_000, 8192),
                                          (1.024e6, 320_000, 8192), (1.024e6, 50_000, 512),
                                          (2.048e6, 12_345, 1024)]):
        x = ((rng.standard_normal(n) + 1j * rng.standard_normal(n)) * 0.1).astype(np.complex64)
        pieces = np.split(x, np.sort(rng.integers(0, n, t + 1)))
        dc = 0j if t % 2 else 0.003 - 0.002j
        off = float(rng.uniform(-0.3, 0.3) * rate)
        y, _, _ = extract_channel(pieces, rate, off, 40e3, chunk=chunk, dc=dc)
        ref = _extract_reference(pieces, rate, off, 40e3, chunk, dc)
        assert np.array_equal(y, ref)
        results.append((y, y.copy()))
    for y, kept in results:
        assert np.array_equal(y, kept)


def test_channel_bins_equal_the_gathered_bins():
    # extract_channel copies the channel's bins as slices: the same values, in the same (FFT)
    # order, as the gather spec[:, (shift + j) % nfft], wraps past either end included
    from keyguard.dsp.channelize import _channel_bins
    rng = np.random.default_rng(41)
    for t in range(300):
        m = int(rng.integers(1, 3000))
        nfft = m * int(rng.integers(1, 4))
        rows = int(rng.integers(1, 4))
        spec = (rng.standard_normal((rows, nfft)) + 1j * rng.standard_normal((rows, nfft))
                ).astype(np.complex64)
        shift = int(rng.integers(-nfft // 2, nfft // 2 + 1))
        j = np.fft.fftfreq(m, 1.0 / m).astype(np.int64)
        want = spec[:, (shift + j) % nfft]
        got = _channel_bins(spec, shift, m)
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes()


def test_tick_power_sums_each_ticks_frames_in_order():
    # a tick's frames are added one after the other: np.add.reduce over the frame axis, bit
    # for bit, for any number of frames per tick
    import scipy.fft
    rng = np.random.default_rng(42)
    # (the window is applied over runs of 64 frames, then frame by frame for the rest: tick
    # counts on both sides of that)
    for n_fft, frames, ticks in [(64, 8, 37), (256, 4, 37), (128, 1, 37), (32, 3, 37),
                                 (128, 1, 130), (64, 8, 8), (256, 4, 1)]:
        ts = TickSpectrum(250e3, n_fft, frames)
        x = ((rng.standard_normal(ts.tick_len * ticks) + 1j * rng.standard_normal(ts.tick_len * ticks))
             * 0.1).astype(np.complex64)
        got = ts.push(x)
        buf = (x.reshape(-1, n_fft) * ts._window).astype(np.complex64)
        spec = scipy.fft.fft(buf, axis=1, workers=1)
        sq = spec.view(np.float32) ** 2
        acc = np.add.reduce(sq.reshape(-1, frames, 2 * n_fft), axis=1)
        want = np.add(acc[:, 0::2], acc[:, 1::2]) * ts._scale
        assert got.tobytes() == want.tobytes()


def test_region_core_equals_the_numpy_definition():
    # the core (strongest bin and its neighbours within CORE_DB) is found by a walk over a
    # list: the same bins as argmax and the first bins below the threshold on either side
    from keyguard.dsp.bursts import _Region
    rng = np.random.default_rng(43)
    for t in range(3000):
        lo = int(rng.integers(0, 60))
        hi = int(rng.integers(lo, 64))
        r = _Region(lo, hi, 0, 64)
        r.spec = rng.standard_normal(64) ** 2 * 10.0 ** rng.integers(-3, 3, 64)
        r.floor = rng.random(64) * (3 if t % 3 else 0.1)
        if t % 13 == 0:
            r.spec[rng.integers(0, 64)] = np.nan
        if t % 19 == 0:
            r.spec[:] = r.floor  # nothing above the floor
        if t % 23 == 0:
            r.spec[lo:hi + 1] = r.spec[lo]  # ties
        r.ticks = [0, 1, 2]
        ex = (r.spec[lo:hi + 1] - r.floor[lo:hi + 1]) / 3
        k = int(np.argmax(ex))
        below = (np.flatnonzero(np.arange(ex.size) != k) if ex[k] <= 0
                 else np.flatnonzero(ex < ex[k] * 10 ** (-_Region.CORE_DB / 10)))
        i = int(np.searchsorted(below, k))
        a = int(below[i - 1]) + 1 if i > 0 else 0
        b = int(below[i]) - 1 if i < below.size else ex.size - 1
        r._update_core()
        assert (r.lo, r.hi) == (lo + a, lo + b)


def test_noise_floor_group_ring_equals_the_list_of_groups():
    # the window's group minima live in a ring: the floors are those of the minimum over a
    # list of the last groups, whatever the batch sizes
    rng = np.random.default_rng(44)
    g = NoiseFloor.GROUP
    for window, warmup in [(g, 3), (4 * g, 5), (7 * g, 1)]:
        nf = NoiseFloor(8, 4, 16, window, warmup)
        means = rng.gamma(4.0, 1.0, (23 * g + 5, 8))
        got, pos = [], 0
        while pos < means.shape[0]:
            step = int(rng.integers(1, 3 * g))
            nf.push_many(means[pos:pos + step])
            pos += step
            got.append(nf.ready_array())
        got.append(nf.ready_array(final=True))
        got = np.concatenate(got)
        # the definition: chunk k's floor is the minimum over the window's whole groups before
        # its own and its own group up to k (the warm-up chunks take the last warm-up floor)
        n_keep = nf.window_chunks // g - 1
        want = []
        for k in range(means.shape[0]):
            kk = max(k, nf.warmup_chunks - 1)
            g0 = max(0, (kk // g - n_keep) * g)
            span = means[g0:kk + 1]
            m = span.shape[0]
            want.append(span.min(axis=0) / nf._bias[min(m, nf._bias.size - 1)])
        assert np.array_equal(got, np.array(want))


def _copy_candidate(offset_hz: float, channel_hz: float, channel_bw_hz: float, rssi_db: float):
    from keyguard.dsp.bursts import Burst
    fs = 1.024e6
    return Burst(start=0, stop=90_000, sample_rate=fs, center_freq=433.92e6, offset_hz=offset_hz,
                 channel_offset_hz=channel_hz, rssi_db=rssi_db, snr_db=40.0, channel_snr_db=45.0,
                 noise_db=-50.0, channel_noise_db=-55.0, bandwidth_hz=20e3, duty_cycle=0.5,
                 iq=np.zeros(4, np.complex64), iq_rate=fs / 4, iq_start=0, iq_step=4,
                 channel_bw_hz=channel_bw_hz)


def test_a_copy_needs_one_carrier_inside_the_others_channel():
    """Fresh benign soak seed 109067: the owner's answer 30 dB over full scale at +19.2 kHz and
    its −3F clipping product at −57.6 kHz, each in its own channel (40 kHz; 160 kHz around
    −90 kHz): half the product's channel reached the owner's carrier, and the owner's frames
    were dropped as copies of the product's, which centred the press 176 ppm off the key."""
    from keyguard.dsp.bursts import BurstDetector
    det = BurstDetector(1.024e6, 433.92e6)
    product = _copy_candidate(-57.6e3, -90e3, 160e3, -5.6)
    assert not det._duplicate(product)
    assert not det._duplicate(_copy_candidate(19.2e3, 18e3, 40e3, 2.0))
    # the same transmission seen through a neighbouring region: its carrier in both channels
    assert det._duplicate(_copy_candidate(-60.0e3, -50e3, 40e3, -8.0))


def test_of_two_copies_the_one_centred_in_its_channel_is_kept():
    """Fresh benign soak seed 148065: a passer-by's region, kept open past his press by a
    doorbell's image, showed the doorbell's 0.74 s ring through its channel's edge (carrier
    read +13.8 kHz in a 55 kHz channel centred at −9.8 kHz), first; the ring in its own
    channel (+29.6 kHz, centred at +33.2 kHz), as long and 8 dB stronger, was dropped as its
    copy, and the undecoded edge copy was called jamming."""
    import heapq
    from keyguard.dsp.bursts import BurstDetector
    det = BurstDetector(1.024e6, 433.92e6)
    edge = _copy_candidate(13.8e3, -9.8e3, 54.7e3, -16.4)
    assert not det._duplicate(edge)
    heapq.heappush(det._ready, (edge.start, 0, edge))
    ring = _copy_candidate(29.6e3, 33.2e3, 40e3, -8.3)
    assert not det._duplicate(ring)
    assert det.held() == [] and list(det._emitted) == [ring]  # the edge copy withdrawn
    # in the other order, the edge copy is the one dropped
    det2 = BurstDetector(1.024e6, 433.92e6)
    assert not det2._duplicate(ring)
    heapq.heappush(det2._ready, (ring.start, 0, ring))
    assert det2._duplicate(_copy_candidate(13.8e3, -9.8e3, 54.7e3, -16.4))
    # neither centred (both near their channel's edge): the first copy stays
    det3 = BurstDetector(1.024e6, 433.92e6)
    assert not det3._duplicate(edge)
    heapq.heappush(det3._ready, (edge.start, 0, edge))
    assert det3._duplicate(_copy_candidate(29.6e3, 15e3, 40e3, -8.3))
