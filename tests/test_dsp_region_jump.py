"""A transmitter that starts inside a region already open on weaker energy.

A clipping weather sensor's skirt or image, or a short burst's region held open by them, lights
bins beside the sensor weakly for as long as it sends; a fob that started inside those bins was
taken into that region: its start, channel and end were the weak energy's, and the region,
ending with the sensor, was merged with it (as 2-FSK lobes, or when their cores came to
overlap). The owner's press was lost (fresh benign soak seeds 59012 and 72086). The detector
now splits a region where its level jumps 12 dB over each of the four batches (32 ticks)
before (within two batches of its start, each 6 dB over them: with a skirt 15 dB under the
fob and 60 kHz wide, the fob's first pulses spread over two batches), when those held energy at least 20 kHz wide and 12 dB under another open region (that
region's by-product); the fob is a burst of its own, on a channel cut from what jumped. A
narrow line (a remote's own carrier before it keys) and energy of the region's own (a relay
amplifier's noise) are not split.
"""

from __future__ import annotations

import numpy as np
import pytest

from keyguard.dsp import BurstDetector, demodulate
from keyguard.protocols.engine import decode_pulse_train
from keyguard.sim.scenario import Scenario

OWNER = {"id": "owner", "protocol": "keeloq", "serial": "0x0D36C681",
         "key": "0x5CEC6701B79FD949", "counter": 100, "position": [18, 6, 1]}
PRESS = 0.3
LINE = (0.1, 0.7)  # the neighbour and its weak skirt, which the fob starts inside


def bursts(x, fs, block=1 << 15):
    det = BurstDetector(fs, 433.92e6)
    out = []
    for a in range(0, x.size, block):
        out += det.process(x[a:a + block])
    return det, out + det.flush()


def ids(burst) -> set:
    return {p.identity for pt in demodulate(burst) for p in decode_pulse_train(pt)}


def skirt(n: int, fs: float, centre_hz: float, width_hz: float, power: float, seed: int = 1):
    """Complex noise ``width_hz`` wide around ``centre_hz`` of mean ``power``: the weak, wide
    energy a clipping neighbour spreads over the bins beside it."""
    rng = np.random.default_rng(seed)
    spec = np.fft.fft(rng.normal(size=n) + 1j * rng.normal(size=n))
    f = np.fft.fftfreq(n, 1 / fs)
    spec[np.abs(f) > width_hz / 2] = 0
    x = np.fft.ifft(spec)
    x *= np.sqrt(power / np.mean(np.abs(x) ** 2))
    return (x * np.exp(2j * np.pi * centre_hz * np.arange(n) / fs)).astype(np.complex64)


def sensor(n: int, fs: float, offset_hz: float, power: float, seed: int = 2):
    """A weather sensor's OOK message: 500 µs pulses, 1 or 2 ms gaps, at ``offset_hz``."""
    rng = np.random.default_rng(seed)
    env = np.zeros(n, np.float32)
    k = 0
    while k < n:
        env[k:k + int(500e-6 * fs)] = 1.0
        k += int((500e-6 + (1e-3 if rng.random() < 0.5 else 2e-3)) * fs)
    tone = np.exp(2j * np.pi * offset_hz * np.arange(n) / fs)
    return (np.sqrt(power) * env * tone).astype(np.complex64)


def scene_with(under_db: float, width_hz: float, neighbour: bool = True):
    """The fob's press at PRESS inside ``width_hz`` of weak energy ``under_db`` under it (0: a
    line) that began at LINE[0]; with ``neighbour``, the sensor whose skirt that is sends beside it,
    30 kHz up, 3 dB over the fob, from LINE[0] to LINE[1] (after the press)."""
    r = Scenario.from_dict({
        "name": "fob-inside-weak-region", "duration_s": 1.0, "seed": 7,
        "receiver": {"center_freq": 433.92e6, "sample_rate": 1024000},
        "devices": [OWNER], "presses": [{"device": "owner", "t": PRESS}]}).plan()
    x, fs = r.render(), r.sample_rate
    _, alone = bursts(x, fs)
    fob = max(alone, key=lambda b: b.rssi_db)
    a, b = int(LINE[0] * fs), int(LINE[1] * fs)
    p_fob = 10 ** (fob.rssi_db / 10)
    y = x.copy()
    power = p_fob * 10 ** (-under_db / 10)
    if width_hz > 0:
        y[a:b] += skirt(b - a, fs, fob.offset_hz - 10e3, width_hz, power)
    else:  # a narrow line 3 kHz above the fob's carrier
        n = np.arange(b - a)
        tone = np.exp(2j * np.pi * (fob.offset_hz + 3e3) * n / fs)
        y[a:b] += (np.sqrt(power) * tone).astype(np.complex64)
    if neighbour:
        y[a:b] += sensor(b - a, fs, fob.offset_hz + 30e3, 2 * p_fob)
    return y, fs, fob


