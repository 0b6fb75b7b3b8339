"""RollJam by a regenerating replayer whose crystal sits within a ppm of the fob's: the carrier
cannot tell them apart, the burst classifier's verdict against the key's own clear presses can."""

from __future__ import annotations

import pytest

from detect_fakes import BurstInfo, engine, feed, fv, kinds, press
from test_detect_undecoded import StandInClassifier

REPLAYER = {"regenerated_replay": 0.71, "genuine": 0.29}


def _keyed(t, cfo):
    return BurstInfo(t=t, t_end=t + 0.09, freq_hz=433.92e6, rssi_db=-40.0, on_fraction=0.45,
                     features=fv(cfo_ppm=cfo, on_fraction=0.45, te_us=13.0))


@pytest.mark.parametrize("owner_verdict,expect", [
    (None, ["rolljam"]),           # the owner's fob was judged genuine: the radio changed
    (REPLAYER, []),                # an idealised fob the classifier always calls a replayer
])
def test_a_replayer_verdict_on_the_fobs_carrier_counts_against_a_genuine_baseline(
        owner_verdict, expect):
    verdicts = {412.0: REPLAYER}
    if owner_verdict is not None:
        verdicts[411.0] = owner_verdict
    e = engine(models={"burst": StandInClassifier(verdicts)})
    owner = fv(cfo_ppm=-42.8, on_fraction=0.48, te_us=411.0)
    out = feed(e, press(0.2, 0x0FFF, frames=3), owner)          # clear of jamming
    out += e.observe(BurstInfo(t=2.0, t_end=5.0, freq_hz=433.85e6, rssi_db=-10.0,
                               on_fraction=1.0, bandwidth_hz=5e3), [])
    for t in (3.2, 3.31, 3.42):                                   # the owner, jammed
        out += e.observe(_keyed(t, -42.9), [])
    # 0.6 ppm from the fob: inside the carrier floor, a replayer by its edges and timing
    replay = fv(cfo_ppm=-42.2, on_fraction=0.48, te_us=412.0)
    out += feed(e, press(6.0, 0x1111, frames=3), replay)
    out += e.finish()
    assert sorted(kinds(out)) == sorted(["jamming"] + expect)


def test_a_replayer_verdict_without_a_clear_press_of_the_key_is_not_enough():
    e = engine(models={"burst": StandInClassifier({412.0: REPLAYER})})
    out = e.observe(BurstInfo(t=2.0, t_end=5.0, freq_hz=433.85e6, rssi_db=-10.0,
                              on_fraction=1.0, bandwidth_hz=5e3), [])
    for t in (3.2, 3.31, 3.42):
        out += e.observe(_keyed(t, -42.9), [])
    out += feed(e, press(6.0, 0x1111, frames=3), fv(cfo_ppm=-42.2, on_fraction=0.48,
                                                     te_us=412.0))
    out += e.finish()
    assert kinds(out) == ["jamming"]
