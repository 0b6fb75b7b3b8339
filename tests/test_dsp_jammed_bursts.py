"""Burst detection next to strong or wide signals: RollJam victims, jammer ends, AF relays.

A fob keyed on a steady line (a jammer's intermodulation spur) or inside a relay amplifier's
wideband noise must be a burst of its own, not part of a continuous one (continuous bursts
are not demodulated); finishing a long burst costs bounded CPU."""

from __future__ import annotations

import time

import numpy as np
import pytest

from keyguard.dsp import BurstDetector, demodulate
from keyguard.io.capture import Capture
from keyguard.protocols.encode import encode
from keyguard.protocols.engine import decode_pulse_train
from keyguard.pulse_train import PulseTrain
from keyguard.sim.render import complex_noise, render_pulse_train
from test_dsp_synthetic import carrier, scene  # noise plus rendered transmissions

CENTER = 433.92e6
SERIAL = 0x2345678


def keeloq_frame() -> PulseTrain:
    return encode("keeloq", {"serial": SERIAL, "button": 1, "encrypted": 0x0BADCAFE}, frames=1)[0]


def bursts_of(x: np.ndarray, fs: float, **kw) -> list:
    det = BurstDetector(fs, CENTER, **kw)
    return list(det.iter_bursts(Capture.from_array(x, fs, CENTER), 1 << 18))


def decodes(burst) -> bool:
    want = f"keeloq:{SERIAL:08X}"
    return any(p.identity == want for pt in demodulate(burst) for p in decode_pulse_train(pt))


def test_fsk_lobes_keyed_in_turn_still_merge():
    """Real 2-FSK stays one transmitter next to the keyed-on-a-line rules."""
    fs = 250e3
    rng = np.random.default_rng(5)
    bits = rng.integers(0, 2, 160).astype(np.int8)
    pt = PulseTrain(np.full(bits.size, 500.0), bits, modulation="FSK")
    x = scene(fs, 0.6, [(0.2, pt, dict(freq_offset_hz=10e3, amplitude=0.1, fsk_deviation_hz=30e3))],
              0.01 / 10 ** (15 / 10), seed=5)
    (b,) = bursts_of(x, fs)
    assert b.fsk_lobes_hz is not None
    assert b.offset_hz == pytest.approx(10e3, abs=2e3)


def test_fob_keyed_on_a_steady_spur_is_its_own_burst():
    """A fob keyed on top of a steady line in its own channel (a jammer's intermodulation spur
    8 kHz away, 10 dB under the fob, far over the noise) is a burst of its own, not part of
    the line's continuous burst (where it was lost: continuous bursts are not demodulated)."""
    fs, amp, f0 = 1.024e6, 0.05, 33e3
    fr = keeloq_frame()
    noise = amp ** 2 / 10 ** (26 / 10)
    spur = (0.6, carrier(1.6), dict(freq_offset_hz=f0 + 8e3, amplitude=amp * 10 ** (-10 / 20)))
    x = scene(fs, 2.4, [spur, (1.4, fr, dict(freq_offset_hz=f0, amplitude=amp))], noise, seed=3)
    bs = bursts_of(x, fs)
    line = [b for b in bs if b.continuous]
    fob = [b for b in bs if not b.continuous and abs(b.offset_hz - f0) < 3e3]
    assert len(line) >= 1 and all(abs(b.offset_hz - f0 - 8e3) < 6e3 for b in line)
    assert len(fob) == 1 and fob[0].keyed_on_steady
    assert fob[0].t == pytest.approx(1.4, abs=2e-3)
    assert fob[0].duration_s == pytest.approx(fr.durations_us[:-1].sum() * 1e-6, abs=3e-3)
    assert decodes(fob[0])


def test_release_horizon_is_public_monotonic_and_honoured():
    """No burst returned after a call starts before the horizon reported then; after flush the
    horizon is the end of the stream."""
    fs = 250e3
    fr = keeloq_frame()
    x = scene(fs, 2.0, [(t, fr, dict(freq_offset_hz=10e3, amplitude=0.1)) for t in (0.3, 0.9, 1.5)],
              0.01 / 10 ** (15 / 10), seed=2)
    det = BurstDetector(fs, CENTER)
    horizon, seen = 0.0, []
    for a in range(0, x.size, 25_000):
        for b in det.process(x[a:a + 25_000]):
            assert b.t >= horizon - 1e-9
            seen.append(b)
        h = det.release_horizon()
        assert h >= horizon and h <= (a + 25_000) / fs
        horizon = h
    seen += det.flush()
    assert det.release_horizon() == pytest.approx(x.size / fs)
    assert [round(b.t, 2) for b in seen] == [0.3, 0.9, 1.5]
    assert horizon > 1.0  # it moved with the stream, well before the end


