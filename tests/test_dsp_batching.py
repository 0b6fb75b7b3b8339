"""The front end's batched fast paths give exactly what the plain, one-at-a-time forms give:
noise floors pushed in batches, channels cut from pieces of the history with the DC offset
removed on the way, the centred short-time spectrum, and blocks kept without a copy."""

from __future__ import annotations

import numpy as np
import pytest

from keyguard.dsp.bursts import BurstDetector
from keyguard.dsp.channelize import TickSpectrum, extract_channel
from keyguard.dsp.noise import NoiseFloor
from keyguard.io.capture import Capture
from keyguard.sim.render import complex_noise


@pytest.mark.parametrize("window,warmup,n", [(64, 4, 300), (16, 40, 90), (100, 1, 37), (32, 31, 5)])
def test_noise_floor_batches_match_one_chunk_at_a_time(window, warmup, n):
    rng = np.random.default_rng(window + warmup)
    data = rng.gamma(4, 1.0, size=(n, 6))
    one = NoiseFloor(6, 4, 16, window, warmup)
    single = []
    for row in data:
        one.push(row)
        single += one.ready()
    single += one.ready(final=True)
    batched = NoiseFloor(6, 4, 16, window, warmup)
    out = []
    for a in range(0, n, 23):  # batches that straddle the 16-chunk groups
        batched.push_many(data[a:a + 23])
        out.append(batched.ready_array())
    out.append(batched.ready_array(final=True))
    np.testing.assert_array_equal(np.concatenate(out), np.array(single))


def test_noise_floor_rejects_a_wrong_batch_shape():
    with pytest.raises(ValueError):
        NoiseFloor(6, 4, 16, 64, 4).push_many(np.ones((3, 5)))


@pytest.mark.parametrize("fs,n", [(250e3, 30_000), (1.024e6, 400_000)])  # one window / several
def test_extract_channel_from_pieces_with_dc_equals_the_whole_segment(fs, n):
    rng = np.random.default_rng(5)
    x = complex_noise(n, 0.01, rng) + np.complex64(0.02 - 0.01j)
    whole, rate, d = extract_channel(x - np.complex64(0.02 - 0.01j), fs, 15e3, 40e3)
    cuts = [0, 1234, n // 2, n - 7, n]
    pieces = [x[a:b] for a, b in zip(cuts, cuts[1:])]
    keep = x.copy()
    y, rate2, d2 = extract_channel(pieces, fs, 15e3, 40e3, dc=0.02 - 0.01j)
    assert (rate2, d2) == (rate, d)
    np.testing.assert_array_equal(y, whole)
    np.testing.assert_array_equal(x, keep)  # the caller's samples are never changed


def test_extract_channel_gives_the_same_samples_for_any_window_batch(monkeypatch):
    """A long segment is transformed a batch of windows at a time through a bounded buffer:
    each window's output must not depend on the batch it came in (2.4 Msps, 0.5 s, a 40 kHz
    channel: windows of ≈ 210k samples, one per batch down to all of them in one)."""
    import keyguard.dsp.channelize as ch
    rng = np.random.default_rng(11)
    x = complex_noise(1_200_000, 0.01, rng)
    pieces = [x[:300_001], x[300_001:777_777], x[777_777:]]
    ref = extract_channel(pieces, 2.4e6, -31e3, 40e3, dc=0.003 + 0.001j)[0]
    for reuse, rows in ((1, 1), (1 << 19, 3), (1 << 26, 8)):
        monkeypatch.setattr(ch, "_REUSE_MAX", reuse)
        monkeypatch.setattr(ch, "_BATCH_ROWS", rows)
        y = extract_channel(pieces, 2.4e6, -31e3, 40e3, dc=0.003 + 0.001j)[0]
        np.testing.assert_array_equal(y, ref)


@pytest.mark.parametrize("max_frames", [None, 50])
def test_frame_power_of_pieces_equals_the_concatenated_stretch(max_frames):
    """Envelope frames are gathered from the history's blocks without joining them, frames
    that straddle two blocks (or an empty one) included."""
    rng = np.random.default_rng(12)
    ts = TickSpectrum(1.024e6, 256, 4)
    x = complex_noise(64 * 256 + 77, 0.01, rng)
    cuts = [0, 100, 100, 5000, 5120, 9999, x.size]
    pieces = [x[a:b] for a, b in zip(cuts, cuts[1:])]
    whole = ts.frame_power(x, max_frames)
    assert whole.shape == (64 if max_frames is None else 50, 256)
    np.testing.assert_array_equal(ts.frame_power(pieces, max_frames), whole)


def test_tick_spectrum_is_centred_and_measures_the_dc_offset():
    fs, n_fft = 250e3, 64
    x = np.full(64 * 4 * 10, 0.05 + 0.02j, dtype=np.complex64)  # a pure DC offset
    ts = TickSpectrum(fs, n_fft, 4)
    p = ts.push(x)
    assert int(np.argmax(p.mean(axis=0))) == n_fft // 2  # 0 Hz is the middle bin
    np.testing.assert_allclose(ts.dc, 0.05 + 0.02j, rtol=1e-5)
    tone = np.exp(2j * np.pi * 10 * fs / n_fft * np.arange(x.size) / fs).astype(np.complex64)
    assert int(np.argmax(TickSpectrum(fs, n_fft, 4).push(tone).mean(axis=0))) == n_fft // 2 + 10


def test_capture_blocks_kept_without_a_copy_give_the_same_bursts():
    fs = 250e3
    rng = np.random.default_rng(9)
    x = complex_noise(int(0.6 * fs), 1e-3, rng)
    on = (np.arange(x.size) // 250) % 2 == 0
    x[50_000:80_000] += (0.1 * on[50_000:80_000]).astype(np.complex64)
    cap = Capture.from_array(x, fs, 433.92e6)
    # from_array blocks are views of x: copied; fresh blocks (as a file reader makes) are not
    via_views = list(BurstDetector(fs, 433.92e6).iter_bursts(cap, 1 << 14))
    det = BurstDetector(fs, 433.92e6)
    fresh = []
    for blk in cap.blocks(1 << 14):
        fresh += det._feed(blk.samples.copy())
    fresh += det.flush()
    assert len(via_views) == len(fresh) == 1
    assert (via_views[0].start, via_views[0].stop) == (fresh[0].start, fresh[0].stop)
    np.testing.assert_array_equal(via_views[0].iq, fresh[0].iq)
    assert np.array_equal(cap.read(0, x.size), x)  # the capture's own array is untouched
