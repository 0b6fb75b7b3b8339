"""Timing estimation (the pulse analyser): clusters, line-code guess, unknown frames, noise."""

from __future__ import annotations

import numpy as np

from keyguard.dsp import timing
from keyguard.protocols.encode import press_train
from keyguard.protocols.profile import profile_from_dict

RNG = np.random.default_rng(11)


def _profile(line_code: str, **over) -> dict:
    base = {
        "name": "synthetic", "description": "test", "frequencies_hz": [433_920_000],
        "modulation": "OOK", "line_code": line_code,
        "timing": {"te_short_us": 300, "te_long_us": 600, "tolerance_us": 100},
        "frame": {"bits": 48, "gap_us": 8000},
        "fields": [{"name": "hi", "offset": 0, "width": 24}, {"name": "lo", "offset": 24, "width": 24}],
        "repeat": {"frames_per_press": 4, "inter_frame_gap_us": 9000},
    }
    for k, v in over.items():
        base[k] = v
    return base


def _train(prof: dict, jitter_us: float = 20.0):
    p = profile_from_dict(prof)
    tr = press_train(p, {"hi": int(RNG.integers(1 << 24)), "lo": int(RNG.integers(1 << 24))})
    d = tr.durations_us + RNG.normal(0, jitter_us, tr.durations_us.size)
    return np.maximum(d, 10), tr.levels


def test_cluster_widths_separates_short_and_long():
    w = np.concatenate([RNG.normal(400, 25, 300), RNG.normal(800, 30, 150), [4000.0]])
    cl = timing.cluster_widths(w)
    assert abs(cl[0].center_us - 400) < 15 and cl[0].count == 300
    assert abs(cl[1].center_us - 800) < 15 and cl[1].count == 150


def test_estimate_guesses_pwm():
    d, lv = _train(_profile("pwm", line={"one": "short"}))
    est = timing.estimate_timing(d, lv)
    assert est.line_code == "pwm"
    assert abs(est.short_us - 300) < 30 and abs(est.long_us - 600) < 40


def test_estimate_guesses_manchester():
    d, lv = _train(_profile("manchester", timing={"te_short_us": 500, "tolerance_us": 150}))
    est = timing.estimate_timing(d, lv)
    assert est.line_code == "manchester" and abs(est.short_us - 500) < 40


def test_estimate_guesses_pulse_length():
    d, lv = _train(_profile("pulse_length"))
    est = timing.estimate_timing(d, lv)
    assert est.line_code == "pulse_length"


def test_estimate_guesses_ppm():
    d, lv = _train(_profile("ppm", timing={"te_short_us": 500, "te_long_us": 1000,
                                           "tolerance_us": 200},
                            line={"pulse_us": 250}))
    est = timing.estimate_timing(d, lv)
    assert est.line_code == "ppm"


def test_noise_gives_no_estimate_and_no_frames():
    d = RNG.uniform(50, 2000, 3000)
    lv = (np.arange(3000) % 2 == 0).astype(np.int8)
    assert timing.estimate_timing(d, lv) is None
    assert timing.unknown_frames(d, lv) == []


def test_unknown_frames_repeat_identically():
    d, lv = _train(_profile("pwm", line={"one": "short"}))
    frames = timing.unknown_frames(d, lv)
    assert len(frames) == 4
    assert all(f.bits.size == 48 for f in frames)
    assert all(np.array_equal(f.bits, frames[0].bits) for f in frames)
    assert all(f.t1_us > f.t0_us for f in frames)


def test_preamble_only_is_not_a_frame():
    pairs = np.full(200, 250.0)
    lv = (np.arange(200) % 2 == 0).astype(np.int8)
    assert timing.unknown_frames(pairs, lv) == []


def test_noise_on_the_sample_grid_is_not_pcm():
    """Noise sliced by a demodulator comes as runs of whole samples (4 µs at 250 ksps): every
    run is then a multiple of one sample, which a PCM slicer reads as clean frames of a 4 µs
    chip (a noise jammer's burst gave 87 such "frames" in one fresh RollJam capture, learnt as
    identities). No base unit under MIN_UNIT_US is reported; a tyre sensor's 25 µs
    Manchester still is."""
    rng = np.random.default_rng(7)
    d = rng.geometric(0.45, 4000) * 4.0
    lv = (np.arange(d.size) % 2 == 0).astype(np.int8)
    assert timing.estimate_timing(d, lv) is None
    assert timing.unknown_frames(d, lv) == []
    # a tyre sensor's 25 µs Manchester halves are a code
    d2, lv2 = _train(_profile("manchester", timing={"te_short_us": 25, "te_long_us": 50,
                                                    "tolerance_us": 8}), jitter_us=2.0)
    frames = timing.unknown_frames(d2, lv2)
    assert len(frames) == 4
    assert all(abs(f.fields["te_short_us"] - 25.0) < 3.0 for f in frames)
