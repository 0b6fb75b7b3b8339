"""Replay, RollJam and RollBack on hand-built packet sequences."""

from __future__ import annotations

import pytest

from detect_fakes import FRAME_S, BurstInfo, burst_of, engine, feed, keeloq, kinds, press


def run(packets, e=None):
    e = e or engine()
    out = feed(e, packets)
    return out + e.finish()


def test_held_button_is_one_press_not_a_replay():
    e = engine()
    alerts = run(press(1.0, 0xAAAA0001, frames=40), e)  # ≈ 4 s held
    assert alerts == []
    assert e.counts["presses"] == 1
    assert e.counts["packets"] == 40


def test_new_presses_with_new_codes_are_not_replays():
    pk = press(1.0, 0x1111) + press(5.0, 0x2222) + press(9.0, 0x3333)
    assert run(pk) == []


def test_same_code_in_a_later_press_is_a_replay_with_first_seen():
    pk = press(1.0, 0x1111) + press(5.0, 0x2222) + press(30.0, 0x1111, frames=2)
    alerts = run(pk)
    assert kinds(alerts) == ["replay"]
    a = alerts[0]
    assert a.identity == "keeloq:0D36C681"
    assert a.t == pytest.approx(30.0)
    assert a.evidence["first_seen"]["capture"] == "a.cu8"
    assert a.evidence["first_seen"]["t"] == pytest.approx(1.0)
    assert a.evidence["since_first_seen_s"] == pytest.approx(29.0)
    assert a.severity == "high" and a.confidence > 0.9
    assert "first heard" in a.summary


def test_dropout_inside_a_held_press_is_bridged_on_the_same_carrier():
    # frames stop for 0.6 s (fading) and resume on the fob's own carrier: still one press
    pk = press(1.0, 0x1111, frames=3) + press(1.0 + 3 * 0.106 + 0.6, 0x1111, frames=3)
    assert run(pk) == []


def test_same_code_soon_after_from_another_carrier_is_a_replay():
    pk = press(1.0, 0x1111, frames=3) + press(1.0 + 3 * 0.106 + 0.6, 0x1111, frames=3,
                                              freq=433.92e6 + 6e3)
    assert kinds(run(pk)) == ["replay"]


def test_a_held_press_resuming_inside_a_merged_burst_is_still_one_press():
    # the held button's frames stop for 0.77 s, then its last frame comes inside a 0.84 s burst
    # it shares with another transmission: the burst's carrier (2.4 kHz off) is not the frame's
    e = engine()
    first = press(31.0, 0x1111, frames=6, freq=433.9142e6)
    out = feed(e, first)
    last = keeloq(32.391, 0x1111, freq=433.9166e6)
    out += e.observe(BurstInfo(t=31.642, t_end=32.482, freq_hz=433.9166e6, rssi_db=-30.0,
                               on_fraction=0.55), [last])
    out += e.finish()
    # (the merged burst itself counts as jamming here: nothing explains most of it)
    assert not {"replay", "rolljam", "rollback"} & set(kinds(out))
    # the same frame alone in its own burst on that carrier is another transmitter's copy
    e = engine()
    out = feed(e, first) + feed(e, [last]) + e.finish()
    assert kinds(out) == ["replay"]


def test_a_held_press_that_began_inside_a_merged_burst_is_still_one_press():
    # benign soak seed 2005: a sensor's burst merged with the start of a held press;
    # the press's first decoded frames carry the merged burst's carrier (10 kHz off the fob's),
    # and its last frame, alone 0.64 s later, is on the fob's own carrier
    e = engine()
    merged = BurstInfo(t=30.843, t_end=32.380, freq_hz=433.9099e6, rssi_db=-30.0,
                       on_fraction=0.6)
    out = e.observe(merged, [keeloq(31.644, 0x1111, freq=433.9099e6),
                             keeloq(31.752, 0x1111, freq=433.9099e6)])
    out += feed(e, [keeloq(32.396, 0x1111, freq=433.8997e6)]) + e.finish()
    assert not {"replay", "rolljam", "rollback"} & set(kinds(out))
    # frames measured in bursts of their own, then the same code 10 kHz away: another radio
    e = engine()
    out = feed(e, [keeloq(31.644, 0x1111, freq=433.9099e6), keeloq(31.752, 0x1111,
                                                                   freq=433.9099e6)])
    out += feed(e, [keeloq(32.396, 0x1111, freq=433.8997e6)]) + e.finish()
    assert kinds(out) == ["replay"]