@pytest.fixture(scope="module")
def scene():
    return scene_with(20.0, 30e3)


@pytest.mark.parametrize("under_db, width_hz", [(20.0, 30e3), (25.0, 60e3), (15.0, 60e3)])
def test_a_fob_starting_inside_a_neighbours_skirt_is_a_burst_of_its_own(under_db, width_hz):
    y, fs, fob = scene_with(under_db, width_hz)
    det, out = bursts(y, fs)
    assert det.stats["splits"] >= 1
    mine = [b for b in out if "keeloq:0D36C681" in ids(b)]
    assert len(mine) == 3, "the fob's frames did not decode"  # (none did before the split)
    # its own burst: it starts with the press (not with the skirt), on the fob's carrier
    b = mine[0]
    assert b.after_jump and abs(b.t - PRESS) < 0.01
    assert b.offset_hz == pytest.approx(fob.offset_hz, abs=2e3)
    # the sensor beside it stays a burst of its own too
    assert any(abs(o.offset_hz - (fob.offset_hz + 30e3)) < 3e3 and o.t < LINE[0] + 0.01
               for o in out)


def test_the_split_does_not_depend_on_block_size(scene):
    y, fs, _ = scene
    def key(out):
        return [(b.start, b.stop, round(b.offset_hz), b.after_jump) for b in out]

    assert key(bursts(y, fs, 4000)[1]) == key(bursts(y, fs, 1 << 18)[1])


def test_a_narrow_line_under_a_fob_is_its_own_carrier_not_a_skirt():
    # a PLL remote leaks its carrier before it keys (the Cardin S466 capture: 100 ms at
    # 13 dB, then 28 dB): a narrow line that a transmitter then keys on is not split off
    y, fs, fob = scene_with(20.0, 0.0, neighbour=False)
    det, out = bursts(y, fs)
    assert det.stats["splits"] == 0
    assert any("keeloq:0D36C681" in ids(b) for b in out)


def beside_sensor(rel_db: float, sep_hz: float, skirt_db: float | None = None):
    """The fob's press at PRESS while a weather sensor ``sep_hz`` above it, ``rel_db`` over the
    fob, sends from LINE[0] to LINE[1]; with ``skirt_db``, the sensor spreads noise 60 kHz wide
    that much under it (a clipping sensor's splatter), so its region's bins reach the fob's."""
    r = Scenario.from_dict({
        "name": "fob-beside-sensor", "duration_s": 1.0, "seed": 7,
        "receiver": {"center_freq": 433.92e6, "sample_rate": 1024000},
        "devices": [OWNER], "presses": [{"device": "owner", "t": PRESS}]}).plan()
    x, fs = r.render(), r.sample_rate
    fob = max(bursts(x, fs)[1], key=lambda b: b.rssi_db)
    a, b = int(LINE[0] * fs), int(LINE[1] * fs)
    p_sensor = 10 ** ((fob.rssi_db + rel_db) / 10)
    y = x.copy()
    y[a:b] += sensor(b - a, fs, fob.offset_hz + sep_hz, p_sensor)
    if skirt_db is not None:
        y[a:b] += skirt(b - a, fs, fob.offset_hz + sep_hz, 60e3, p_sensor * 10 ** (-skirt_db / 10))
    return y, fs, fob


