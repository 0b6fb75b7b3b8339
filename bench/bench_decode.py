"""Decoding-engine throughput on pulse trains (no IQ front end): runs/s and real-time factor.

Usage: .venv/bin/python bench/bench_decode.py [SUB_FILE]

1. A real mixed-traffic Flipper recording (the firmware's test_random_raw.sub, when the shared
   captures are present, or the file given), decoded with every shipped profile, with and
   without the unknown-frame analyser.
2. A synthetic stream: 200 presses of 6 protocols with timing jitter, separated by noise
   bursts (seeded), to show the cost per press.
Prints one line per measurement; CPU time from time.process_time().
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from keyguard.io import open_capture
from keyguard.protocols.encode import press_train
from keyguard.protocols.engine import Decoder
from keyguard.pulse_train import PulseTrain

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO.parent / "shared/captures/flipper_sub/_reference_nonvehicle/flipper_unit_tests/" \
    "test_random_raw.sub"

SAMPLES = {
    "keeloq": {"serial": 0xD36C681, "button": 2, "encrypted": 0x5A966D5A},
    "star_line": {"serial": 0x010722, "button": 0x26, "encrypted": 0xD9B10657},
    "kia_seed": {"serial": 0x43B04EC, "button": 1, "counter": 0x054A},
    "somfy_rts": {"address": 0x1312, "control": 3, "counter": 521, "key": 0xA7},
    "ev1527": {"id": 0x8EC1A, "button": 2},
    "secplus_v2": {"rolling": 240124054, "fixed": 447797240228},
}


def bench_trains(label: str, trains: list[PulseTrain], duration_s: float, **kw) -> None:
    dec = Decoder(strict_modulation=False, **kw)
    runs = sum(len(t) for t in trains)
    t0 = time.process_time()
    n = sum(len(dec.decode(t)) for t in trains)
    cpu = time.process_time() - t0
    print(f"{label:48s} {runs:8d} runs {n:5d} packets  {cpu:6.2f} s CPU  "
          f"{runs / cpu:9.0f} runs/s  {duration_s / cpu:7.1f}x real time")


def synthetic(n_presses: int = 200, seed: int = 1) -> tuple[list[PulseTrain], float]:
    rng = np.random.default_rng(seed)
    names = list(SAMPLES)
    trains, t = [], 0.0
    for i in range(n_presses):
        name = names[i % len(names)]
        tr = press_train(name, SAMPLES[name])
        d = np.maximum(tr.durations_us + rng.normal(0, 25, tr.durations_us.size), 5)
        trains.append(PulseTrain(d, tr.levels, t=t, modulation=tr.modulation))
        t += tr.duration_us * 1e-6 + 0.2
        noise = rng.uniform(40, 600, 400)
        trains.append(PulseTrain(noise, (np.arange(400) % 2 == 0).astype(np.int8), t=t))
        t += noise.sum() * 1e-6 + 0.2
    return trains, t


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if path.exists():
        cap = open_capture(path)
        bench_trains(f"{path.name} (all profiles + unknown)", cap.pulse_trains, cap.duration)
        bench_trains(f"{path.name} (all profiles)", cap.pulse_trains, cap.duration,
                     unknown=False)
    else:
        print(f"{path}: not found, skipping the real recording")
    trains, dur = synthetic()
    bench_trains("synthetic 200 presses + noise (+ unknown)", trains, dur)
    bench_trains("synthetic 200 presses + noise", trains, dur, unknown=False)


if __name__ == "__main__":
    main()