def test_counter_behind_the_newest_is_an_old_code():
    pk = (press(1.0, 0x1111, counter=100) + press(5.0, 0x2222, counter=101)
          + press(20.0, 0x9999, counter=90, frames=2))
    alerts = run(pk)
    assert kinds(alerts) == ["replay"]
    assert alerts[0].evidence["reason"] == "counter_behind"
    assert alerts[0].evidence["newest_counter"] == 101


def test_one_frame_with_an_old_counter_and_no_check_is_not_trusted():
    # a single frame without integrity check: one bit error could fake an old counter
    pk = press(1.0, 0x1111, counter=100) + press(20.0, 0x9999, counter=36, frames=1)
    assert run(pk) == []


def _jam(t, t_end, freq=433.85e6):
    return BurstInfo(t=t, t_end=t_end, freq_hz=freq, rssi_db=-10.0, on_fraction=1.0,
                     bandwidth_hz=5e3)


def test_rolljam_needs_jamming_over_the_original():
    e = engine()
    out = []
    # jammer 70 kHz below from 4 s to 10 s; the fob presses at 5 s and 8.5 s under it
    out += e.observe(_jam(4.0, 10.0), [])
    out += feed(e, press(5.0, 0x1111, frames=3) + press(8.5, 0x2222, frames=3))
    # code 1 replayed 1 s after press 2 (jammer off), code 2 much later
    out += feed(e, press(11.0, 0x1111, frames=3, freq=433.92e6 + 4e3))
    out += feed(e, press(60.0, 0x2222, frames=3, freq=433.92e6 + 4e3))
    out += e.finish()
    assert sorted(kinds(out)) == ["jamming", "rolljam", "rolljam"]
    rj = [a for a in out if a.kind == "rolljam"]
    assert rj[0].t == pytest.approx(11.0)
    assert rj[0].evidence["first_seen"]["t"] == pytest.approx(5.0)
    assert rj[0].evidence["jamming_at_original"][0]["t"] == pytest.approx(4.0)
    assert rj[0].severity == "critical"


def test_both_jammed_codes_spent_in_quick_succession_are_rolljam_not_rollback():
    # RollJam's two kept codes used 2 s apart look like a RollBack run, but both were first
    # heard under the jammer: the pattern is RollJam, and nothing is escalated to RollBack
    e = engine()
    out = e.observe(_jam(4.0, 10.0), [])
    out += feed(e, press(5.0, 0x1111, frames=3) + press(8.5, 0x2222, frames=3))
    out += feed(e, press(11.0, 0x1111, frames=3, freq=433.92e6 + 4e3))
    out += feed(e, press(13.0, 0x2222, frames=3, freq=433.92e6 + 4e3))
    out += e.finish()
    assert sorted(kinds(out)) == ["jamming", "rolljam", "rolljam"]
    assert all("escalates" not in a.evidence for a in out)


def test_replay_without_jamming_is_not_rolljam():
    pk = press(5.0, 0x1111, frames=3) + press(8.5, 0x2222, frames=3) + press(11.0, 0x1111)
    assert kinds(run(pk)) == ["replay"]


@pytest.mark.parametrize("n", [2, 3, 5])
def test_rollback_of_old_codes_in_quick_succession(n):
    hops = [0x1000 + k for k in range(n)]
    pk = []
    for k, h in enumerate(hops):
        pk += press(2.0 + 6 * k, h, frames=3)
    t = 60.0
    for h in hops:  # the attacker replays them back to back, 0.4 s apart
        pk += press(t, h, frames=2, freq=433.92e6 + 8e3)
        t += 2 * (FRAME_S + 0.016) + 0.4
    alerts = run(pk)
    # the first old code is a replay the moment its press closes; the second escalates it to
    # one RollBack alert (further codes of the run add none)
    assert kinds(alerts) == ["replay", "rollback"]
    r, a = alerts
    assert a.evidence["old_codes"] == 2
    assert a.t == pytest.approx(60.0) and r.t == pytest.approx(60.0)
    assert a.t_end > a.t + 0.4
    assert len(a.evidence["replays"]) == 2
    assert a.evidence["escalates"] == [{"capture": r.capture, "t": r.t, "kind": "replay"}]


