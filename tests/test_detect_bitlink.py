"""Codes linked by their bits when one side did not decode under its profile: a press heard
only as ``unknown`` frames then replayed and decoded, and a decoded code replayed in frames that
decode only as ``unknown`` (a raw-IQ replay). Hand-built packets."""

from __future__ import annotations

import pytest

from detect_fakes import FOB_F, BurstInfo, engine, feed, keeloq, kinds, press
from keyguard.detect.bitlink import BitMemory, Episode, frame_bits, longest_match
from keyguard.events import Packet


# hops as a KeeLoq encoder sends them: 32 bits that look random from press to press
H1, H2, H7 = 0x5A3C96E1, 0xC3A5177B, 0x2E81D4A6
HOPS = (0x9D04B3C7, 0x36E9A15D, 0xE07C2B98)


def unknown_frame(t: float, hop: int, serial: int = 0x0D36C681, *, nbits: int = 66,
                  start: int = 0, dur: float = 0.09, freq: float = FOB_F) -> Packet:
    """What an unprofiled decode of a KeeLoq frame gives: its bits ``start`` to ``start +
    nbits`` (on-air order, as :func:`detect_fakes.keeloq` lays them out) as an ``unknown``
    packet."""
    bits = frame_bits(f"{hop:08X}{serial:07X}20", 66)
    part = bits[start:start + nbits]
    pad = part + "0" * (-len(part) % 4)
    data = format(int(pad, 2), f"0{len(pad) // 4}X")
    return Packet(capture="a.cu8", t=t, t_end=t + dur, modulation="OOK", protocol="unknown",
                  bits=len(part), data=data, identity=None, code=None,
                  fields={"te_short_us": 400.0, "line_code": "pwm"}, integrity="none",
                  rssi_db=-30.0, snr_db=30.0, freq_hz=freq)


def unknown_press(t: float, hop: int, frames: int = 3, **kw) -> list[Packet]:
    return [unknown_frame(t + i * 0.106, hop, **kw) for i in range(frames)]


def _jam(t, t_end, freq=433.85e6):
    return BurstInfo(t=t, t_end=t_end, freq_hz=freq, rssi_db=-10.0, on_fraction=1.0,
                     bandwidth_hz=5e3)


# the memory ---------------------------------------------------------------------------------
def test_frame_bits_and_longest_match():
    assert frame_bits("A5", 8) == "10100101"
    assert frame_bits("A5", 6) == "101001"
    assert frame_bits("A5", 9) is None and frame_bits("", 4) is None
    a = "1" * 5 + "0110100111010010110101110001" + "0" * 3
    b = "0110100111010010110101110001" + "1111"
    n, i, j = longest_match(a, b)
    assert (n, i, j) == (28, 5, 0)
    assert longest_match(a[:20], b) == (0, -1, -1)   # shorter than a seed


def test_a_stretch_inside_the_fixed_part_links_nothing():
    m = BitMemory()
    for hop in (H1, H7):
        bits = frame_bits(f"{hop:08X}0D36C6820", 66)
        m.add_decoded(f"c{hop:X}", "keeloq:0D36C681", "keeloq", bits, 1.0)
    target = frame_bits("33334444" "0D36C6820", 66)
    m.add_decoded("c3", "keeloq:0D36C681", "keeloq", target, 50.0)
    # serial + button (34 bits) of a frame of another code: every press of the key has them
    m.add_unknown(target[32:], Episode(target[32:], "a", 0, 10.0, 10.1, 10.0, 10.1, None), 1.0)
    assert m.heard_as_unknown("c3", "keeloq:0D36C681", 50.0, 1.0) is None
    # 30 bits of the hop and the serial after it: the rolling part
    m.add_unknown(target[:40], Episode(target[:40], "a", 0, 20.0, 20.1, 20.0, 20.1, None), 1.0)
    link = m.heard_as_unknown("c3", "keeloq:0D36C681", 50.0, 1.0)
    assert link is not None and link.episode.abs_t == 20.0
    assert link.bits == 40 and link.distinct_bits >= 8


# a decoded press whose code was heard before as unknown frames ---------------------------------
@pytest.mark.parametrize("jammed,expect", [(False, "replay"), (True, "rolljam")])
def test_a_code_heard_only_as_unknown_frames_then_decoded_is_old(jammed, expect):
    e = engine()
    out = feed(e, press(0.2, H1, frames=3))            # the owner, decoded
    if jammed:
        out += e.observe(_jam(9.5, 11.0), [])
    # the owner's next press, too weak (or too cut up) for the KeeLoq profile
    out += feed(e, unknown_press(10.0, H2))
    out += feed(e, press(30.0, H2, frames=3))           # that code, sent again later
    out += e.finish()
    assert [k for k in kinds(out) if k != "jamming"] == [expect]
    a = [x for x in out if x.kind == expect][0]
    assert a.t == pytest.approx(30.0)
    assert a.evidence["first_seen"]["t"] == pytest.approx(10.0)
    link = a.evidence["bits_link"]
    assert link["original_heard_as"] == "unknown" and link["matched_bits"] == 66


def test_a_fragment_of_the_hop_heard_under_a_jammer_links_the_kept_code():
    # under the jammer only 29 bits of the hop came out of one frame (an intermodulation
    # product of the jammer and the fob, 350 kHz away)
    e = engine()
    out = feed(e, press(0.2, H1, frames=3))
    out += e.observe(_jam(9.0, 14.0), [])
    out += feed(e, [unknown_frame(13.6, H2, nbits=29, freq=FOB_F + 350e3)])
    out += feed(e, press(25.0, H2, frames=3))
    out += e.finish()
    assert kinds(out) == ["jamming", "rolljam"]
    assert out[1].evidence["bits_link"]["matched_bits"] == 29


