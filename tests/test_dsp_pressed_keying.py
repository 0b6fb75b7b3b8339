"""A fob under a pulsed jammer that clips the 8-bit receiver (issue #3, the RollJam case).

While the jammer is on, the clipping takes most of the receiver's range and the fob's pulses
come out several dB weaker than between the jammer's pulses: one burst with two on levels.
Sliced once over the whole burst, every pulse sent under the jammer was read as silence (and
the package lost the frame's first pulses), so nothing decoded."""

from __future__ import annotations

import numpy as np
import pytest

from keyguard.dsp import BurstDetector, demodulate
from keyguard.dsp.demod import Integrator, _decide, pressed_keying, smoothing_lengths
from keyguard.io.capture import Capture
from keyguard.protocols.encode import encode
from keyguard.protocols.engine import decode_pulse_train
from keyguard.pulse_train import PulseTrain
from keyguard.sim.render import complex_noise, render_pulse_train

CENTER = 433.92e6
SERIAL = 0x2345678


def keeloq_frame() -> PulseTrain:
    return encode("keeloq", {"serial": SERIAL, "button": 1, "encrypted": 0x0BADCAFE}, frames=1)[0]


def jammed_scene(fs: float = 250e3, seed: int = 4) -> np.ndarray:
    """A KeeLoq frame at +18 kHz under a carrier 72 kHz below it, gated on 5 ms of every
    10 ms, that clips the receiver: while the jammer is on, the fob comes out 9 dB weaker
    (development RollJam seed 304: 1.15 of full scale between the jammer's pulses, 0.4
    under them)."""
    rng = np.random.default_rng(seed)
    n = int(0.6 * fs)
    x = complex_noise(n, 10 ** (-45 / 10), rng)
    t = np.arange(n) / fs
    jam_on = (t >= 0.05) & (t < 0.55) & (np.mod(t - 0.05, 10e-3) < 5e-3)
    x += jam_on * np.exp(2j * np.pi * -54e3 * t)
    fob = render_pulse_train(keeloq_frame(), fs, freq_offset_hz=18e3, amplitude=1.15)
    s0 = int(round(0.2013 * fs))
    gain = np.where(jam_on[s0:s0 + fob.size], 10 ** (-9 / 20), 1.0)
    x[s0:s0 + fob.size] += fob * gain
    return x.astype(np.complex64)


def test_fob_under_a_clipping_pulsed_jammer_decodes_whole():
    """Its pulses under the jammer are pulses, and the package starts at the frame's first,
    sent under the jammer."""
    fs = 250e3
    x = jammed_scene(fs)
    det = BurstDetector(fs, CENTER)
    bs = list(det.iter_bursts(Capture.from_array(x, fs, CENTER), 1 << 18))
    fob = [b for b in bs if abs(b.offset_hz - 18e3) < 5e3]
    assert len(fob) == 1
    assert fob[0].t == pytest.approx(0.2013, abs=1e-3)
    fr = keeloq_frame()
    assert fob[0].duration_s == pytest.approx(fr.durations_us[:-1].sum() * 1e-6, abs=2e-3)
    packets = [p for pt in demodulate(fob[0]) for p in decode_pulse_train(pt)]
    (clean,) = decode_pulse_train(fr)
    assert [(p.identity, p.code, p.bits) for p in packets] == [(f"keeloq:{SERIAL:08X}", clean.code,
                                                                clean.bits)]


def _decision(x: np.ndarray, fs: float):
    env = np.abs(x).astype(np.float64)
    return _decide(Integrator(env).average, smoothing_lengths(fs, env.size), None, env.size)


def test_only_own_pulses_at_a_pressed_level_are_taken_from_the_gaps():
    """A frame keyed at one level, with stretches 9 dB down (a jammer pressing it), gives
    those stretches back; the same stretches 26 dB down, keyed at another rate, on another
    carrier (a neighbour 25 kHz away through the channel's skirt), or noise in the gaps, are
    left off."""
    fs = 125e3
    rng = np.random.default_rng(1)
    fr = keeloq_frame()
    sig = render_pulse_train(fr, fs, amplitude=1.0, lead_s=2e-3, tail_s=2e-3)
    t = np.arange(sig.size) / fs
    under = (np.mod(t, 10e-3) < 5e-3) & (t > 10e-3)
    noise = lambda: complex_noise(sig.size, 2e-4, rng)  # noqa: E731

    def taken(x: np.ndarray) -> int:
        dec = _decision(x, fs)
        return len(pressed_keying(x, dec.edges, dec.levels, fs, dec.smoothing))

    pressed = 10 ** (-9 / 20)
    assert taken(np.where(under, sig * pressed, sig) + noise()) >= 5
    assert taken(np.where(under, sig * 10 ** (-26 / 20), sig) + noise()) == 0
    assert taken(np.where(under, 0.0, sig) + noise()) == 0
    # pulses 9 dB down but keyed ten times faster than the frame's own
    fast = (np.mod(t, 80e-6) < 40e-6) * pressed
    assert taken(np.where(under, fast, sig) + noise()) == 0
    # the frame's own keying 9 dB down, but on a carrier 25 kHz away
    beside = np.abs(sig) * pressed * np.exp(2j * np.pi * 25e3 * t)
    assert taken(np.where(under, beside, sig) + noise()) == 0