def test_finishing_a_long_wide_noise_jammer_costs_bounded_cpu():
    """The block in which a 3 s, 200 kHz wide noise jammer ends: its carrier comes from a
    bounded number of averaged spectra (not one FFT of the whole burst: 1.3 s of CPU in that
    block here), and is the middle of its band (not wherever one periodogram peaked)."""
    fs = 1.024e6
    rng = np.random.default_rng(4)
    n = int(3.0 * fs)
    k = np.fft.fftfreq(n, 1 / fs)
    jam = np.fft.ifft(np.fft.fft(complex_noise(n, 1.0, rng)) * (np.abs(k + 57e3) < 100e3))
    x = complex_noise(int(4.0 * fs), 1e-4, rng)
    x[int(0.5 * fs):int(0.5 * fs) + n] += (0.05 * jam / np.std(jam)).astype(np.complex64)
    det = BurstDetector(fs, CENTER, max_burst_s=4.0)
    worst, out = 0.0, []
    for a in range(0, x.size, 102_400):
        t0 = time.process_time()
        out += det.process(x[a:a + 102_400])
        worst = max(worst, time.process_time() - t0)
    out += det.flush()
    # a steady jammer is finished in segments of steady_burst_s (1 s) that tile it
    segs = [b for b in out if b.continuous]
    assert 3 <= len(segs) <= 4   # the last cut may fall within the jammer's last ms
    assert all(b.offset_hz == pytest.approx(-57e3, abs=3e3) for b in segs if b.duration_s > 0.1)
    assert sum(b.duration_s for b in segs) == pytest.approx(3.0, abs=0.01)
    assert [b.truncated_end for b in segs] == [True] * (len(segs) - 1) + [False]
    assert worst < 0.9
    # kept whole when asked (the carrier of one 3 s burst, from bounded spectra)
    det = BurstDetector(fs, CENTER, max_burst_s=4.0, steady_burst_s=4.0)
    (j,) = [b for b in list(det.iter_bursts(Capture.from_array(x, fs, CENTER), 102_400))
            if b.continuous]
    assert j.offset_hz == pytest.approx(-57e3, abs=3e3)
    assert j.duration_s == pytest.approx(3.0, abs=0.01)


def test_a_noise_jammer_over_a_fob_press_just_ended_is_not_that_press():
    """A fob's press, then 80 ms after its last frame a noise jammer 200 kHz wide over the fob's
    bins (the RollJam jammer: weaker in each bin than the fob's carrier): the fob's region was
    still open (``hang_s``) and took the jammer in, and the press was lost inside one long
    continuous burst (development RollJam sample seed 418). The press is a burst of its own and
    decodes, the jammer starts where it began; without the jammer, each frame after its guard
    gap goes on in the press's region as before."""
    fs, amp, f_fob = 1.024e6, 0.3, -4.75e3
    frames = encode("keeloq", {"serial": SERIAL, "button": 1, "encrypted": 0x0BADCAFE}, frames=3)
    # its guard gaps 10 ms longer (25.6 ms): the region is quiet well past the 12 ms that
    # separate frames before each next frame, which is judged, and goes on all the same
    parts = [(0.3 + fr.t + 0.01 * i, fr, dict(freq_offset_hz=f_fob, amplitude=amp))
             for i, fr in enumerate(frames)]
    press_end = parts[-1][0] + frames[-1].durations_us.sum() * 1e-6
    jam_t, n = press_end + 0.08, int(1.2 * fs)
    x = scene(fs, 2.0, parts, amp ** 2 / 10 ** (34 / 10), seed=3)
    rng = np.random.default_rng(3)
    k = np.fft.fftfreq(n, 1 / fs)
    jam = np.fft.ifft(np.fft.fft(complex_noise(n, 1.0, rng)) * (np.abs(k + 73e3) < 100e3))
    clear = x.copy()
    a = int(jam_t * fs)
    x[a:a + n] += (amp * 10 ** (10 / 20) * jam / np.std(jam)).astype(np.complex64)

    det = BurstDetector(fs, CENTER)
    out = list(det.iter_bursts(Capture.from_array(x, fs, CENTER), 1 << 18))
    fob = [b for b in out if b.t < press_end]
    assert fob and all(abs(b.offset_hz - f_fob) < 2e3 and not b.continuous for b in fob)
    assert fob[0].t == pytest.approx(0.3, abs=1e-3) and fob[-1].t_end < jam_t
    assert any(decodes(b) for b in fob)
    jammer = [b for b in out if b.t >= press_end]
    assert jammer[0].t == pytest.approx(jam_t, abs=5e-3) and jammer[0].continuous
    assert det.stats["renewals"] >= 1

    det = BurstDetector(fs, CENTER)
    alone = list(det.iter_bursts(Capture.from_array(clear, fs, CENTER), 1 << 18))
    assert [(b.start, b.stop) for b in alone] == [(b.start, b.stop) for b in fob]
    assert det.stats["renewals"] == 0