@pytest.mark.parametrize("frames", [
    [unknown_frame(9.788, H2)],            # the press's first frame, unprofiled
    [unknown_frame(9.3 + 0.106 * i, H2) for i in range(7)],   # a held button's start
    [unknown_frame(3.0, H1, nbits=40, start=26)],   # mostly the key's fixed part
    [unknown_frame(3.0, H2, nbits=20)],    # too short a stretch to mean anything
])
def test_unknown_frames_that_are_not_an_earlier_transmission_of_the_code(frames):
    e = engine()
    out = feed(e, press(0.2, H1, frames=3))
    out += feed(e, frames)
    out += feed(e, press(10.0, H2, frames=3))
    out += e.finish()
    assert kinds(out) == []


# unknown frames replaying a decoded code ------------------------------------------------------
def test_a_raw_iq_replay_that_decodes_only_as_unknown_frames_is_a_rollback():
    e = engine()
    out = []
    for k, t in enumerate((2.0, 6.0, 11.0)):
        out += feed(e, press(t, HOPS[k], frames=3))
    # a HackRF sends back the recordings with their noise: the frames frame, no profile takes
    # them; three old codes within 1.5 s
    out += feed(e, unknown_press(21.0, HOPS[0], frames=2))
    out += feed(e, unknown_press(21.6, HOPS[1], frames=2, nbits=60))
    out += feed(e, unknown_press(22.2, HOPS[2], frames=2))
    out += e.finish()
    assert kinds(out) == ["replay", "rollback"]
    r, b = out
    assert r.t == pytest.approx(21.0) and r.identity == "keeloq:0D36C681"
    assert r.evidence["first_seen"]["t"] == pytest.approx(2.0)
    assert r.evidence["bits_link"]["decoded"] is False
    assert b.evidence["escalates"] == [{"capture": r.capture, "t": r.t, "kind": "replay"}]
    assert b.evidence["replays"][0]["first_seen"]["t"] == pytest.approx(2.0)


def test_an_undecoded_replay_is_reported_within_the_press_gap_of_its_last_frame():
    e = engine()
    out = feed(e, press(2.0, HOPS[0], frames=3))
    out += feed(e, unknown_press(20.0, HOPS[0], frames=3))
    last_end = 20.0 + 2 * 0.106 + 0.09
    out += e.advance_to(last_end + 0.2)
    assert kinds(out) == []                       # its press may still go on
    out += e.advance_to(last_end + 0.6)
    assert kinds(out) == ["replay"]
    out += e.finish()
    assert kinds(out) == ["replay"]


@pytest.mark.parametrize("tail", [
    # the original press's own frames that did not decode (within the press gap of it)
    lambda: unknown_press(2.0 + 3 * 0.106, HOPS[0], frames=2),
    # a replay that decoded: its unknown frames add no second alert
    lambda: press(20.0, HOPS[0], frames=2) + [unknown_frame(20.0 + 2 * 0.106, HOPS[0])],
    # another code's frame (of the same key): its fixed part only
    lambda: [unknown_frame(20.0, H7)],
])
def test_unknown_frames_that_are_not_an_undecoded_replay(tail):
    e = engine()
    out = feed(e, press(2.0, HOPS[0], frames=3))
    out += feed(e, tail())
    out += e.finish()
    assert kinds(out) in ([], ["replay"])
    assert len(out) <= 1
    if out:   # only the decoded replay, judged by its code
        assert "bits_link" not in out[0].evidence


def test_a_press_of_another_button_is_not_linked_through_the_serial():
    # the key's held press whose later frames came out only as unknown frames holding the end
    # of the hop, the serial and the button; later a press of another button with a new hop:
    # the stretch they share is the serial (what every press of the key sends)
    from dataclasses import replace
    e = engine()
    out = feed(e, press(0.2, H1, frames=3))
    out += feed(e, press(30.0, H7, frames=2))
    out += feed(e, [unknown_frame(30.212 + 0.106 * k, H7, nbits=40, start=26)
                    for k in range(3)])
    button4 = [replace(p, data=p.data[:-2] + "40") for p in press(100.0, H2, frames=3)]
    out += feed(e, button4)
    out += e.finish()
    assert kinds(out) == []


@pytest.mark.parametrize("block_s", [0.013, 0.1, 0.5])
def test_bit_links_are_decided_in_time_and_the_same_however_time_is_stepped(block_s):
    from test_detect_engine_latency import BUDGET_S, _canon, _latencies, _obs_of, stream
    obs = _obs_of(press(1.0, H1, frames=3)) + _obs_of(unknown_press(10.0, H2))
    obs += _obs_of(press(30.0, H2, frames=3))                  # decoded, original unknown
    obs += _obs_of(press(40.0, HOPS[0], frames=3))
    obs += _obs_of(unknown_press(60.0, HOPS[0]))               # undecoded replay
    live = stream(obs, block_s=block_s, end_s=90.0)
    assert _canon(live) == _canon(stream(obs, block_s=None, end_s=90.0))
    lat = _latencies(live)
    assert sorted(lat) == [("replay", 30.0), ("replay", 60.0)]
    assert max(lat.values()) < BUDGET_S