def test_rollback_by_counters_of_codes_never_heard():
    pk = press(1.0, 0x1111, counter=500) + press(6.0, 0x2222, counter=501)
    pk += press(40.0, 0xA1, counter=460, frames=2) + press(40.6, 0xA2, counter=461, frames=2)
    alerts = run(pk)
    assert kinds(alerts) == ["replay", "rollback"]
    assert alerts[1].evidence["counters"] == [460, 461]
    assert alerts[1].evidence["consecutive_counters"] is True


def test_old_codes_far_apart_are_separate_replays():
    pk = press(1.0, 0x1111) + press(5.0, 0x2222)
    pk += press(40.0, 0x1111, frames=2) + press(80.0, 0x2222, frames=2)
    assert kinds(run(pk)) == ["replay", "replay"]


def test_same_old_code_twice_is_two_replays_not_a_rollback():
    pk = press(1.0, 0x1111) + press(40.0, 0x1111, frames=2) + press(43.0, 0x1111, frames=2)
    assert kinds(run(pk)) == ["replay", "replay"]


def test_replay_across_captures_names_the_original_capture():
    from datetime import datetime, timezone
    e = engine()
    e.begin_capture("mon.cu8", start_time=datetime(2024, 5, 6, 8, 0, tzinfo=timezone.utc))
    out = feed(e, press(3.0, 0x1111, capture="mon.cu8"))
    out += e.begin_capture("tue.cu8", start_time=datetime(2024, 5, 7, 8, 0, tzinfo=timezone.utc))
    out += feed(e, press(7.0, 0x1111, capture="tue.cu8", frames=2))
    out += e.finish()
    assert kinds(out) == ["replay"]
    a = out[0]
    assert a.capture == "tue.cu8" and a.t == pytest.approx(7.0)
    assert a.time == "2024-05-07T08:00:07.000000Z"
    assert a.evidence["first_seen"]["capture"] == "mon.cu8"
    assert a.evidence["since_first_seen_s"] == pytest.approx(86400 + 4.0)


def test_out_of_order_bursts_within_the_reorder_window_are_put_back_in_order():
    e = engine()
    pk = press(1.0, 0x1111, frames=3)
    # the second frame arrives after the third (a per-channel front end's block boundary)
    out = e.observe(burst_of([pk[0]]), [pk[0]])
    out += e.observe(burst_of([pk[2]]), [pk[2]])
    out += e.observe(burst_of([pk[1]]), [pk[1]])
    out += e.finish()
    assert out == [] and e.counts["presses"] == 1


def test_integrity_bad_packets_are_not_codes():
    pk = press(1.0, 0x1111) + [keeloq(30.0, 0x1111, integrity="bad"),
                               keeloq(30.1, 0x1111, integrity="bad")]
    # a frame whose check failed is not evidence of anything
    assert run(pk) == []


def _keyed(t, cfo):
    from keyguard.features.vector import FeatureVector
    return BurstInfo(t=t, t_end=t + FRAME_S, freq_hz=433.92e6, rssi_db=-40.0, on_fraction=0.9,
                     features=FeatureVector.from_dict({"cfo_ppm": cfo, "on_fraction": 0.45,
                                                       "te_us": 13.0}))


@pytest.mark.parametrize("replay_cfo,gap_s,expect", [
    (-36.7, 1.0, ["rolljam"]),   # another oscillator, right after the jamming
    (-42.8, 1.0, []),            # the fob itself, pressed again
    (-36.7, 9.0, []),            # long after: nothing ties it to the jamming
])
def test_rolljam_without_decoding_the_jammed_presses(replay_cfo, gap_s, expect):
    from keyguard.features.vector import FeatureVector
    e = engine()
    out = e.observe(_jam(1.0, 4.0), [])
    for t in (2.2, 2.31, 2.42, 3.6, 3.71, 3.82):  # the owner's frames, undecodable under it
        out += e.observe(_keyed(t, -42.9), [])
    fv = FeatureVector.from_dict({"cfo_ppm": replay_cfo, "on_fraction": 0.48, "te_us": 400.0})
    out += feed(e, press(4.0 + gap_s, 0x1111, frames=3, freq=433.904e6), fv)
    out += e.finish()
    assert sorted(kinds(out)) == sorted(["jamming"] + expect)
    if expect:
        a = [x for x in out if x.kind == "rolljam"][0]
        assert a.evidence["method"] == "bursts_under_jamming"
        assert a.evidence["bursts_under_jamming"] == 6
        assert a.evidence["cfo_shift_ppm"] == pytest.approx(6.2, abs=0.01)


