#!/usr/bin/env python3
"""Render the bundled sample captures in ``captures/`` from keyguard's own code.

One key-fob press (three repeats of a KeeLoq-style OOK frame: preamble, header, 66 PWM bits at
TE = 400 µs) with a random serial and hopping code, rendered at 250 ksps with light noise, written
as

- ``captures/sample_keyfob_433.92M_250k.cu8``: raw cu8, metadata in the name (rtl_433 style);
- ``captures/sample_keyfob.sigmf-meta`` + ``.sigmf-data``: the same samples as SigMF ci16_le, with
  start time, hardware, ``core:sha512`` and one annotation per frame.

The frame is only shaped like KeeLoq (its 32-bit "encrypted" part is random, not enciphered):
the simulator's scenario renders replace these files later. Deterministic: the same seed gives
the same bytes. Usage: ``python scripts/make_sample_captures.py [--seed N] [--out DIR]``.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from keyguard.io.sigmf_io import write_sigmf
from keyguard.io.writers import write_iq
from keyguard.pulse_train import PulseTrain
from keyguard.sim.noise import block_noise
from keyguard.sim.render import render_pulse_train

TE_US = 400.0
SAMPLE_RATE = 250e3
CENTER_FREQ = 433.92e6
AMPLITUDE = 0.4
SNR_DB = 25.0
REPEATS = 3
GUARD_TE = 39          # silence after each frame
LEAD_S, TAIL_S = 0.02, 0.02
START = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


def keeloq_like_frame(bits: list[int]) -> PulseTrain:
    """Preamble (12 on/off TE pairs), 10 TE header gap, then PWM bits (1 = TE on 2TE off,
    0 = 2TE on TE off) and the guard time."""
    d: list[float] = []
    for _ in range(12):
        d += [TE_US, -TE_US]
    d[-1] = -10 * TE_US
    for b in bits:
        d += [TE_US, -2 * TE_US] if b else [2 * TE_US, -TE_US]
    d[-1] -= GUARD_TE * TE_US
    return PulseTrain.from_signed_us(d)


def frame_bits(rng: np.random.Generator) -> tuple[list[int], int]:
    """66 bits sent LSB first: 32 hopping, 28 serial, 4 button, VLOW, RPT."""
    hop = int(rng.integers(0, 2**32))
    serial = int(rng.integers(0, 2**28))
    button, vlow, rpt = 0b0010, 0, 0
    word = hop | serial << 32 | button << 60 | vlow << 64 | rpt << 65
    return [(word >> i) & 1 for i in range(66)], serial


def render(seed: int) -> tuple[np.ndarray, list[dict], int]:
    rng = np.random.default_rng(seed)
    bits, serial = frame_bits(rng)
    frame = keeloq_like_frame(bits)
    offset_hz = float(rng.uniform(-30e3, 30e3))
    frame_s = frame.duration_us * 1e-6
    n = int(np.ceil((LEAD_S + REPEATS * frame_s + TAIL_S) * SAMPLE_RATE))
    x = np.zeros(n, np.complex64)
    annotations = []
    for k in range(REPEATS):
        t0 = LEAD_S + k * frame_s
        i0 = int(np.floor(t0 * SAMPLE_RATE))
        y = render_pulse_train(frame, SAMPLE_RATE, freq_offset_hz=offset_hz, amplitude=AMPLITUDE,
                               lead_s=t0 - i0 / SAMPLE_RATE)
        x[i0:i0 + y.size] += y[: n - i0]
        on_samples = int(round((frame_s - GUARD_TE * TE_US * 1e-6) * SAMPLE_RATE))
        annotations.append({"core:sample_start": i0, "core:sample_count": on_samples,
                            "core:label": f"keeloq-like frame {k + 1}/{REPEATS}",
                            "core:freq_lower_edge": CENTER_FREQ + offset_hz - 5e3,
                            "core:freq_upper_edge": CENTER_FREQ + offset_hz + 5e3,
                            "core:comment": f"serial 0x{serial:07X} (synthetic)"})
    noise_power = AMPLITUDE**2 / 10 ** (SNR_DB / 10)
    x += block_noise(("sample_captures", seed), 0, n, noise_power)
    return x, annotations, serial


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=20240501)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "captures")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    x, annotations, serial = render(a.seed)
    cu8 = write_iq(a.out / "sample_keyfob_433.92M_250k.cu8", x, "cu8", overwrite=True)
    meta = write_sigmf(a.out / "sample_keyfob", x, SAMPLE_RATE, fmt="cs16", center_freq=CENTER_FREQ,
                       start_time=START, hw="keyguard simulator (synthetic RTL-SDR-like capture)",
                       annotations=annotations, description=f"synthetic key-fob press, serial "
                       f"0x{serial:07X}, {REPEATS} frames", overwrite=True)
    print(f"{cu8.path} ({cu8.num_bytes} bytes)")
    print(f"{meta} + .sigmf-data")


if __name__ == "__main__":
    main()
