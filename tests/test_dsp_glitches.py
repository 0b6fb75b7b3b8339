"""Glitches: a loud neighbour's key clicks leak through a fob's channel filter as runs far
shorter than any of the fob's own (fresh benign soak seed 72086: a weather sensor at
−6.8 dBFS, 29 kHz from the owner's press, put 56–88 µs pulses into its 400 µs chips, and no
frame decoded). The demodulator merges runs under 0.3 of the burst's 25th-percentile run into
their neighbours; where such runs are a quarter of all runs or more, nothing is merged."""

from __future__ import annotations

import numpy as np

from keyguard.dsp.demod import drop_short_runs, glitch_length
from keyguard.pulse_train import PulseTrain
from test_dsp_jammed_bursts import SERIAL, bursts_of, decodes, keeloq_frame
from test_dsp_synthetic import scene


def test_glitch_length_is_a_fraction_of_the_shorter_regular_runs():
    rng = np.random.default_rng(3)
    runs = rng.choice([100.0, 200.0], size=200)
    edges = np.concatenate([[0.0], np.cumsum(runs)])
    assert glitch_length(edges) == 0.3 * 100.0
    assert glitch_length(edges[:10]) == 0.0  # too few runs to tell
    # where short runs are a quarter or more of them, they are the burst's own
    runs[::3] = 20.0
    edges = np.concatenate([[0.0], np.cumsum(runs)])
    assert glitch_length(edges) == 0.3 * 20.0


def test_a_glitch_in_a_gap_merges_back_into_the_gap():
    # PWM chips of 100 and 200 samples, then a 20-sample pulse splitting a 200-sample gap
    runs = [100.0, 200.0] * 10 + [90.0, 20.0, 90.0] + [100.0, 200.0] * 2 + [100.0]
    edges = np.concatenate([[0.0], np.cumsum(runs)])
    levels = (np.arange(len(runs)) % 2 == 0).astype(np.int8)
    e, lv = drop_short_runs(edges, levels, glitch_length(edges))
    assert len(lv) == len(runs) - 2
    assert np.diff(e)[20] == 200.0 and np.all(lv[1:] != lv[:-1])


def test_a_strong_fob_with_a_neighbours_clicks_in_its_gaps_still_decodes():
    fs, amp, f0 = 1.024e6, 0.05, 20e3
    fr = keeloq_frame()
    # 70 µs pulses of a neighbour 5 kHz away, as loud as the fob, inside three of its
    # 800 µs gaps (between 15 and 60 ms into the frame)
    edges = np.concatenate([[0.0], np.cumsum(fr.durations_us)])
    gaps = [(a, d) for a, d, lv in zip(edges[:-1], fr.durations_us, fr.levels)
            if lv == 0 and 700 <= d <= 900 and 15e3 <= a <= 60e3]
    click = PulseTrain(np.array([70.0]), np.array([1], np.int8))
    clicks = [(0.1 + (a + 0.4 * d) * 1e-6, click, dict(freq_offset_hz=f0 + 5e3, amplitude=amp))
              for a, d in gaps[:3]]
    x = scene(fs, 0.3, [(0.1, fr, dict(freq_offset_hz=f0, amplitude=amp))] + clicks,
              amp ** 2 / 10 ** (30 / 10), seed=11)
    bs = [b for b in bursts_of(x, fs) if abs(b.offset_hz - f0) < 5e3]
    assert bs and any(decodes(b) for b in bs), f"keeloq:{SERIAL:08X} not decoded"
