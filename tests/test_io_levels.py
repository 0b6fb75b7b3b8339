"""Level statistics: noise floor, peak, clipping fraction, DC offset."""

from __future__ import annotations

import numpy as np
import pytest

from keyguard.io import Capture, open_capture, write_iq
from keyguard.io.levels import measure_levels


def noisy_burst(rng, n=250_000, noise_db=-40.0, amp=0.5, dc=0.0):
    s = np.sqrt(10 ** (noise_db / 10) / 2)
    x = (rng.standard_normal(n) + 1j * rng.standard_normal(n)) * s + dc
    x[100_000:110_000] += amp  # one 40 ms carrier burst
    return x.astype(np.complex64)


def test_noise_floor_peak_and_dc_of_a_known_signal():
    for rate, noise_db in ((250e3, -40.0), (2.4e6, -25.0)):
        lv = measure_levels(Capture.from_array(noisy_burst(np.random.default_rng(0), noise_db=noise_db), rate))
        assert lv.noise_floor_dbfs == pytest.approx(noise_db, abs=0.15)
    x = noisy_burst(np.random.default_rng(0), dc=0.01)
    lv = measure_levels(Capture.from_array(x, 250e3))
    assert lv.samples == x.size and lv.window_samples == 250
    # the DC adds its power to every window: 1e-4 + 1e-4
    assert lv.noise_floor_dbfs == pytest.approx(10 * np.log10(1e-4 + 1e-4), abs=0.3)
    # carrier + DC = 0.51, plus the largest noise excursion over 10 000 samples (σ ≈ 0.007)
    assert 20 * np.log10(0.51) < lv.peak_dbfs < 20 * np.log10(0.56)
    assert abs(lv.dc_offset - 0.01 - 0.5 * 10_000 / x.size) < 1e-3
    assert lv.clipping_fraction is None and not lv.clipped  # float array: no integer extremes


def test_clipped_cu8_capture_is_flagged(tmp_path):
    rng = np.random.default_rng(1)
    x = noisy_burst(rng)
    x[100_000:110_000] *= 3.0  # gain too high: the burst overdrives the ADC
    p = tmp_path / "hot.cu8"
    write_iq(p, x, "cu8")
    lv = measure_levels(open_capture(p))
    assert lv.clipped and 0.02 < lv.clipping_fraction <= 10_000 / x.size + 1e-9
    write_iq(tmp_path / "ok.cu8", noisy_burst(rng), "cu8")
    ok = measure_levels(open_capture(tmp_path / "ok.cu8"))
    assert ok.clipping_fraction == 0.0 and not ok.clipped


def test_clipping_at_the_cs16_extremes(tmp_path):
    comps = np.zeros(2000, "<i2")
    comps[:4] = [-32768, 0, 0, 32767]  # two of 1000 samples touch an extreme
    p = tmp_path / "c.cs16"
    p.write_bytes(comps.tobytes())
    lv = measure_levels(open_capture(p))
    assert lv.clipping_fraction == pytest.approx(2 / 1000) and lv.clipped


def test_max_samples_and_silence():
    lv = measure_levels(Capture.from_array(np.zeros(1000, np.complex64), 1e6), max_samples=300)
    assert lv.samples == 300 and lv.peak_dbfs is None and lv.dc_offset_dbfs is None
    d = lv.as_dict()
    assert set(d) == {"noise_floor_dbfs", "peak_dbfs", "mean_power_dbfs", "clipping_fraction",
                      "dc_offset_dbfs"}