def test_the_kept_second_code_from_the_same_radio_is_rolljam_too():
    from keyguard.features.vector import FeatureVector
    e = engine()
    out = e.observe(_jam(1.0, 4.0), [])
    for t in (2.2, 2.31, 3.6, 3.71):
        out += e.observe(_keyed(t, -42.9), [])
    att = FeatureVector.from_dict({"cfo_ppm": -36.7, "on_fraction": 0.48, "te_us": 400.0})
    own = FeatureVector.from_dict({"cfo_ppm": -42.8, "on_fraction": 0.48, "te_us": 411.0})
    out += feed(e, press(5.0, 0x1111, frames=3), att)     # code 1, right after the jamming
    out += feed(e, press(40.0, 0x3333, frames=3), own)    # the owner later: nothing
    out += feed(e, press(300.0, 0x2222, frames=3), att)   # code 2, from the attacker's radio
    out += e.finish()
    assert kinds(out) == ["jamming", "rolljam", "rolljam"]
    assert out[2].evidence["reason"] == "same_radio_as_earlier_rolljam_replay"
    assert out[2].evidence["first_replay"]["t"] == pytest.approx(5.0)


@pytest.mark.parametrize("offset_hz,length,expect", [
    (300.0, 1.0, ["replay", "rollback"]),   # the replayer's next codes, clipped beyond decoding
    (25e3, 1.0, ["replay"]),                # another transmitter's bursts
    (300.0, 2.0, ["replay"]),               # bursts of another length: not the same frames
])
def test_old_code_then_undecoded_bursts_from_its_radio_is_a_rollback(offset_hz, length, expect):
    e = engine()
    out = []
    for k in range(3):
        out += feed(e, press(2.0 + 6 * k, 0x1000 + k, frames=3))
    f = 433.92e6 + 8e3
    rp = press(60.0, 0x1000, frames=1, freq=f)      # only the first old code decoded
    out += feed(e, rp)
    t = rp[-1].t_end + 0.3
    for _ in range(2):  # two more codes, each sent the same way, that did not decode
        out += e.observe(BurstInfo(t=t, t_end=t + length * FRAME_S, freq_hz=f + offset_hz,
                                   rssi_db=-20.0, on_fraction=0.9), [])
        t += length * FRAME_S + 0.4
    out += e.finish()
    assert kinds(out) == expect
    if len(out) == 2:
        r, a = out
        assert a.evidence["reason"] == "old_code_then_undecoded_frames_from_its_radio"
        assert len(a.evidence["undecoded_bursts"]) == 1   # decided at the first of them
        assert a.evidence["escalates"] == [{"capture": r.capture, "t": r.t, "kind": "replay"}]


def test_rolljam_codes_followed_by_undecoded_bursts_stay_rolljam():
    e = engine()
    out = e.observe(_jam(4.0, 10.0), [])
    out += feed(e, press(5.0, 0x1111, frames=3) + press(8.5, 0x2222, frames=3))
    f = 433.92e6 + 4e3
    rp = press(11.0, 0x1111, frames=1, freq=f)
    out += feed(e, rp)
    t = rp[-1].t_end + 0.3
    out += e.observe(BurstInfo(t=t, t_end=t + FRAME_S, freq_hz=f, rssi_db=-20.0,
                               on_fraction=0.9), [])
    out += e.finish()
    assert sorted(kinds(out)) == ["jamming", "rolljam"]


@pytest.mark.parametrize("press_cfo,expect", [
    (-42.8, []),            # the owner's own carrier, heard clear of jamming before
    (-36.7, ["rolljam"]),   # another oscillator
])
def test_the_fob_on_its_own_clear_carrier_after_jamming_is_not_a_replayer(press_cfo, expect):
    # the bursts heard under the jammer carry a carrier the jammer pulled (or are the jammer's
    # own fragments): the key's presses heard clear of jamming say where its carrier is
    from keyguard.features.vector import FeatureVector
    e = engine()

    def fob(cfo):
        return FeatureVector.from_dict({"cfo_ppm": cfo, "on_fraction": 0.48, "te_us": 411.0})

    out = feed(e, press(0.2, 0x0FFF, frames=3), fob(-42.9))   # the owner, before any jamming
    out += e.observe(_jam(2.0, 5.0), [])
    for t in (3.2, 3.31):
        out += e.observe(_keyed(t, -47.0), [])
    out += feed(e, press(6.0, 0x1111, frames=3), fob(press_cfo))
    out += e.finish()
    assert sorted(kinds(out)) == sorted(["jamming"] + expect)
