"""A strong jammer that clips an 8-bit receiver, and its by-products.

The scene is rendered by the simulator (receiver gain 4 dB: the CW jammer saturates the
converter, which throws images and intermodulation products across the band). A live monitor
must report the jammer as one burst, not finish a dozen copies of it (each costs as much CPU
as the jammer itself, delaying the jamming alert), and must keep whatever carries a fob.
"""

from __future__ import annotations

import numpy as np
import pytest

from keyguard.dsp import BurstDetector, demodulate
from keyguard.protocols.engine import decode_pulse_train
from keyguard.sim.scenario import Scenario

OWNER = {"id": "owner", "protocol": "keeloq", "serial": "0x0D36C681",
         "key": "0x5CEC6701B79FD949", "counter": 100, "position": [18, 6, 1]}
JAM = (1.0, 3.0)
PRESSES = (0.5, 1.8, 3.4)


@pytest.fixture(scope="module")
def scene():
    r = Scenario.from_dict({
        "name": "clipping-jammer", "duration_s": 4.6, "seed": 4,
        "receiver": {"center_freq": 433.92e6, "sample_rate": 1024000, "gain_db": 4},
        "devices": [OWNER], "presses": [{"device": "owner", "t": t} for t in PRESSES],
        "attacks": [{"type": "jam", "t": JAM[0], "t_end": JAM[1], "target": "owner",
                     "offset_hz": -70e3, "jsr_db": 20.0, "waveform": "cw"}]}).plan()
    return r.render(), r.sample_rate


def run(x, fs, block):
    """Every burst with the stream position (s) at which it was released."""
    det = BurstDetector(fs, 433.92e6)
    out = []
    for a in range(0, x.size, block):
        out += [(b, (a + min(block, x.size - a)) / fs) for b in det.process(x[a:a + block])]
    out += [(b, x.size / fs) for b in det.flush()]
    return det, out


def keeloq_ids(burst) -> set:
    return {p.identity for pt in demodulate(burst) for p in decode_pulse_train(pt)}


def test_jammer_by_products_are_not_bursts_of_their_own(scene):
    x, fs = scene
    det, out = run(x, fs, 1 << 15)
    # the jammer itself, in steady_burst_s segments that tile it: its images and
    # intermodulation products switched on and off with it are dropped as its by-products
    jam = [b for b, _ in out if b.continuous and b.t < JAM[0] + 0.06]
    assert len(jam) == 1 and jam[0].offset_hz == pytest.approx(-70e3, abs=3e3)
    segments = [b for b, _ in out if b.continuous and abs(b.offset_hz + 70e3) < 3e3]
    assert sum(b.duration_s for b in segments) == pytest.approx(JAM[1] - JAM[0], abs=0.02)
    assert det.stats["ghosts"] >= 5
    # the fob's presses before and after the jam decode at their own carrier
    for t in (PRESSES[0], PRESSES[2]):
        got = [b for b, _ in out if abs(b.t - t) < 0.02]
        assert got and "keeloq:0D36C681" in keeloq_ids(got[0])
    # under the jammer the fob itself drowns in the clipped receiver, but the region its
    # intermodulation with the jammer rose in (late, with the fob) is kept and still carries
    # its code: a RollJam's kept code is seen
    under = {i for b, _ in out if JAM[0] + 0.5 < b.t < JAM[1] and not b.continuous
             for i in keeloq_ids(b)}
    assert "keeloq:0D36C681" in under


def test_results_are_independent_of_block_size(scene):
    x, fs = scene
    _, small = run(x, fs, 3000)
    _, large = run(x, fs, 1 << 18)

    def key(out):
        return [(b.start, b.stop, round(b.offset_hz), b.continuous) for b, _ in out]

    assert key(small) == key(large)


