"""IQ captures through the DSP front end and the profiles: rtl_433's test captures."""

from __future__ import annotations

import json
from collections import Counter
from functools import lru_cache

import pytest

from keyguard.io import open_capture
from keyguard.protocols.engine import decode_capture

pytestmark = pytest.mark.needs_shared


@lru_cache(maxsize=None)
def _decoded(path: str) -> tuple:
    """Packets of an IQ capture, decoded once per test session (the front end is the slow
    part, and several tests look at the same Hyundai recordings)."""
    return tuple(decode_capture(open_capture(path)))


@pytest.mark.parametrize("name", ["gfile001.data", "gfile002.data", "gfile003.cu8",
                                  "gfile004.cu8"])
def test_generic_remote_matches_rtl_433(shared_captures, name):
    base = shared_captures / "rtl_433_tests/tests/generic_remote/01"
    expected = [json.loads(line) for line in
                (base / (name.rsplit(".", 1)[0] + ".json")).read_text().splitlines() if line]
    pks = [p for p in decode_capture(open_capture(base / name)) if p.protocol != "unknown"]
    assert [p.protocol for p in pks] == ["pt2262"] * len(expected)
    for p, e in zip(pks, expected):
        assert p.fields["id"] == e["id"] and p.fields["cmd"] == e["cmd"]
        # rtl_433 writes a floating pin as Z, the PT2262 datasheet as F
        assert p.fields["tristate"] == e["tristate"].replace("Z", "F")
        assert abs(p.t - float(e["time"].strip("@s"))) < 0.01
        assert p.snr_db is not None and p.snr_db > 5


@pytest.mark.parametrize("name", ["01/gfile002.cu8", "01/gfile004.data", "01/gfile007.data",
                                  "01/gfile008.data"])
def test_hyundai_remote_without_profile_repeats_its_frame(shared_captures, name):
    """No profile (rtl_433 has no decoder either): the frames still agree within the press."""
    pks = list(_decoded(str(shared_captures / "rtl_433_tests/tests/hyundai_remote" / name)))
    assert pks and {p.protocol for p in pks} == {"unknown"}
    data, n = Counter(p.data for p in pks if p.bits >= 100).most_common(1)[0]
    assert n >= 7
    same = [p for p in pks if p.data == data]
    assert len({p.identity for p in same}) == 1


def test_hyundai_presses_share_a_fixed_tail(shared_captures):
    """Four presses of one fob: the first part of the frame changes, a later part (≈ 100
    bits) does not: a rolling code and a serial, seen without knowing the protocol."""
    base = shared_captures / "rtl_433_tests/tests/hyundai_remote/01"
    frames = []
    for name in ("gfile002.cu8", "gfile004.data", "gfile007.data", "gfile008.data"):
        pks = [p for p in _decoded(str(base / name)) if p.bits == 231]
        frames.append(Counter(p.data for p in pks).most_common(1)[0][0])
    assert len({f[:20] for f in frames}) == 4
    assert len({f[23:48] for f in frames}) == 1


def _rtl433_expected(path) -> list[dict]:
    return [json.loads(line) for line in path.with_suffix(".json").read_text().splitlines()
            if line.strip()]


@pytest.mark.parametrize("name", ["hondacar-unlock.cu8", "hondacar-lock2.cu8",
                                  "hondacar-bootunlock.data"])
def test_honda_car_remote_matches_rtl_433(shared_captures, name):
    """rtl_433's Honda-CarRemote: the same device id and button (boot/unlock/lock)."""
    path = shared_captures / "rtl_433_tests/tests/honda_remote/01" / name
    (want,) = _rtl433_expected(path)
    pks = [p for p in decode_capture(open_capture(path)) if p.protocol == "honda_remote"]
    assert len(pks) == 1, [p.protocol for p in pks]
    names = {0xAA: "boot", 0xAB: "unlock", 0xAC: "lock"}
    p = pks[0]
    assert p.fields["id"] == want["id"] and names[int(p.fields["button"], 16)] == want["code"]
    assert p.identity == f"honda_remote:{want['id']:08X}" and p.modulation == "FSK"
    assert abs(p.t - float(want["time"].strip("@s"))) < 0.01


@pytest.mark.parametrize("name", ["S466-TX2_01.data", "S466-TX2_02.cu8"])
def test_cardin_matches_rtl_433(shared_captures, name):
    """rtl_433's Cardin-S466: the same DIP switches and right-button contacts, in every repeat."""
    path = shared_captures / "rtl_433_tests/tests/cardin/01" / name
    (want,) = _rtl433_expected(path)
    pks = [p for p in decode_capture(open_capture(path)) if p.protocol == "cardin_s466"]
    assert len(pks) >= 20  # the remote repeats its frame while the button is held
    assert {(p.fields["dipswitch"], p.fields["rbutton"]) for p in pks} == {
        (want["dipswitch"], want["rbutton"])}
    assert len({p.identity for p in pks}) == 1 and pks[0].code is None
    assert abs(pks[0].t - float(want["time"].strip("@s"))) < 0.01