@pytest.mark.parametrize("rel_db", [-3.0, 0.0, 3.0])
def test_a_fob_30_khz_from_a_sensor_of_its_level_keeps_its_own_channel(rel_db):
    # the fob's region sums whole spectrum rows, the sensor's energy with them: its channel,
    # cut from them, reached the sensor, whose carrier it then read; the fob's bursts were
    # dropped as leaks or as the sensor's copies. A neighbour sending at the same time within
    # ghost_db of the fob's level now bounds its channel (none of the 3 frames decoded before)
    y, fs, fob = beside_sensor(rel_db, 30e3)
    det, out = bursts(y, fs)
    mine = [b for b in out if "keeloq:0D36C681" in ids(b)]
    assert len(mine) == 3
    assert all(abs(b.offset_hz - fob.offset_hz) < 2e3 and b.channel_offset_hz < fob.offset_hz + 15e3
               for b in mine)
    assert any(abs(o.offset_hz - (fob.offset_hz + 30e3)) < 3e3 for o in out)  # and the sensor


@pytest.mark.parametrize("rel_db", [-3.0, 0.0])
def test_a_fob_pressed_beside_a_sensor_inside_its_region_is_forked_off(rel_db):
    # fresh benign soak seed 145021: a passer-by's press began 22.5 kHz from a weather sensor
    # whose region's bins already reached it; the two shared one core (each within CORE_DB of
    # the other) with no level jump at its peak, and came out as 0.75 s of undecoded energy,
    # called jamming. A new peak 12 dB over what its bins held, half a channel or more from
    # the region's peak past a valley, is now a region of its own (none of the fob's frames
    # decoded in these scenes before)
    y, fs, fob = beside_sensor(rel_db, 25e3, skirt_db=15.0)
    det, out = bursts(y, fs)
    assert det.stats["forks"] >= 1
    # its three frames in bursts of their own (the sensor's, beginning at LINE[0], may hold
    # them too where its channel reaches the fob)
    mine = [b for b in out if "keeloq:0D36C681" in ids(b) and b.t > PRESS - 0.01]
    assert len(mine) == 3 and abs(mine[0].t - PRESS) < 0.01


def test_a_held_button_is_not_split_between_its_frames():
    # a keyed fob's own gaps leave no weak batches: its region is never split
    r = Scenario.from_dict({
        "name": "held", "duration_s": 1.6, "seed": 3,
        "receiver": {"center_freq": 433.92e6, "sample_rate": 1024000},
        "devices": [OWNER], "presses": [{"device": "owner", "t": 0.2, "hold_s": 1.0}]}).plan()
    det, out = bursts(r.render(), r.sample_rate)
    assert det.stats["splits"] == 0 and det.stats["forks"] == 0
    assert not any(b.after_jump for b in out)


def _region(lo: int, hi: int, start: int, ticks: int, level: float, n_bins: int,
            wide: bool = False):
    from keyguard.dsp.bursts import _Region

    r = _Region(lo, hi, start, n_bins)
    r.wide = wide
    power, floor = np.zeros(n_bins), np.zeros(n_bins)
    power[lo:hi + 1] = level
    power[(lo + hi) // 2] = 4 * level  # the carrier's bin
    for t in range(start, start + ticks):
        r.add(t, lo, hi, power, floor)
    return r


def test_a_short_band_wide_rise_does_not_take_the_clipping_burst_with_it():
    # fresh benign soak seed 139005: the owner's press 23 dB over full scale at 250 ksps (its
    # region 147 ticks, bins around -27 kHz) and the band-wide rise its clipping caused (51
    # ticks over those, from -70 to +12 kHz) began and ended together; the rise, far stronger
    # by its mean over fewer ticks, took the press's region as its ghost, and then was dropped
    # as a short rise itself: the press was lost and its -3F product decoded 111 kHz away
    det = BurstDetector(250e3, 433.92e6)
    n = det.n_bins
    mid = n // 2 - 7
    owner = _region(mid - 4, mid + 4, 1000, 147, 1.0, n)
    rise = _region(mid - 22, mid + 6, 1000, 51, 300.0, n, wide=True)
    rise.last = owner.last  # its ticks are where the whole band rose, to the burst's end
    det._closed = [rise, owner]
    groups, used = det._group([rise, owner])
    # each alone: the rise is dropped by itself, the press keeps its own region
    assert sorted([id(r) for r in g] for g in groups) == sorted([[id(rise)], [id(owner)]])
    assert used == {id(rise), id(owner)}
    assert det._short_rise(rise) and not det._short_rise(owner)
