"""``beat_depth`` / ``beat_floor``: a second transmitter keyed over a burst on another carrier
beats with it in the pulses the two share; a lone transmitter's pulses stay flat, and receiver
or recorded noise ripples every pulse alike."""

from __future__ import annotations

import numpy as np
import pytest

from keyguard.features import burst_features
from keyguard.sim.render import add_awgn, render_pulse_train
from test_features_burst import keeloq_train

FS = 125e3


def fob(seed: int, offset_hz: float, lead_s: float = 0.002, te: float = 400.0) -> np.ndarray:
    """A KeeLoq-like frame (preamble, 66 PWM bits) at ``offset_hz``, amplitude 1."""
    rng = np.random.default_rng(seed)
    return render_pulse_train(keeloq_train(rng, te), FS, freq_offset_hz=offset_hz, rise_time_us=12.0,
                              lead_s=lead_s, tail_s=0.004, phase=rng.uniform(0, 6))


def beat(y: np.ndarray) -> tuple[float, float]:
    f = burst_features(y.astype(np.complex64), FS, modulation="OOK")
    return f["beat_depth"], f["beat_floor"]


def test_a_lone_fob_has_a_flat_envelope():
    rng = np.random.default_rng(1)
    y = add_awgn(0.3 * fob(1, 2e3), 25.0, rng, signal_power=0.09)
    depth, floor = beat(y)
    assert depth < 0.05 and floor < 0.03


@pytest.mark.parametrize("sep_hz, level_db, start_s", [
    (6.5e3, 0.0, 0.011),     # two fobs at one level, keyed 11 ms apart (soak seed 38011)
    (3.6e3, 0.0, 0.011),
    (5e3, -6.0, 0.020),      # a passer-by 6 dB under
    (7.5e3, -6.0, 0.040),    # ... starting late in the frame
])
def test_a_second_fob_keyed_over_the_burst_beats_in_the_pulses_they_share(sep_hz, level_db,
                                                                           start_s):
    rng = np.random.default_rng(2)
    a = fob(2, -2e3)
    b = fob(3, -2e3 + sep_hz, lead_s=0.002 + start_s)
    n = min(a.size, b.size)
    y = 0.3 * a[:n] + 0.3 * 10 ** (level_db / 20) * b[:n]
    y = add_awgn(y, 25.0, rng, signal_power=0.09)
    depth, floor = beat(y)
    assert depth >= 0.15 and depth >= 8 * floor


def test_a_second_fob_keyed_in_step_over_every_pulse_is_not_told_from_noise():
    # the limit of the measure: keyed at the same instant, the two share every pulse, so no
    # pulse stays flat to compare with (fobs pressed by two people are ms apart)
    rng = np.random.default_rng(5)
    a, b = fob(5, -2e3), fob(6, 3e3)
    n = min(a.size, b.size)
    y = add_awgn(0.3 * a[:n] + 0.3 * 10 ** (-10 / 20) * b[:n], 25.0, rng, signal_power=0.09)
    depth, floor = beat(y)
    assert depth >= 0.15 and depth < 8 * floor


def test_noise_ripples_every_pulse_alike():
    # a raw-IQ replay: the recording's own noise comes along inside every pulse (12 dB under)
    rng = np.random.default_rng(4)
    x = 0.3 * fob(4, 1e3)
    on = np.abs(x) > 0.15
    rec = (rng.normal(size=x.size) + 1j * rng.normal(size=x.size)) * 0.3 * 10 ** (-12 / 20) / 2**0.5
    y = add_awgn(x + rec * on, 25.0, rng, signal_power=0.09)
    depth, floor = beat(y)
    assert depth < 8 * floor