def test_pipeline_demodulates_a_bounded_span_of_a_long_keyed_burst():
    """A 1.5 s keyed package (no gap long enough to split it) is demodulated over its first
    DEMOD_SPAN_S only: bounded CPU for the live monitor; short bursts are left whole."""
    from keyguard.pipeline import DEMOD_SPAN_S, demod_span

    fs = 250e3
    keyed = PulseTrain(np.full(750, 2000.0), np.tile(np.array([1, 0], np.int8), 375))
    x = scene(fs, 2.0, [(0.2, keyed, dict(freq_offset_hz=20e3, amplitude=0.1)),
                        (1.85, keeloq_frame(), dict(freq_offset_hz=-30e3, amplitude=0.1))],
              0.01 / 10 ** (15 / 10), seed=6)
    long_b, short_b = sorted(bursts_of(x, fs), key=lambda b: -b.duration_s)
    assert long_b.duration_s > 1.4 and not long_b.continuous
    cut = demod_span(long_b)
    assert cut.duration_s == pytest.approx(DEMOD_SPAN_S, abs=1e-3) and cut.truncated_end
    assert cut.iq.size < 0.75 * long_b.iq.size and cut.on_mask.size == cut.iq.size
    assert demodulate(cut)  # still a pulse train from its first second
    assert demod_span(short_b) is short_b
    # the detectors are told where demodulation stopped (frames that run up to it go on)
    from keyguard.pipeline import observe_capture

    infos = sorted((o.burst for o in observe_capture(Capture.from_array(x, fs, CENTER))),
                   key=lambda b: -b.duration_s)
    assert infos[0].demod_limit_s == DEMOD_SPAN_S
    assert all(b.demod_limit_s is None for b in infos[1:])
    # in a channel no fob needs (a swept or noise jammer's), a shorter stretch is enough
    from dataclasses import replace

    from keyguard.pipeline import WIDE_CHANNEL_HZ, WIDE_DEMOD_SPAN_S

    wide = demod_span(replace(long_b, channel_bw_hz=WIDE_CHANNEL_HZ))
    assert wide.duration_s == pytest.approx(WIDE_DEMOD_SPAN_S, abs=1e-3) and wide.truncated_end


def held_press(frames: int) -> PulseTrain:
    """One press of ``frames`` KeeLoq frames back to back (a held button)."""
    fr = encode("keeloq", {"serial": SERIAL, "button": 1, "encrypted": 0x0BADCAFE}, frames=frames)
    return PulseTrain(np.concatenate([f.durations_us for f in fr]),
                      np.concatenate([f.levels for f in fr]))


def sensor_message(bits: int, seed: int) -> PulseTrain:
    """A weather sensor's PWM message: 480 µs pulses, 1 or 2 ms gaps."""
    b = np.random.default_rng(seed).integers(0, 2, bits)
    durations = np.column_stack([np.full(bits, 480.0), np.where(b, 1000.0, 2000.0)]).ravel()
    return PulseTrain(durations, np.tile(np.array([1, 0], np.int8), bits))


def test_pipeline_demodulates_on_while_a_long_bursts_frames_decode():
    """A held press made one package 1.26 s long (a weaker sensor keyed in its channel filled
    the gaps between its frames): its frames decode up to the end, not just over the first
    DEMOD_SPAN_S (its last frames were lost, and came back on their own as a second press of
    the same code: fresh benign soak seed 292360). The demodulated extent reaches the end."""
    from keyguard.pipeline import DEMOD_SPAN_S, observe_capture

    fs = 250e3
    x = scene(fs, 2.2, [(0.1, sensor_message(700, 4), dict(freq_offset_hz=-8e3, amplitude=0.03)),
                        (0.2, held_press(14), dict(freq_offset_hz=6e3, amplitude=0.1))],
              1e-4 / 10 ** (15 / 10), seed=4)
    (ob,) = [o for o in observe_capture(Capture.from_array(x, fs, CENTER))
             if o.burst.duration_s > DEMOD_SPAN_S]
    frames = [p for p in ob.packets if p.identity == f"keeloq:{SERIAL:08X}"]
    assert len(frames) == 14 and frames[-1].t_end > ob.burst.t + DEMOD_SPAN_S + 0.2
    assert ob.burst.demod_limit_s is None


