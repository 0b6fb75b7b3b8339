"""Slicers: pulse-train runs -> bits, for every line code, with tolerance, stops and confidence."""

from __future__ import annotations

import numpy as np
import pytest

from keyguard.dsp import slicers
from keyguard.dsp.slicers import bits_to_hex, hex_to_bits

RNG = np.random.default_rng(7)
BITS = RNG.integers(0, 2, 40).astype(np.uint8)


def runs(pairs):
    """(durations, levels) from a list of (level, µs)."""
    lv = np.array([p[0] for p in pairs], dtype=np.int8)
    d = np.array([p[1] for p in pairs], dtype=np.float64)
    return d, lv


def pwm_runs(bits, short=400, long_=800, one_short=True, end_gap=10000):
    out = []
    for b in bits:
        s = (b == 1) == one_short
        out += [(1, short if s else long_), (0, long_ if s else short)]
    out[-1] = (0, end_gap)
    return runs(out)


def manchester_chips(bits, zero_rising=True):
    chips = []
    for b in bits:
        first = b if zero_rising else 1 - b
        chips += [first, 1 - first]
    return chips


def chip_runs(chips, unit):
    out = []
    for c in chips:
        if out and out[-1][0] == c:
            out[-1] = (c, out[-1][1] + unit)
        else:
            out.append((c, unit))
    return out


def test_pwm_exact_and_last_bit_from_pulse():
    d, lv = pwm_runs(BITS)
    r = slicers.slice_pwm(d, lv, short_us=400, long_us=800, tolerance_us=140)
    assert np.array_equal(r.bits, BITS)
    assert r.reason == slicers.STOP_GAP  # the last gap is the guard: read from the pulse
    assert r.min_confidence == pytest.approx(1.0)
    assert r.stop == d.size - 1


def test_pwm_one_long_convention_inverts():
    d, lv = pwm_runs(BITS, one_short=False)
    r = slicers.slice_pwm(d, lv, short_us=400, long_us=800, tolerance_us=140, one="long")
    assert np.array_equal(r.bits, BITS)


def test_pwm_jitter_lowers_confidence_but_keeps_bits():
    d, lv = pwm_runs(BITS)
    d2 = d + np.where(np.arange(d.size) % 2 == 0, 90.0, -90.0)
    d2[-1] = 10000
    r = slicers.slice_pwm(d2, lv, short_us=400, long_us=800, tolerance_us=140)
    assert np.array_equal(r.bits, BITS)
    assert 0.4 < r.min_confidence < 0.7  # 90 µs off a 200 µs half-separation


def test_pwm_stops_at_a_run_out_of_tolerance():
    d, lv = pwm_runs(BITS)
    d[20] = 600  # the 11th pulse sits between short and long
    r = slicers.slice_pwm(d, lv, short_us=400, long_us=800, tolerance_us=140)
    assert r.bits.size == 10 and r.reason == slicers.STOP_MISFIT
    assert np.array_equal(r.bits, BITS[:10])


def test_pwm_max_bits_reports_more_data():
    d, lv = pwm_runs(BITS)
    r = slicers.slice_pwm(d, lv, short_us=400, long_us=800, tolerance_us=140, max_bits=30)
    assert r.bits.size == 30 and r.reason == slicers.STOP_MAX and r.stop == 60


def test_pwm_scale_follows_a_slow_clock():
    d, lv = pwm_runs(BITS)
    d = d * 1.3
    r0 = slicers.slice_pwm(d, lv, short_us=400, long_us=800, tolerance_us=100)
    r1 = slicers.slice_pwm(d, lv, short_us=400, long_us=800, tolerance_us=100, scale=1.3)
    assert r0.bits.size < 40 and np.array_equal(r1.bits, BITS)


def test_pwm_needs_a_pulse_first():
    d, lv = pwm_runs(BITS)
    r = slicers.slice_pwm(d, lv, 1, short_us=400, long_us=800, tolerance_us=140)
    assert r.bits.size == 0 and r.reason == slicers.STOP_MISFIT


def test_pulse_length_code():
    pairs = []
    for b in BITS:
        w = 500 if b else 250
        pairs += [(1, w), (0, w)]
    pairs += [(1, 1450), (0, 1450)]  # KIA-style stop pulse
    d, lv = runs(pairs)
    r = slicers.slice_pulse_length(d, lv, short_us=250, long_us=500, tolerance_us=100)
    assert np.array_equal(r.bits, BITS)
    assert r.reason == slicers.STOP_MISFIT and r.stop == 2 * BITS.size


def test_pulse_length_rejects_mixed_halves():
    d, lv = runs([(1, 250), (0, 250), (1, 250), (0, 500), (1, 500), (0, 500)])
    r = slicers.slice_pulse_length(d, lv, short_us=250, long_us=500, tolerance_us=100)
    assert r.bits.tolist() == [0]


