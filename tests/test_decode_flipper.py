"""Real captures: Flipper .sub unit-test files and vehicle recordings, rtl_433 .ook files."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from keyguard.dsp.slicers import hex_to_bits
from keyguard.io import open_capture
from keyguard.protocols.encode import press_train
from keyguard.protocols.engine import Decoder, decode_capture

pytestmark = pytest.mark.needs_shared

UNIT = "flipper_sub/_reference_nonvehicle/flipper_unit_tests"
DOORHAN = "flipper_sub/_reference_nonvehicle/DoorHan_KeeLoq_jamisonderek"


def packets(shared, rel, **kw):
    cap = open_capture(shared / rel)
    return list(decode_capture(cap, Decoder(strict_modulation=False, **kw)))


def known(pks, protocol):
    return [p for p in pks if p.protocol == protocol]


def test_doorhan_keeloq(shared_captures):
    pks = known(packets(shared_captures, f"{UNIT}/doorhan_raw.sub"), "keeloq")
    assert len(pks) >= 9
    for p in pks:
        f = p.fields
        assert (f["button"] << 28 | f["serial"]) == 0x2D36C681
        assert p.identity == "keeloq:0D36C681"
        assert p.bits in (65, 66) and p.modulation == "OOK"
    hops = []
    for p in pks:  # presses: consecutive frames with one hop
        if not hops or hops[-1] != p.fields["encrypted"]:
            hops.append(p.fields["encrypted"])
    assert len(hops) == 3 and len(set(hops)) == 3


def test_doorhan_decoded_key_matches_our_bit_order(shared_captures):
    """Flipper's Key is the 64 first on-air bits: our data hex starts with it."""
    text = (shared_captures / f"{UNIT}/doorhan.sub").read_text()
    key = next(line.split(":", 1)[1] for line in text.splitlines() if line.startswith("Key:"))
    key_hex = key.replace(" ", "").strip()
    from keyguard.protocols.codecs import get_codec

    fields = get_codec("keeloq").decode(hex_to_bits(key_hex, 64))
    pk = Decoder(protocols=["keeloq"]).decode(press_train("keeloq", fields))[0]
    assert pk.data.startswith(key_hex.upper())


@pytest.mark.parametrize("name, hop_count", [("E-DH0005-Single.sub", 1), ("E-DH0005-Held.sub", 1),
                                             ("E-DH0006-Single.sub", 1), ("E-DH0006-Held.sub", 1)])
def test_doorhan_remotes_jamisonderek(shared_captures, name, hop_count):
    pks = known(packets(shared_captures, f"{DOORHAN}/{name}"), "keeloq")
    assert pks
    assert {(p.fields["button"] << 28) | p.fields["serial"] for p in pks} == {0x26A96728}
    assert len({p.code for p in pks}) == hop_count


def test_doorhan_presses_differ(shared_captures):
    a = known(packets(shared_captures, f"{DOORHAN}/E-DH0005-Single.sub"), "keeloq")[0]
    b = known(packets(shared_captures, f"{DOORHAN}/E-DH0006-Single.sub"), "keeloq")[0]
    assert a.identity == b.identity and a.code != b.code


def test_cenmax_star_line(shared_captures):
    pks = known(packets(shared_captures, "flipper_sub/Cenmax_StarLine/cenmax_raw.sub"),
                "star_line")
    assert len(pks) >= 20
    assert {p.fields["fix"] for p in pks} == {0x26010722}
    assert {(p.fields["button"], p.fields["serial"]) for p in pks} == {(0x26, 0x010722)}
    assert len({p.fields["encrypted"] for p in pks}) == 3


def test_kia_seed(shared_captures):
    pks = known(packets(shared_captures, "flipper_sub/Kia_Hyundai/kia_seed_raw.sub"), "kia_seed")
    assert len(pks) == 12
    assert {p.fields["serial"] for p in pks} == {0x43B04EC}
    assert {p.fields["button"] for p in pks} == {1}
    assert sorted({p.fields["counter"] for p in pks}) == [0x054A, 0x054B, 0x054C, 0x054D]
    assert all(p.integrity == "ok" for p in pks)
    assert all(p.identity == "kia:043B04EC" for p in pks)


def test_faac_slh(shared_captures):
    pks = known(packets(shared_captures, f"{UNIT}/faac_slh_raw.sub"), "faac_slh")
    assert len(pks) >= 10
    assert {p.fields["serial"] for p in pks} == {0xA03A052}
    assert len({p.code for p in pks}) == 3


def test_nice_flor_s(shared_captures):
    pks = known(packets(shared_captures, f"{UNIT}/nice_flor_s_raw.sub"), "nice_flor_s")
    assert len(pks) >= 12
    codes = [p.code for p in pks]
    assert len(set(codes)) == 3
    # the repeat nibble changes within a press, the code does not
    by_code = defaultdict(set)
    for p in pks:
        by_code[p.code].add(p.fields["repeat_index"])
    assert all(len(v) > 1 for v in by_code.values())


