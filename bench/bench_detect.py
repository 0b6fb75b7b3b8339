"""Cost of the detection stage: features per burst, the detection engine per observation, and
the whole scan (front end + features + detectors) against decoding alone on a rendered capture.

Run: .venv/bin/python bench/bench_detect.py — prints bursts/s, observations/s, samples/s and
the real-time factors; the numbers go in the closing note and docs/detection.md.
"""

from __future__ import annotations

import time

import numpy as np

from keyguard.detect import BurstInfo, DetectionEngine
from keyguard.events import Packet
from keyguard.features import burst_features
from keyguard.pulse_train import PulseTrain
from keyguard.sim.render import add_awgn, render_pulse_train


def keeloq_iq(rng: np.random.Generator, fs: float) -> np.ndarray:
    d = []
    for _ in range(12):
        d += [400, -400]
    d[-1] = -4000
    for b in rng.integers(0, 2, 66):
        d += [400, -800] if b else [800, -400]
    x = render_pulse_train(PulseTrain.from_signed_us(d), fs, freq_offset_hz=3e3,
                           rise_time_us=10.0, lead_s=1e-3, tail_s=1e-3)
    return add_awgn((0.3 * x).astype(np.complex64), 25.0, rng, signal_power=0.09)


def bench_features() -> None:
    rng = np.random.default_rng(0)
    for fs in (250e3, 1.024e6, 2.4e6):
        # the front end hands over channel IQ decimated to ≈ 250 ksps at most rates
        bursts = [keeloq_iq(rng, fs) for _ in range(20)]
        burst_features(bursts[0], fs)  # warm-up
        t0 = time.perf_counter()
        for x in bursts:
            burst_features(x, fs, modulation="OOK", te_us=400.0)
        dt = (time.perf_counter() - t0) / len(bursts)
        print(f"features, one 94 ms KeeLoq frame at {fs / 1e3:6.0f} ksps "
              f"({bursts[0].size} samples): {dt * 1e3:6.2f} ms/burst, {1 / dt:7.0f} bursts/s")


def bench_engine(n: int = 20_000) -> None:
    rng = np.random.default_rng(1)
    eng = DetectionEngine()
    eng.begin_capture("bench.cu8")
    obs = []
    t = 0.0
    for k in range(n):
        t += rng.uniform(0.05, 2.0)
        serial = int(rng.integers(0, 50))
        pk = Packet(capture="bench.cu8", t=t, t_end=t + 0.09, modulation="OOK", protocol="keeloq",
                    bits=66, data="0", identity=f"keeloq:{serial:08X}",
                    code=f"keeloq:{serial:08X}:{k:08X}", rssi_db=-30.0, freq_hz=433.92e6)
        obs.append((BurstInfo(t=t, t_end=t + 0.09, freq_hz=433.92e6, rssi_db=-30.0,
                              on_fraction=0.5), [pk]))
    t0 = time.perf_counter()
    alerts = 0
    for info, pk in obs:
        alerts += len(eng.observe(info, pk))
    alerts += len(eng.finish())
    dt = time.perf_counter() - t0
    print(f"engine: {n} observations (50 fobs, one press each) in {dt:.2f} s = "
          f"{n / dt:,.0f} observations/s, {alerts} alerts")


def bench_scan(name: str = "rolljam") -> None:
    from keyguard.pipeline import observe_capture
    from keyguard.protocols.engine import decode_capture
    from keyguard.protocols.registry import load_registry
    from keyguard.sim.scenario import load_scenario

    reg = load_registry()
    r = load_scenario(name).plan()
    cap = r.capture()
    t0 = time.perf_counter()
    n_dec = sum(1 for _ in decode_capture(cap, label_unknown=False))
    t_dec = time.perf_counter() - t0
    t0 = time.perf_counter()
    eng = DetectionEngine(profiles=reg)
    eng.begin(cap)
    n_scan = 0
    for ob in observe_capture(cap, reg):
        n_scan += len(ob.packets)
        eng.observe(ob.burst, ob.packets)
    eng.finish()
    t_scan = time.perf_counter() - t0
    dur = cap.duration
    print(f"scan of '{name}' ({dur:.0f} s at {cap.sample_rate / 1e3:.0f} ksps): decode only "
          f"{t_dec:.1f} s ({dur / t_dec:.1f}x real time, {n_dec} packets); decode + features + "
          f"detectors {t_scan:.1f} s ({dur / t_scan:.1f}x real time, {n_scan} packets); "
          f"ratio {t_scan / t_dec:.2f}")


if __name__ == "__main__":
    bench_features()
    bench_engine()
    bench_scan()