def test_a_fob_a_reactive_jammer_starts_and_stops_with_is_kept():
    """A reactive jammer keyed on and off with the fob's own transmission (a held button):
    same start, same end, 20 dB stronger. The fob's region is keyed, so it is no by-product
    of the jammer, and it still decodes next to it."""
    from keyguard.protocols.encode import encode
    from test_dsp_synthetic import carrier, scene as synth

    fs, amp, f_fob = 1.024e6, 0.02, 20e3
    frames = encode("keeloq", {"serial": 0x2345678, "button": 1, "encrypted": 0x0BADCAFE},
                    frames=8)
    parts, t = [], 1.0
    for fr in frames:
        parts.append((t, fr, dict(freq_offset_hz=f_fob, amplitude=amp)))
        t += fr.durations_us.sum() * 1e-6
    on_air = t - 1.0 - frames[-1].durations_us[-1] * 1e-6   # the last guard is silence
    parts.append((1.0, carrier(on_air), dict(freq_offset_hz=f_fob - 70e3, amplitude=amp * 10)))
    x = synth(fs, t + 0.5, parts, amp ** 2 / 10 ** (25 / 10), seed=9)
    det, out = run(x, fs, 1 << 16)
    fob = [b for b, _ in out if abs(b.offset_hz - f_fob) < 5e3 and not b.continuous]
    assert len(fob) == 1 and fob[0].t == pytest.approx(1.0, abs=2e-3)   # the held button
    assert "keeloq:02345678" in keeloq_ids(fob[0])


@pytest.mark.slow  # 9 s at 2.4 Msps rendered and detected: ~5 s
def test_what_a_clipping_jammer_leaves_at_dc_does_not_hold_bursts_back():
    """A clipping jammer compresses the receiver's DC line; the centre bin's floor follows it
    down, and once the jammer stops, the line stands a few dB over that floor inside one of the
    jammer's by-product regions. That region must end with the jammer: held open, it kept the
    jammer's last burst (and every later one) from leaving for up to a second."""
    r = Scenario.from_dict({
        "name": "dc-after-jammer", "duration_s": 9.0, "seed": 11,
        "receiver": {"center_freq": 433.92e6, "sample_rate": 2400000, "gain_db": 4},
        "devices": [OWNER], "presses": [{"device": "owner", "t": 0.5}],
        "attacks": [{"type": "jam", "t": 5.0, "t_end": 7.5, "target": "owner",
                     "offset_hz": -70e3, "jsr_db": 20.0, "waveform": "cw"}]}).plan()
    x, fs = r.render(), r.sample_rate
    det = BurstDetector(fs, 433.92e6)
    block = int(0.1 * fs)
    released = {}
    for a in range(0, x.size, block):
        pos = (a + block) / fs
        for b in det.process(x[a:a + block]):
            released.setdefault(id(b), (pos, b))
        if pos >= 7.75:
            # the jammer ended at 7.5 s: hang time and a block later, the band is free
            assert det.release_horizon() > 7.5
            break
    jam = [b for pos, b in released.values() if abs(b.offset_hz + 70e3) < 10e3]
    assert jam and max(b.stop for b in jam) / fs == pytest.approx(7.5, abs=0.01)


def _burst(offset_hz: float, rssi_db: float, channel_bw_hz: float, start: int = 1000,
           stop: int = 100_000):
    from keyguard.dsp.bursts import Burst
    return Burst(start=start, stop=stop, sample_rate=1.024e6, center_freq=433.92e6,
                 offset_hz=offset_hz, channel_offset_hz=offset_hz, rssi_db=rssi_db,
                 snr_db=rssi_db + 40, channel_snr_db=rssi_db + 40, noise_db=-40.0,
                 channel_noise_db=-45.0, bandwidth_hz=20e3, duty_cycle=0.5,
                 iq=np.zeros(16, np.complex64), on_mask=np.zeros(16, bool), iq_rate=1e5,
                 iq_start=start, iq_step=10, channel_bw_hz=channel_bw_hz)