def test_somfy_telis(shared_captures):
    pks = known(packets(shared_captures, f"{UNIT}/somfy_telis_raw.sub"), "somfy_rts")
    assert len(pks) >= 9
    assert all(p.integrity == "ok" for p in pks)
    assert {p.fields["address"] for p in pks} == {0x1312}
    counters = [p.fields["counter"] for p in pks]
    assert counters == sorted(counters)
    assert sorted(set(counters)) == list(range(520, 528))  # 8 presses, +1 each


def test_security_plus_2(shared_captures):
    pks = known(packets(shared_captures, f"{UNIT}/security_pls_2_0_raw.sub"), "secplus_v2")
    assert len(pks) >= 25
    assert len({p.identity for p in pks}) == 1
    rolling = sorted({p.fields["rolling"] for p in pks})
    assert rolling == list(range(rolling[0], rolling[0] + len(rolling)))  # +1 per press
    assert len(rolling) == 7


def test_scher_khan(shared_captures):
    pks = known(packets(shared_captures, "flipper_sub/Scher-Khan/scher_khan_magic_code.sub"),
                "scher_khan")
    assert len(pks) >= 4
    assert {(p.fields["variant"], p.fields["serial"]) for p in pks} == {
        ("magic_code_dynamic", 0xE8C169)}
    assert sorted({p.fields["counter"] for p in pks}) == [0x801B, 0x801C]  # two presses
    assert all(p.integrity == "ok" for p in pks)


def test_came_atomo_frames(shared_captures):
    pks = known(packets(shared_captures, f"{UNIT}/came_atomo_raw.sub"), "came_atomo")
    assert len(pks) >= 6
    assert all(p.bits == 62 and p.identity is None and p.code for p in pks)


@pytest.mark.parametrize("stem", ["48881-0728_318M_250k", "58417-1402-up-right_318M_250k"])
def test_megacode_matches_rtl_433(shared_captures, stem):
    base = shared_captures / "rtl_433_tests/tests/megacode/01"
    expected = [json.loads(line) for line in (base / f"{stem}.json").read_text().splitlines()
                if line.strip()]
    pks = packets(shared_captures, f"rtl_433_tests/tests/megacode/01/{stem}.ook")
    assert [p.protocol for p in pks] == ["megacode"] * len(expected)
    for p, e in zip(pks, expected):
        assert (p.fields["id"], p.fields["raw"], p.fields["facility"], p.fields["button"]) == (
            e["id"], e["raw"], e["facility"], e["button"])


@pytest.mark.parametrize("name", ["Isuzu/Isuzu_Lock.sub", "Isuzu/Isuzu_Unlock.sub"])
def test_unknown_vehicle_fob_codes_agree_within_and_differ_across_presses(shared_captures, name):
    pks = packets(shared_captures, f"flipper_sub/{name}")
    unk = [p for p in pks if p.protocol == "unknown" and p.bits >= 100]
    assert len(unk) >= 40
    assert {p.fields["line_code"] for p in unk} == {"manchester"}
    # the fob was pressed again and again: each press repeats one frame several times
    runs = []
    for p in unk:
        if runs and runs[-1][0] == p.code:
            runs[-1][1] += 1
        else:
            runs.append([p.code, 1])
    presses = [code for code, n in runs if n >= 3]
    assert len(presses) >= 4
    assert len(set(presses)) == len(presses), "a code never comes back in a later press"
    assert sum(n for _, n in runs if n >= 3) >= 0.8 * len(unk)


def test_unknown_fixed_code_gets_a_stable_identity(shared_captures):
    pks = packets(shared_captures, "flipper_sub/Tesla_chargeport/EU_Tesla_S3X.sub")
    unk = [p for p in pks if p.protocol == "unknown" and p.bits == 49]
    assert len(unk) >= 10
    assert len({p.identity for p in unk}) == 1 and unk[0].code is None


@pytest.mark.parametrize("name", ["Honda/Lock_honda.sub", "Mazda/Rx8_2007_10x_lock.sub",
                                  "Lamborghini/Lambo_Lock.sub", "Isuzu/Isuzu_fts_lock.sub",
                                  "Unknown_van/Van_left_blink.sub",
                                  "Tesla_chargeport/433b_Tesla_Captured_EU_AUS.sub"])
def test_no_shipped_protocol_claims_these_vehicle_files(shared_captures, name):
    """These fobs have no profile: nothing may be decoded as one (no wrong serials)."""
    pks = packets(shared_captures, f"flipper_sub/{name}")
    assert {p.protocol for p in pks} <= {"unknown"}


def test_mixed_traffic_file(shared_captures):
    pks = packets(shared_captures, f"{UNIT}/test_random_raw.sub", unknown=False)
    kinds = {p.protocol for p in pks}
    assert {"keeloq", "star_line", "nice_flor_s", "faac_slh", "secplus_v2", "came_atomo",
            "pt2262", "came_top", "megacode"} <= kinds
    assert len(pks) >= 130
    for p in known(pks, "keeloq"):
        assert p.bits in (64, 65, 66)
