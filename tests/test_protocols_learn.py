"""Learning profiles for undescribed fobs; labelling unknown packets with identity and code."""

from __future__ import annotations

import numpy as np
import pytest

from keyguard.events import Packet
from keyguard.io import open_capture
from keyguard.protocols.encode import press_train
from keyguard.protocols.engine import Decoder, capture_pulse_trains
from keyguard.protocols.learn import LearnError, classify_bits, label_unknown, learn
from keyguard.protocols.profile import profile_from_dict, profiles_from_toml
from keyguard.pulse_train import PulseTrain

#: A made-up fob no shipped profile describes: sync pulse, 24-bit serial, 24-bit hop.
SECRET = profile_from_dict({
    "name": "secret_fob", "description": "test", "frequencies_hz": [433_920_000],
    "modulation": "OOK", "line_code": "pwm",
    "timing": {"te_short_us": 330, "te_long_us": 990, "tolerance_us": 200},
    "line": {"one": "long"},
    "frame": {"bits": 48, "gap_us": 6000,
              "header": [{"level": 1, "us": 3000, "tolerance_us": 500},
                         {"level": 0, "us": 1500, "tolerance_us": 400}]},
    "fields": [{"name": "serial", "offset": 0, "width": 24},
               {"name": "hop", "offset": 24, "width": 24}],
    "identity": ["serial"], "code": ["hop"],
    "repeat": {"frames_per_press": 3, "inter_frame_gap_us": 12000},
})


def _presses(n: int, seed: int = 3):
    rng = np.random.default_rng(seed)
    trains, hops = [], []
    t = 0.0
    for _ in range(n):
        hop = int(rng.integers(1 << 24))
        hops.append(hop)
        tr = press_train(SECRET, {"serial": 0xA5C3E1, "hop": hop})
        d = np.maximum(tr.durations_us + rng.normal(0, 25, tr.durations_us.size), 20)
        trains.append(PulseTrain(d, tr.levels, t=t, freq_hz=433.92e6))
        t += 2.0
    return trains, hops


def test_classify_bits_smooths_chance_agreement():
    m = np.array([[0, 1, 1, 0, 1, 0, 0, 1], [0, 1, 0, 1, 1, 1, 0, 0], [0, 1, 1, 1, 1, 0, 1, 0]],
                 dtype=np.uint8)
    r = classify_bits(m)
    # bits 0-1 never change (fixed); 2..7 change, and bit 4 (same by chance) lies between them
    assert r.tolist() == [False, False, True, True, True, True, True, True]


def test_learn_finds_serial_and_hop():
    trains, hops = _presses(8)
    res = learn({"synthetic": trains}, "myfob")
    p = res.profile
    assert p.line_code == "pwm" and p.frame.bits_min == 48
    fixed = [p.field_spec(n) for n in p.identity]
    rolling = [p.field_spec(n) for n in p.code]
    assert [(f.offset, f.width) for f in fixed] == [(0, 24)]
    assert [(f.offset, f.width) for f in rolling] == [(24, 24)]
    assert res.messages == 8 and res.frames == 24 and res.decoded == 24 and not res.warnings
    # the written TOML is a valid profile that decodes new presses of the fob
    (again,) = profiles_from_toml(res.toml, "myfob.toml")
    more, more_hops = _presses(3, seed=9)
    pks = [pk for tr in more for pk in Decoder([again]).decode(tr)]
    assert len(pks) == 9
    # PWM polarity cannot be learned (either reading is consistent): allow the complement
    flip = 0xFFFFFF if again.line["one"] == "short" else 0
    assert {pk.identity for pk in pks} == {f"myfob:{0xA5C3E1 ^ flip:08X}"}
    assert [int(pk.fields[p.code[0]], 16) ^ flip for pk in pks[::3]] == more_hops


def test_learn_a_fixed_code_warns():
    trains, _ = _presses(1)
    res = learn({"one": trains}, "fixed_fob")
    assert res.messages == 1 and res.profile.code == () and res.warnings


def test_learn_needs_unmatched_frames():
    tr = press_train("keeloq", {"serial": 1, "button": 1, "encrypted": 5})
    with pytest.raises(LearnError, match="no unmatched frames"):
        learn({"keeloq-only": [tr]}, "x")


def test_label_unknown_packets():
    def pk(t, data, bits=32):
        return Packet(capture="c", t=t, t_end=t + 0.05, modulation="OOK", protocol="unknown",
                      bits=bits, data=data,
                      fields={"line_code": "pwm", "te_short_us": 400.0, "te_long_us": 800.0})

    pks = [pk(0.0, "ABCD1234"), pk(0.1, "ABCD1234"), pk(1.0, "ABCD9876"), pk(2.0, "ABCD5555")]
    label_unknown(pks)
    assert len({p.identity for p in pks}) == 1
    assert pks[0].identity == "unknown-pwm-400us-32b:ABCD"
    assert pks[0].code == pks[1].code != pks[2].code
    assert pks[0].fields["fixed_bits"] == 16 and pks[0].fields["rolling_bits"] == 16


@pytest.mark.needs_shared
def test_learn_a_real_vehicle_fob(shared_captures):
    names = ["Isuzu/Isuzu_Lock.sub", "Isuzu/Isuzu_Unlock.sub"]
    caps = {n: list(capture_pulse_trains(open_capture(shared_captures / "flipper_sub" / n)))
            for n in names}
    res = learn(caps, "isuzu")
    assert res.profile.line_code == "manchester"
    assert res.messages >= 8
    assert res.decoded >= 0.9 * res.frames
    dec = Decoder([res.profile], strict_modulation=False, unknown=False)
    pks = [pk for tr in caps[names[0]] for pk in dec.decode(tr)]
    assert len({pk.code for pk in pks}) >= 4
