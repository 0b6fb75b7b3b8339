"""A small synthetic crime scene for the report tests, and checks that the report's spectrogram
and envelope find its bursts where the records say they are.

Two cu8 captures at 250 ksps, 433.92 MHz, an hour apart: in the first a fob (keeloq:0D36C681)
presses once and a second fob once, then a jammer holds the channel; in the second the first
fob's code comes back (a replay). The records are built by hand in the contract's form, as the
scan pipeline would emit them; the IQ is rendered with the simulator's renderer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from keyguard.events import Alert, Packet, Summary, time_at
from keyguard.io import open_capture, write_iq
from keyguard.io.capture import Capture
from keyguard.io.record import capture_record
from keyguard.pulse_train import PulseTrain
from keyguard.report.waterfall import stream_power
from keyguard.sim.render import complex_noise, render_pulse_train

FS = 250_000.0
FC = 433.92e6
DURATION_S = 4.0
START_A = datetime(2024, 5, 1, 21, 14, 3, tzinfo=timezone.utc)
START_B = datetime(2024, 5, 1, 22, 20, 0, tzinfo=timezone.utc)
NOISE_POWER = 1e-4  # −40 dBFS total


def keeloq_like(code: int, nbits: int = 66, te_us: float = 400.0) -> PulseTrain:
    """A KeeLoq-shaped OOK burst: 12 preamble pulses, a 10 Te gap, PWM bits."""
    d: list[float] = []
    for _ in range(12):
        d += [te_us, te_us]
    d[-1] = 10 * te_us
    for i in range(nbits):
        bit = (code >> (i % 64)) & 1
        d += [te_us, 2 * te_us] if bit else [2 * te_us, te_us]
    d[-1] = 3 * te_us
    levels = np.tile([1, 0], len(d) // 2).astype(np.int8)
    return PulseTrain(np.array(d, float), levels)


@dataclass
class Burst:
    t: float
    offset_hz: float
    code: int
    amplitude: float = 0.3


def render_capture(path: Path, bursts: list[Burst], jam: tuple[float, float] | None,
                   seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(DURATION_S * FS)
    x = complex_noise(n, NOISE_POWER, rng)
    for b in bursts:
        y = render_pulse_train(keeloq_like(b.code), FS, freq_offset_hz=b.offset_hz,
                               amplitude=b.amplitude)
        i = int(b.t * FS)
        x[i:i + y.size] += y
    if jam is not None:  # band-limited noise jammer 70 kHz below the fob channel
        i0, i1 = int(jam[0] * FS), int(jam[1] * FS)
        w = complex_noise(i1 - i0, 1.0, rng)
        k = np.ones(25, np.float32) / 25
        w = np.convolve(w, k, mode="same") * 0.9
        w *= np.exp(2j * np.pi * (-70e3 - 10e3) / FS * np.arange(w.size))
        x[i0:i1] += w.astype(np.complex64)
    write_iq(path, x, "cu8")


@dataclass
class Scene:
    paths: list[Path]
    captures: list[Capture]
    records: list

    def record_dicts(self) -> list[dict]:
        return [r.to_dict() for r in self.records]


def burst_span(b: Burst) -> tuple[float, float]:
    return b.t, b.t + keeloq_like(b.code).duration_us * 1e-6


def make_scene(directory: Path, names: tuple[str, str] = ("scene_a.cu8", "scene_b.cu8")) -> Scene:
    """Write the two captures into ``directory`` and return them opened, with their records."""
    a_bursts = [Burst(0.5, 10e3, 0x0D36C681_5A5A1234), Burst(1.6, 12e3, 0x01234567_89ABCDEF)]
    b_bursts = [Burst(0.4, -25e3, 0x0D36C681_5A5A1234, amplitude=0.5)]
    pa, pb = directory / names[0], directory / names[1]
    pa.parent.mkdir(parents=True, exist_ok=True)
    pb.parent.mkdir(parents=True, exist_ok=True)
    render_capture(pa, a_bursts, (2.2, 3.0), seed=1)
    render_capture(pb, b_bursts, None, seed=2)
    ca = open_capture(pa, sample_rate=FS, center_freq=FC, start_time=START_A)
    cb = open_capture(pb, sample_rate=FS, center_freq=FC, start_time=START_B)

    def packet(cap: Capture, b: Burst, ident: str, code: str, button: int) -> Packet:
        t, te = burst_span(b)
        return Packet(capture=cap.path, t=t, t_end=te, modulation="OOK", protocol="keeloq",
                      bits=66, data=f"{b.code:016X}0", identity=ident, code=code,
                      fields={"serial": ident.split(":")[1], "button": button, "encrypted":
                              f"{b.code & 0xFFFFFFFF:08X}"}, integrity="none",
                      rssi_db=20 * np.log10(b.amplitude), snr_db=32.0, freq_hz=FC + b.offset_hz,
                      time=time_at(cap.start_time, t))

    p1 = packet(ca, a_bursts[0], "keeloq:0D36C681", "0D36C681:5A5A1234", 2)
    p2 = packet(ca, a_bursts[1], "keeloq:01234567", "01234567:89ABCDEF", 1)
    p3 = packet(cb, b_bursts[0], "keeloq:0D36C681", "0D36C681:5A5A1234", 2)
    jam = Alert(kind="jamming", capture=ca.path, t=2.2, t_end=3.0, severity="medium",
                confidence=0.9, summary="A carrier held the channel for 0.80 s, 70 kHz below "
                "the fob channel: long enough to deny reception.",
                evidence={"duration_s": 0.8, "offset_hz": -70000.0, "js_db": 24.5},
                time=time_at(ca.start_time, 2.2))
    replay = Alert(kind="replay", capture=cb.path, t=p3.t, t_end=p3.t_end, severity="high",
                   confidence=0.97, identity="keeloq:0D36C681",
                   summary="A code of keeloq:0D36C681 was received again 1.1 h after it was "
                   "first heard; a genuine fob never repeats a code across presses.",
                   evidence={"reason": "code_seen_before", "code": p3.code,
                             "first_seen": {"capture": ca.path, "t": p1.t, "t_end": p1.t_end,
                                            "frames": 1},
                             "replay": {"capture": cb.path, "t": p3.t, "t_end": p3.t_end,
                                        "frames": 1},
                             "since_first_seen_s": 3956.1, "carrier_shift_hz": -35000.0},
                   time=time_at(cb.start_time, p3.t))
    records = [capture_record(ca), p1, p2, jam, capture_record(cb), p3, replay,
               Summary(captures=2, packets=3, alerts=2, alerts_by_kind={"jamming": 1,
                                                                        "replay": 1},
                       elapsed_s=1.25)]
    return Scene([pa, pb], [ca, cb], records)


# --------------------------------------------------------------------------------------------
def test_spectrogram_shows_each_burst_at_its_time_and_carrier(tmp_path):
    scene = make_scene(tmp_path)
    cap = scene.captures[0]
    sg, env = stream_power(cap, rows=400, nfft=256, envelope_points=800)
    assert sg is not None and env is not None
    assert sg.peak_db.shape == (400, 256)
    assert abs(sg.t1 - DURATION_S) < 256 / FS + 1e-9
    floor = float(np.median(sg.mean_db))
    mid = (sg.row_t[:-1] + sg.row_t[1:]) / 2
    for p in [r for r in scene.records if isinstance(r, Packet) and r.capture == cap.path]:
        rows = (mid > p.t + 0.01) & (mid < p.t_end - 0.01)
        col = int(np.argmin(np.abs(sg.freqs_hz - p.freq_hz)))
        assert sg.peak_db[rows][:, col].min() > floor + 25  # burst: > 25 dB above the floor
        quiet = (mid > p.t - 0.3) & (mid < p.t - 0.05)
        assert sg.peak_db[quiet][:, col].max() < floor + 10
    # the envelope sees the OOK pulses: peak near the burst amplitude inside, noise outside
    inside = (env.t > 0.52) & (env.t < 0.55)
    assert env.peak[inside].max() > 0.25 and env.peak[(env.t > 0.1) & (env.t < 0.4)].max() < 0.06


def test_stream_power_is_independent_of_block_size_and_bounded(tmp_path):
    scene = make_scene(tmp_path)
    cap = scene.captures[0]
    a, _ = stream_power(cap, rows=300, nfft=512, block=1 << 16)
    b, _ = stream_power(cap, rows=300, nfft=512, block=(1 << 18) + 1000)
    assert a.peak_db.shape == b.peak_db.shape == (300, 512)
    np.testing.assert_allclose(a.peak_db, b.peak_db, atol=1e-3)
    np.testing.assert_allclose(a.mean_db, b.mean_db, atol=1e-3)
    # a full-scale tone reads 0 dBFS in its bin, whatever the span
    t = np.arange(200_000) / FS
    tone = Capture.from_array(np.exp(2j * np.pi * 31_250.0 * t), FS, center_freq=FC)
    sg, _ = stream_power(tone, rows=50, nfft=512)
    assert abs(float(sg.mean_db.max())) < 0.05
    assert abs(sg.freqs_hz[int(np.argmax(sg.mean_db[10]))] - (FC + 31_250.0)) < 1.0


def test_zoom_span_reads_only_its_samples(tmp_path):
    scene = make_scene(tmp_path)
    cap = scene.captures[0]
    seen: list[tuple[int, int]] = []
    real_read = cap.reader.read

    def spy(start, count):
        seen.append((start, count))
        return real_read(start, count)

    cap.reader.read = spy
    sg, env = stream_power(cap, 0.45, 0.70, rows=200, nfft=256, hop=64, avg_frames=1,
                           envelope_points=500)
    assert min(s for s, _ in seen) >= int(0.45 * FS) - 1
    assert max(s + c for s, c in seen) <= int(np.ceil(0.70 * FS)) + 1
    assert sg.peak_db.shape[0] == 200 and env.t.size == 500
    assert 0.45 <= env.t[0] < 0.4506 and 0.6994 < env.t[-1] <= 0.70
