"""A noise jammer wider than most of a 250 ksps band lifts the whole band: the common-mode
correction (meant for receiver gain changes) would divide it out of every bin and no channel
would hold a burst. The band-wide rise is a burst of its own; a receiver gain step is not."""

from __future__ import annotations

import numpy as np
import pytest

from keyguard.dsp import BurstDetector
from keyguard.io.capture import Capture
from keyguard.sim.render import complex_noise

FS, CENTER = 250e3, 433.92e6


def band_noise(n: int, width_hz: float, centre_hz: float, rng) -> np.ndarray:
    k = np.fft.fftfreq(n, 1 / FS)
    x = np.fft.ifft(np.fft.fft(complex_noise(n, 1.0, rng)) * (np.abs(k - centre_hz) < width_hz / 2))
    return (x / np.std(x)).astype(np.complex64)


def bursts(x: np.ndarray, block: int = 1 << 16) -> list:
    det = BurstDetector(FS, CENTER)
    return list(det.iter_bursts(Capture.from_array(x, FS, CENTER), block))


@pytest.mark.parametrize("block", [1 << 14, 1 << 18])
def test_a_noise_jammer_over_most_of_the_band_is_a_continuous_burst(block):
    rng = np.random.default_rng(7)
    x = complex_noise(int(5.0 * FS), 1e-4, rng)
    a, b = int(1.5 * FS), int(4.0 * FS)
    x[a:b] += 0.1 * band_noise(b - a, 200e3, -10e3, rng)      # 40 dB over the noise
    got = [bb for bb in bursts(x, block) if bb.continuous]
    assert got, "the band-wide rise gave no burst"
    assert min(bb.t for bb in got) == pytest.approx(1.5, abs=0.02)
    assert max(bb.t_end for bb in got) == pytest.approx(4.0, abs=0.02)
    assert sum(bb.duration_s for bb in got) == pytest.approx(2.5, abs=0.05)
    assert all(bb.bandwidth_hz >= 100e3 for bb in got)


def test_a_receiver_gain_step_is_no_burst():
    # every bin lifted alike (no quiet edge) by 15 dB for two seconds
    rng = np.random.default_rng(8)
    x = complex_noise(int(5.0 * FS), 1e-4, rng)
    a, b = int(1.5 * FS), int(3.5 * FS)
    x[a:b] *= np.float32(10 ** (15 / 20))
    assert [bb for bb in bursts(x) if bb.duration_s > 0.3] == []