def test_ppm_gap_coding():
    pairs = []
    for b in BITS:
        pairs += [(1, 300), (0, 900 if b else 400)]
    pairs += [(1, 300), (0, 20000)]
    d, lv = runs(pairs)
    r = slicers.slice_ppm(d, lv, pulse_us=300, short_us=400, long_us=900, tolerance_us=150)
    assert np.array_equal(r.bits, BITS)
    assert r.stop == 2 * BITS.size + 1 and r.reason == slicers.STOP_GAP
    r2 = slicers.slice_ppm(d, lv, pulse_us=300, short_us=400, long_us=900, tolerance_us=150,
                           zero="long")
    assert np.array_equal(r2.bits, 1 - BITS)


@pytest.mark.parametrize("zero_rising", [True, False])
def test_manchester_both_conventions(zero_rising):
    chips = manchester_chips(BITS, zero_rising)
    pairs = chip_runs(chips, 500)
    pairs = pairs + [(0, 8000)] if pairs[-1][0] == 1 else pairs[:-1] + [(0, 8000)]
    d, lv = runs(pairs)
    r = slicers.slice_manchester(d, lv, half_us=500, tolerance_us=150,
                                 zero="rising" if zero_rising else "falling")
    assert np.array_equal(r.bits, BITS)


def test_manchester_last_chip_merged_into_silence():
    bits = np.array([1, 0, 1, 1, 0, 1, 0, 1], dtype=np.uint8)  # ends with (1, 0) in rising-zero
    chips = manchester_chips(bits)
    pairs = chip_runs(chips, 500)
    d, lv = runs(pairs)
    d_end = d.copy()
    d_end[-1] = 9000  # the final 0 chip runs into the silence
    r = slicers.slice_manchester(d_end, lv, half_us=500, tolerance_us=150)
    assert np.array_equal(r.bits, bits)
    # and a burst cut right after the last carrier-on chip
    d_cut, lv_cut = d[:-1], lv[:-1]
    r2 = slicers.slice_manchester(d_cut, lv_cut, half_us=500, tolerance_us=150)
    assert np.array_equal(r2.bits, bits)


def test_manchester_stops_at_a_code_violation():
    chips = manchester_chips(BITS[:10]) + [1, 1, 1, 0]
    d, lv = runs(chip_runs(chips, 500))
    r = slicers.slice_manchester(d, lv, half_us=500, tolerance_us=150)
    assert np.array_equal(r.bits, BITS[:10])
    assert r.reason in (slicers.STOP_MISFIT, slicers.STOP_GAP)


def test_differential_manchester():
    prev = 0
    chips = []
    for b in BITS:
        first = 1 - prev if b == 0 else prev  # zero = transition at the bit start
        chips += [first, 1 - first]
        prev = 1 - first
    d, lv = runs(chip_runs(chips, 400))
    r = slicers.slice_diff_manchester(d, lv, half_us=400, tolerance_us=120, prev_level=0)
    assert np.array_equal(r.bits, BITS)


def test_pcm_runs_are_whole_periods():
    pairs = chip_runs([1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1], 300)
    d, lv = runs(pairs + [(0, 30000)])
    r = slicers.slice_pcm(d, lv, unit_us=300, tolerance_us=90, max_run=8)
    assert r.bits.tolist() == [1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1]
    assert r.reason == slicers.STOP_GAP


def test_slot_ppm_tolerates_clock_drift():
    bits = np.array([1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 1, 0],
                    dtype=np.uint8)
    slot, margin, pw = 6040.0, 1000.0, 1000.0  # 0.7 % slow: 24 slots drift by 960 µs
    pairs, pos = [], 0.0
    for i, b in enumerate(bits):
        start = i * slot + margin + (3000.0 if b else 0.0)
        if start > pos:
            pairs.append((0, start - pos))
        pairs.append((1, pw))
        pos = start + pw
    d, lv = runs(pairs[1:] + [(0, 10000)])
    r = slicers.slice_slot_ppm(d, lv, slot_us=6000, shift_us=3000, tolerance_us=500,
                               first_bit=1, pulse_us=1000)
    assert np.array_equal(r.bits, bits)


def test_ternary_pwm():
    trits = RNG.integers(0, 3, 21)
    pairs = []
    for t in trits:
        w = (500, 1000, 1500)[t]
        pairs += [(1, w), (0, 2000 - w)]
    pairs[-1] = (0, 30000)
    d, lv = runs(pairs)
    r = slicers.slice_ternary_pwm(d, lv, short_us=500, long_us=1500, tolerance_us=200)
    assert r.bits.tolist() == trits.tolist()


def test_deglitch_absorbs_spikes():
    d, lv = runs([(1, 400), (0, 400), (1, 600), (0, 30), (1, 170), (0, 400)])
    d2, lv2 = slicers.deglitch(d, lv, 100)
    assert d2.tolist() == [400, 400, 800, 400] and lv2.tolist() == [1, 0, 1, 0]
    assert d2.sum() == d.sum()


def test_hex_round_trip_msb_first_zero_padded():
    bits = np.array([1, 0, 1, 1, 1], dtype=np.uint8)
    assert bits_to_hex(bits) == "B8"
    assert bits_to_hex(np.array([1, 1, 1, 1, 0, 0, 0, 1, 1], dtype=np.uint8)) == "F18"
    assert np.array_equal(hex_to_bits("B8", 5), bits)
    with pytest.raises(ValueError):
        hex_to_bits("B", 9)
