"""A swept or pulsed jammer crossing a fob channel at a fixed rate slices into long, periodic
"unknown" frames (``EEEE…``); those are not data and must not explain the jammer away."""

from __future__ import annotations

import numpy as np
import pytest

from keyguard.detect.config import JammingConfig
from keyguard.detect.jamming import packet_explains, periodic_bits
from keyguard.events import Packet


def unknown(bits: str) -> Packet:
    width = -(-len(bits) // 4) * 4
    data = format(int(bits.ljust(width, "0"), 2), f"0{width // 4}X")
    return Packet(capture="a.cu8", t=1.0, t_end=2.0, modulation="OOK", protocol="unknown",
                  bits=len(bits), data=data, fields={}, integrity="none")


@pytest.mark.parametrize("period", ["1110", "10", "110100", "1111111100000000"])
def test_long_periodic_frames_do_not_explain_energy(period):
    bits = (period * 200)[:799]
    assert periodic_bits(bits, 128)
    assert not packet_explains(unknown(bits), JammingConfig())


def test_a_few_slips_keep_a_frame_periodic_and_data_is_not():
    rng = np.random.default_rng(2)
    bits = list(("1110" * 100)[:400])
    for i in rng.choice(400, 6, replace=False):          # 1.5 % of bits slipped
        bits[i] = "1" if bits[i] == "0" else "0"
    assert periodic_bits("".join(bits), 128)
    for seed in range(20):
        data = "".join(np.random.default_rng(seed).choice(["0", "1"], 200))
        assert not periodic_bits(data, 128)
        assert packet_explains(unknown(data), JammingConfig())


def test_fob_length_frames_are_never_judged_for_periodicity():
    # a preamble-like or all-0xA fixed code of fob length stays data (shorter than 128 bits)
    assert not periodic_bits("10" * 33, 128)
    assert packet_explains(unknown("1010" * 16 + "11"), JammingConfig())
