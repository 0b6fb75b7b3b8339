"""A strong jammer that clips an 8-bit receiver: its by-products, the DC offset it shifts, and
how soon the burst detector lets go of what follows it.

The scene is rendered by the simulator (receiver gain 4 dB: the CW jammer saturates the
converter, which shifts the DC offset and throws images and intermodulation products across
the band). A live monitor must report the jammer as one burst, not finish a dozen copies of
it, and must not be held back by a phantom line at 0 Hz once the jammer is gone.
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
    spanning = [b for b, _ in out if b.t <= JAM[0] + 0.06 and b.t_end >= JAM[1] - 0.01]
    # the jammer itself, once: its images and intermodulation products switched on and off
    # with it are dropped as its by-products
    assert len(spanning) == 1
    (jam,) = spanning
    assert jam.continuous and jam.offset_hz == pytest.approx(-70e3, abs=3e3)
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


def test_no_phantom_line_at_0_hz_holds_bursts_after_the_jammer():
    """The clipping jammer shifts the receiver's DC offset while on; the centre bins' noise
    floor must not learn that (the DC offset is taken out before the bins are squared), or
    the offset's return lights a line at 0 Hz for seconds and holds back every burst after
    it (bursts leave in start order: here, before the fix, until the end of the stream)."""
    owner = dict(OWNER, serial="0x0A3C5E71", key="0x1F2E3D4C5B6A7988", counter=3140)
    r = Scenario.from_dict({
        "name": "phantom-dc", "duration_s": 5.0, "seed": 11,
        "receiver": {"center_freq": 433.92e6, "sample_rate": 2400000, "gain_db": 4},
        "channel": {"path_loss_exponent": 2.7, "k_factor_db": 6.0},
        "devices": [owner], "presses": [{"device": "owner", "t": t} for t in (0.6, 3.9)],
        "attacks": [{"type": "jam", "t": 1.2, "t_end": 3.7, "target": "owner",
                     "offset_hz": -70e3, "jsr_db": 20.0, "waveform": "cw"}]}).plan()
    x, fs = r.render(), r.sample_rate
    _, out = run(x, fs, int(0.05 * fs))
    after = [(b, released) for b, released in out if b.t > 3.8]
    assert len(after) == 3           # the press's three frames, nothing else
    last_end = max(b.t_end for b, _ in after)
    # released within the hang time and a block of the press's end, not at the flush
    assert max(released for _, released in after) <= last_end + 0.25 < x.size / fs


def test_dc_tracking_keeps_results_independent_of_block_size(scene):
    x, fs = scene
    _, small = run(x, fs, 3000)
    _, large = run(x, fs, 1 << 18)

    def key(out):
        return [(b.start, b.stop, round(b.offset_hz), b.continuous) for b, _ in out]

    assert key(small) == key(large)


def test_dc_offset_is_taken_out_of_the_centre_bins_only():
    from keyguard.dsp.channelize import TickSpectrum

    fs, n = 1.024e6, 256
    rng = np.random.default_rng(0)
    dc = 0.02 + 0.01j
    x = (dc + 0.003 * (rng.standard_normal(n * 4 * 50) + 1j * rng.standard_normal(n * 4 * 50)))
    x = x.astype(np.complex64)
    left = TickSpectrum(fs, n, 4).push(x)
    ts = TickSpectrum(fs, n, 4)
    ts.dc_offset = dc
    taken = ts.push(x)
    c = n // 2
    assert left[:, c].mean() > 100 * taken[:, c].mean()          # the offset was the centre
    assert taken[:, c - 1:c + 2].mean() == pytest.approx(taken[:, c + 5:c + 50].mean(), rel=0.3)
    np.testing.assert_allclose(taken[:, c + 3:], left[:, c + 3:], rtol=1e-4)
    np.testing.assert_allclose(ts.dc, left.shape[0] * [dc], atol=2e-3)   # measured as before
