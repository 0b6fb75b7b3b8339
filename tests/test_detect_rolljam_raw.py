"""RollJam by a raw-IQ replayer: the SDR that recorded the jammed press sends the recording back
on the fob's own carrier, so the carrier offset cannot tell it from the key. Its trace in the
press's gaps can: its LO leakage, a sharp line kHz from the carrier, that the key's own presses
do not carry (development RollJam seeds 300, 412 and 416: HackRF replays at 2.5–9.4 kHz from
their LO, a 12–19 dB line, sharpness 0.7–0.8; the owner's clear presses −3 to −0.5 dB, 0.1–0.2).
"""

from __future__ import annotations

import math

import pytest

from detect_fakes import BurstInfo, engine, feed, fv, kinds, press
from keyguard.detect.rolljam import other_oscillator

OWNER_CFO = -69.1


def _owner(line_db: float = -1.5, line_hz: float = 1.0e3, sharpness: float = 0.15):
    return fv(cfo_ppm=OWNER_CFO, on_fraction=0.48, te_us=412.0, gap_line_db=line_db,
              gap_line_hz=line_hz, gap_line_sharpness=sharpness)


def _raw_replay():
    # the fob's recorded carrier, sent back with the HackRF's LO leak 2.6 kHz away
    return fv(cfo_ppm=OWNER_CFO - 0.3, on_fraction=0.48, te_us=412.0, gap_line_db=13.2,
              gap_line_hz=2.6e3, gap_line_sharpness=0.79)


def _jam(t: float, t_end: float) -> BurstInfo:
    return BurstInfo(t=t, t_end=t_end, freq_hz=433.85e6, rssi_db=-10.0, on_fraction=1.0,
                     bandwidth_hz=5e3)


def _jammed_scene(e, after):
    """The owner's clear press, a jammer (its presses under it unheard), then ``after``."""
    out = feed(e, press(0.2, 0x0FFF, frames=3), _owner())
    out += e.observe(_jam(2.0, 5.0), [])
    out += feed(e, press(6.0, 0x1111, frames=3), after)
    return out


@pytest.mark.parametrize("after,expect", [
    (_raw_replay(), ["rolljam"]),
    (_owner(), []),                                    # the owner pressed again after it
    (_owner(line_db=13.0, sharpness=0.2), []),         # a spread line: a neighbour's keying
])
def test_a_raw_iq_replay_on_the_keys_own_carrier_is_told_by_its_lo_leak(after, expect):
    e = engine()
    out = _jammed_scene(e, after)
    out += e.finish()
    assert sorted(kinds(out)) == sorted(["jamming"] + expect)
    for a in out:
        if a.kind == "rolljam":
            assert a.evidence["method"] == "replayer_trace"
            assert a.evidence["trace"] == "gap_line"
            assert abs(a.evidence["detail"]["gap_line_hz"] - 2.6e3) < 1.0


def test_the_kept_code_from_a_raw_replayer_needs_its_trace_not_the_keys_carrier():
    # the first replay's carrier is the key's: a later press on that carrier is the owner's
    # (it must not be called the replayer's kept code), one with the replayer's LO leak is not
    e = engine()
    out = _jammed_scene(e, _raw_replay())
    out += feed(e, press(20.0, 0x2222, frames=3), _owner())
    out += feed(e, press(40.0, 0x3333, frames=3), _raw_replay())
    out += e.finish()
    rolljam = [a for a in out if a.kind == "rolljam"]
    assert [round(a.t) for a in rolljam] == [6, 40]
    assert rolljam[1].evidence["reason"] == "same_radio_as_earlier_rolljam_replay"
    assert rolljam[1].evidence["replayer_trace"]["trace"] == "gap_line"


def test_clipped_presses_whose_fine_offsets_agree_are_one_oscillator():
    # development jamming seed 395: the owner's presses 13 dB over full scale, burst carriers
    # 1.3 kHz apart (an OOK keying's spectral lines under clipping), fine offsets 0.64 ppm apart
    f1, f2 = 433923726.7, 433925006.8
    assert not other_oscillator(11.65, f2, 11.01, f1, 2.5, clipped=True)
    # fine offsets apart as well, or unmeasured: the carriers decide
    assert other_oscillator(16.0, f2, 11.01, f1, 2.5, clipped=True)
    assert other_oscillator(math.nan, f2, 11.01, f1, 2.5, clipped=True)
    assert not other_oscillator(16.0, f1 + 200.0, 11.01, f1, 2.5, clipped=True)
    # carriers farther apart than a keying line: two oscillators, whatever clipping did to
    # the fine offsets
    assert other_oscillator(11.65, f1 + 4.4e3, 11.01, f1, 2.5, clipped=True)


def test_after_a_replayer_verdict_on_the_keys_carrier_the_owners_next_press_is_not_the_kept_code():
    # the burst classifier called the first replay a replayer (a regenerating radio within a
    # ppm of the fob, or a raw-IQ one): its carrier offset is the key's, so a later press on
    # it is no evidence of the replayer (the owner locks the car the next morning)
    from test_detect_undecoded import StandInClassifier
    replayer = {"regenerated_replay": 0.71, "genuine": 0.29}
    e = engine(models={"burst": StandInClassifier({412.0: replayer})})
    owner = fv(cfo_ppm=-42.8, on_fraction=0.48, te_us=411.0)
    out = feed(e, press(0.2, 0x0FFF, frames=3), owner)
    out += e.observe(_jam(2.0, 5.0), [])
    out += feed(e, press(6.0, 0x1111, frames=3), fv(cfo_ppm=-42.2, on_fraction=0.48,
                                                     te_us=412.0))
    out += feed(e, press(3600.0, 0x2222, frames=3), owner)
    out += e.finish()
    assert [(a.kind, round(a.t)) for a in out] == [("jamming", 2), ("rolljam", 6)]