def test_one_decoded_frame_at_the_cut_does_not_carry_demodulation_on():
    """Only a held transmission carries the demodulation past the span: the last two decoded
    frames repeat the same data one period apart, the last up to the cut. One frame there (a
    swept jammer's chopping read as a PT2262 frame: development jamming seed 300) or two that
    differ leave the cut where it was; two repeats demodulate the next span."""
    from keyguard.events import Packet
    from keyguard.pipeline import DEMOD_SPAN_S, CaptureSession, Scanner

    fs = 250e3
    keyed = PulseTrain(np.full(750, 2000.0), np.tile(np.array([1, 0], np.int8), 375))
    x = scene(fs, 2.0, [(0.2, keyed, dict(freq_offset_hz=20e3, amplitude=0.1))],
              0.01 / 10 ** (15 / 10), seed=6)
    (b,) = [b for b in bursts_of(x, fs) if b.duration_s > 1.4]
    session = CaptureSession(Scanner(), "x", fs, CENTER, None)
    cut = b.t + DEMOD_SPAN_S

    def frame(t: float, data: str) -> Packet:
        return Packet("x", t, t + 0.06, "OOK", "pt2262", 24, data)

    for packets in ([frame(cut - 0.1, "000000")],
                    [frame(cut - 0.2, "000000"), frame(cut - 0.1, "0F0F0F")]):
        assert session._demod_on(b, list(packets)) == DEMOD_SPAN_S
    held = [frame(cut - 0.2, "000000"), frame(cut - 0.1, "000000")]
    limit = session._demod_on(b, held)
    # the next span reaches past the burst's end (1.5 s): all of it was demodulated, and the
    # square wave decoded to nothing more
    assert limit is None and len(held) == 2


def _neighbour_then_press():
    """One channel burst whose first 0.35 s hold a neighbour 18 kHz away, 10 dB over a held
    press in the same channel, then the press alone: (burst, the press's samples, the noise's
    random generator, noise power)."""
    from keyguard.dsp.bursts import Burst

    rate, noise = 102.4e3, 1e-6
    rng = np.random.default_rng(3)
    n = int(1.4 * rate)
    y = complex_noise(n, noise, rng)
    s = render_pulse_train(sensor_message(300, 3), rate, freq_offset_hz=18e3)[: int(0.35 * rate)]
    y[: s.size] += s
    p = render_pulse_train(held_press(10), rate, freq_offset_hz=1.2e3, amplitude=0.3)
    k = int(0.05 * rate)
    y[k:k + p.size] += p[: n - k]
    # carrier-on as the burst detector marks it: power over the channel's noise
    k5 = int(50e-6 * rate)
    mask = np.convolve(np.abs(y) ** 2, np.ones(k5) / k5, "same") > 10 * noise
    b = Burst(start=0, stop=n, sample_rate=rate, center_freq=CENTER, offset_hz=18e3,
              channel_offset_hz=0.0, rssi_db=0.0, snr_db=60.0, channel_snr_db=60.0,
              noise_db=-60.0, channel_noise_db=-60.0, bandwidth_hz=12e3,
              duty_cycle=float(mask.mean()), iq=y.astype(np.complex64), iq_rate=rate,
              iq_start=0, iq_step=1, channel_bw_hz=40e3, on_mask=mask)
    return b, p, rng, noise


def test_weaker_transmitters_keying_after_a_stronger_one_stops_is_demodulated():
    """One burst whose first 0.35 s hold a neighbour 18 kHz away, 10 dB over a held press in
    the same channel: the split of the whole burst fell between the two on levels, and the
    press's frames after the neighbour stopped were one long off run (fresh benign soak seed
    292136: nothing decoded, and the burst was taken for a jammer). That run is demodulated on
    its own."""
    from keyguard.dsp.bursts import Burst
    from keyguard.dsp.demod import quiet_active_runs

    b, p, rng, noise = _neighbour_then_press()
    n, rate = b.iq.size, b.iq_rate
    trains = demodulate(b)
    assert len(trains) == 2 and trains[1].freq_hz == pytest.approx(CENTER + 1.2e3, abs=100)
    got = [p.t for p in decode_pulse_train(trains[1]) if p.identity == f"keeloq:{SERIAL:08X}"]
    assert len(got) == 6 and min(got) > 0.35  # every frame the neighbour left alone
    # a burst of one transmitter leaves no such run
    clean = (p[:n] + complex_noise(min(n, p.size), noise, rng)).astype(np.complex64)
    alone = demodulate(Burst(**{**b.__dict__, "iq": clean, "on_mask": None,
                                "stop": clean.size}))
    assert len(alone) == 1
    assert quiet_active_runs(np.array([0.0, 10.0, 20.0]), np.array([1, 0], np.int8),
                             np.zeros(20, bool), rate) == []