def test_a_fob_in_its_own_channel_replaces_its_splatter_seen_through_a_wide_one():
    """A clipping fob's splatter region, 78 kHz off with a 176 kHz channel, ends with it and
    may be finished first: its copy of the frame (23 dB weaker, undecodable) must not make
    the fob's own burst a duplicate (a held button lost 11 of 14 frames to that)."""
    det = BurstDetector(1.024e6, 433.92e6)
    splatter = _burst(-78e3, -22.0, 176e3)
    assert not det._duplicate(splatter)
    det._ready = [(splatter.start, 0, splatter)]
    fob = _burst(0.0, 1.4, 44e3)
    assert not det._duplicate(fob)
    assert [e[2] for e in det._ready] == []  # the splatter copy is gone
    # the other way round the weak copy is the duplicate, as before
    det2 = BurstDetector(1.024e6, 433.92e6)
    assert not det2._duplicate(fob)
    assert det2._duplicate(_burst(-78e3, -22.0, 176e3))
    # of two like copies the longer stays, the shorter is the duplicate
    det3 = BurstDetector(1.024e6, 433.92e6)
    assert not det3._duplicate(_burst(0.0, 1.0, 44e3))
    assert det3._duplicate(_burst(5e3, 0.0, 44e3, stop=90_000))


def test_a_leak_probe_drops_only_what_the_full_finish_would_drop(tmp_path, monkeypatch):
    # A long group in a channel no fob needs is first finished over its first 0.25 s; when
    # that gives a stronger region's carrier the group is dropped without finishing its
    # seconds of samples (a swept jammer's skirt region cost a live monitor 0.4 s of CPU).
    # Seed 324 of rolljam_sample has such a group (302's went when regions came to be split
    # where their level jumps: the jammer's carrier no longer sits in an older skirt region):
    # the bursts must be the same as when every group is finished in full.
    from keyguard.dsp.bursts import detect_bursts
    from keyguard.io import open_capture
    from keyguard.models.training import vary_scenario
    from keyguard.sim.output import write_rendering
    from keyguard.sim.scenario import load_scenario

    rendering = vary_scenario(load_scenario("rolljam_sample"), 324).plan(324)
    write_rendering(rendering, tmp_path, "cu8", overwrite=True)
    path = next(tmp_path.glob("*.cu8"))
    verdicts = []
    probe = BurstDetector._leak_probe
    monkeypatch.setattr(BurstDetector, "_leak_probe",
                        lambda self, *a: verdicts.append(probe(self, *a)) or verdicts[-1])
    probed = [(b.start, b.stop, b.offset_hz) for b in detect_bursts(open_capture(path))]
    assert True in verdicts
    monkeypatch.setattr(BurstDetector, "NO_FOB_CHANNEL_HZ", float("inf"))
    full = [(b.start, b.stop, b.offset_hz) for b in detect_bursts(open_capture(path))]
    assert probed == full


def test_a_segment_after_a_cut_does_not_take_back_what_its_predecessor_finished():
    """A region that began under a steady segment, in its bins, merging with the segment after
    the cut: the merged region starts at the cut (the ticks before it were finished with the
    predecessor). Elsewhere, or between two segments, the earlier start stands."""
    from keyguard.dsp.bursts import _Region

    def region(lo, hi, start, ticks, cut_bins=None):
        r = _Region(lo, hi, start, 64, cont_before=cut_bins is not None)
        r.cut_bins = cut_bins
        power, floor = np.zeros(64), np.zeros(64)
        power[lo:hi + 1] = 10.0
        for t in range(start, start + ticks):
            r.add(t, lo, hi, power, floor)
        return r

    # a by-product inside the predecessor's core [20, 40], begun 300 ticks before the cut
    seg, inner = region(20, 40, 1000, 5, cut_bins=(20, 40)), region(24, 34, 700, 305)
    inner.absorb(seg)
    assert (inner.start, inner.ticks[0], len(inner.ticks)) == (1000, 1000, 5)
    assert inner.cont_before and inner.cut_bins == (20, 40)
    # the same from the segment's side
    seg, inner = region(20, 40, 1000, 5, cut_bins=(20, 40)), region(24, 34, 700, 305)
    seg.absorb(inner)
    assert seg.start == 1000
    # a region reaching outside the predecessor's bins keeps its start (not finished before)
    seg, wide = region(20, 40, 1000, 5, cut_bins=(20, 40)), region(10, 44, 700, 305)
    wide.absorb(seg)
    assert wide.start == 700
    # two segments after cuts: the earlier one's ticks were finished by nobody
    seg, other = region(20, 40, 1000, 5, cut_bins=(20, 40)), region(22, 38, 600, 405, (22, 38))
    other.absorb(seg)
    assert other.start == 600