def test_fob_inside_a_relay_amplifiers_wideband_noise_gets_a_narrow_channel():
    """An AF relay re-radiates the fob together with its amplifier's noise, 500 kHz wide and
    on for seconds: that is one continuous burst (not demodulated), and the fob's narrow line
    inside it gets a burst of its own in a 40 kHz channel."""
    fs, amp, f0 = 1.024e6, 0.05, 15e3
    rng = np.random.default_rng(7)
    x = scene(fs, 2.6, [(1.4, keeloq_frame(), dict(freq_offset_hz=f0, amplitude=amp))],
              amp ** 2 / 10 ** (30 / 10), seed=7)
    n = int(1.6 * fs)
    k = np.fft.fftfreq(n, 1 / fs)
    hiss = np.fft.ifft(np.fft.fft(complex_noise(n, 1.0, rng)) * (np.abs(k - f0) < 250e3))
    x[int(0.8 * fs):int(0.8 * fs) + n] += (amp * 10 ** (-4 / 20) * hiss / np.std(hiss)).astype(np.complex64)
    bs = bursts_of(x, fs)
    assert any(b.continuous and b.bandwidth_hz > 400e3 for b in bs)
    fob = [b for b in bs if not b.continuous]
    assert len(fob) == 1 and fob[0].keyed_on_steady and fob[0].channel_bw_hz <= 45e3
    assert fob[0].offset_hz == pytest.approx(f0, abs=2e3)
    assert fob[0].t == pytest.approx(1.4, abs=2e-3)
    assert decodes(fob[0])


def test_frames_of_a_stretch_demodulated_alone_take_that_stretchs_fingerprint():
    """Packets decoded in a stretch of a burst demodulated on its own are another
    transmitter's: their press takes that stretch's carrier and RF features, measured over
    the decoded frames, not the whole burst's (fresh RollJam sample seed 1206: the owner's
    clear press ran into a noise jammer's start, one 1.49 s burst; its frames decoded from
    the stretch but the press took the jammer's burst, which its frames fill under half of,
    so it had no fingerprint, the key was never heard, and both replays from a radio 15 ppm
    off passed). Packets of the whole burst's own train keep the whole burst."""
    from keyguard.detect import DetectionEngine
    from keyguard.pipeline import PART_MARGIN_S, CaptureSession, Scanner

    b = _neighbour_then_press()[0]
    session = CaptureSession(Scanner(), "x", b.sample_rate, CENTER, None)
    (ob,) = session._observe([b])
    frames = [p for p in ob.packets if p.identity == f"keeloq:{SERIAL:08X}"]
    assert len(frames) == 6
    (part,) = ob.burst.parts
    assert part.t == pytest.approx(min(p.t for p in frames) - PART_MARGIN_S, abs=1e-4)
    assert part.t_end == pytest.approx(max(p.t_end for p in frames) + PART_MARGIN_S, abs=1e-4)
    assert part.features is not None and ob.burst.features is not None
    assert part.freq_hz == pytest.approx(CENTER + 1.2e3, abs=100)
    assert all(ob.burst.part_of(p.t, p.t_end) is part for p in frames)
    assert ob.burst.part_of(0.0, 0.3) is ob.burst  # the neighbour's stretch
    # the press formed from them has the stretch for its burst, and a fingerprint
    eng = DetectionEngine()
    eng.begin_capture("x", duration_s=b.duration_s)
    eng.observe(ob.burst, ob.packets)
    seen = []
    orig = eng._press
    eng._press = lambda p: seen.append(p) or orig(p)
    eng.finish()
    (press,) = [p for p in seen if p.identity == f"keeloq:{SERIAL:08X}"]
    assert press.bursts == [part] and press.feature_bursts == [part]
    assert press.freq_hz == pytest.approx(CENTER + 1.2e3, abs=100)
