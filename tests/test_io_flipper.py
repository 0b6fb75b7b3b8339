"""Flipper Zero .sub files: RAW and decoded forms, real files, and the errors for bad ones."""

from __future__ import annotations

import numpy as np
import pytest

from keyguard.errors import CaptureFormatError, CaptureNotFoundError
from keyguard.io.flipper import parse_sub, read_sub

RAW_HEAD = ("Filetype: Flipper SubGhz RAW File\nVersion: 1\nFrequency: 433920000\n"
            "Preset: FuriHalSubGhzPresetOok650Async\nProtocol: RAW\n")


def test_raw_starting_negative_with_same_sign_runs_merges_and_keeps_time():
    # starts with 1000 µs off; 300+200 on merge to 500; -100 -400 off merge to 500
    sub = parse_sub(RAW_HEAD + "RAW_Data: -1000 300 200 -100 -400 700\nRAW_Data: -50 250\n")
    raw = sub.raw
    assert raw.levels.tolist() == [0, 1, 0, 1, 0, 1]
    assert raw.durations_us.tolist() == [1000, 500, 500, 700, 50, 250]
    assert sub.frequency_hz == 433_920_000 and sub.protocol == "RAW" and sub.modulation == "OOK"
    (burst,) = sub.bursts  # no gap reaches 10 ms
    assert burst.t == pytest.approx(1000e-6)  # the leading silence places the burst
    assert burst.durations_us.tolist() == [500, 500, 700, 50, 250]
    assert burst.freq_hz == 433_920_000


def test_raw_splits_into_bursts_at_long_gaps_across_lines():
    text = RAW_HEAD + "RAW_Data: 400 -400 400 -20000\nRAW_Data: 800 -800 800 -15000 100\n"
    sub = parse_sub(text)
    assert [len(b) for b in sub.bursts] == [3, 3, 1]
    assert [b.t for b in sub.bursts] == pytest.approx([0.0, 21.2e-3, 21.2e-3 + 17.4e-3])
    assert sub.duration_s == pytest.approx((1200 + 20000 + 2400 + 15000 + 100) * 1e-6)
    # the split gap is a parameter: 800 µs gaps split at 500 µs, not at 1 ms
    assert len(parse_sub(text, burst_gap_us=1000).bursts) == 3
    assert [len(b) for b in parse_sub(text, burst_gap_us=500).bursts] == [3, 1, 1, 1]


def test_decoded_form_keeps_key_fields_and_extra_keys():
    text = ("Filetype: Flipper SubGhz Key File\r\nVersion: 1\r\nFrequency: 390000000\r\n"
            "Preset: FuriHalSubGhzPresetOok650Async\r\nLat: 0.000000\r\nLon: 0.000000\r\n"
            "Protocol: Security+ 2.0\r\nBit: 62\r\nKey: 00 00 3D 01 58 95 5D 2F\r\n"
            "Secplus_packet_1: 00 00 3C 11 7C B8 F8 EC\r\nManufacture: Elmes_Poland\r\nTE: 250\r\n")
    sub = parse_sub(text)
    assert not sub.is_raw and sub.bursts == []
    assert sub.protocol == "Security+ 2.0" and sub.bit == 62 and sub.te_us == 250
    assert sub.key == bytes.fromhex("00003D0158955D2F") and sub.key_int == 0x3D0158955D2F
    assert sub.fields == {"Lat": "0.000000", "Lon": "0.000000",
                          "Secplus_packet_1": "00 00 3C 11 7C B8 F8 EC", "Manufacture": "Elmes_Poland"}


def test_custom_cc1101_preset_gives_fsk_and_deviation():
    text = ("Filetype: Flipper SubGhz RAW File\nVersion: 1\nFrequency: 433657070\n"
            "Preset: FuriHalSubGhzPresetCustom\nCustom_preset_module: CC1101\n"
            "Custom_preset_data: 02 0D 0B 06 08 32 07 04 14 00 13 02 12 04 11 36 10 69 15 32 18 18 "
            "19 16 1D 91 1C 00 1B 07 20 FB 22 10 21 56 00 00 C0 00 00 00 00 00 00 00\n"
            "Protocol: RAW\nRAW_Data: 100 -100 100\n")
    sub = parse_sub(text)
    # MDMCFG2 = 0x04 → 2-FSK; DEVIATN = 0x32 → 26 MHz / 2^17 · (8 + 2) · 2^3
    assert sub.modulation == "FSK"
    assert sub.fsk_deviation_hz == pytest.approx(26e6 / 2**17 * 10 * 8)
    assert sub.raw.modulation == "FSK"
    assert parse_sub(text.replace("12 04", "12 30")).modulation == "OOK"  # MOD_FORMAT 3 = ASK/OOK


def test_builtin_fsk_preset():
    sub = parse_sub(RAW_HEAD.replace("Ook650", "2FSKDev476") + "RAW_Data: 100 -100\n")
    assert sub.modulation == "FSK" and sub.fsk_deviation_hz == pytest.approx(47607.422)


@pytest.mark.parametrize("text, words", [
    (RAW_HEAD, "line 5"),  # Protocol: RAW but no RAW_Data
    (RAW_HEAD + "RAW_Data: -100 -200\n", "no carrier-on"),
    (RAW_HEAD + "RAW_Data: 100 -100\nthis is not a sub line\n", "line 7"),
    (RAW_HEAD + "RAW_Data: 100 -100\nsome words: here\n", "line 7"),
    (RAW_HEAD + "RAW_Data: 100 -1x0 100\n", "line 6"),
    ("Version: 1\n" + RAW_HEAD, "line 1"),
    ("Filetype: Something Else\nProtocol: RAW\nRAW_Data: 1 -1\n", "not a Flipper"),
    (RAW_HEAD.replace("Protocol: RAW\n", ""), "Protocol"),
    (RAW_HEAD.replace("433920000", "fast"), "line 3"),
    ("Filetype: Flipper SubGhz Key File\nProtocol: KeeLoq\nBit: 64\n", "no 'Key:'"),
    ("Filetype: Flipper SubGhz Key File\nProtocol: KeeLoq\nBit: 64\nKey: ZZ\n", "not hex"),
])
def test_bad_sub_files_raise_format_error_with_the_line(text, words):
    with pytest.raises(CaptureFormatError) as e:
        parse_sub(text, path="bad.sub")
    msg = str(e.value)
    assert msg.startswith("bad.sub: ") and "\n" not in msg
    if words == "line 5":
        assert "no RAW_Data" in msg
    else:
        assert words in msg


def test_read_sub_file_errors(tmp_path):
    with pytest.raises(CaptureNotFoundError, match="no such file"):
        read_sub(tmp_path / "missing.sub")
    with pytest.raises(CaptureNotFoundError, match="directory"):
        read_sub(tmp_path)
    (tmp_path / "empty.sub").write_bytes(b"")
    with pytest.raises(CaptureFormatError, match="empty"):
        read_sub(tmp_path / "empty.sub")
    (tmp_path / "bin.sub").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CaptureFormatError, match="not a text file"):
        read_sub(tmp_path / "bin.sub")


def test_every_shared_sub_file_parses(shared_captures):
    files = sorted((shared_captures / "flipper_sub").rglob("*.sub"))
    assert len(files) >= 40
    raw = decoded = 0
    for f in files:
        sub = read_sub(f)
        assert sub.frequency_hz and 300e6 < sub.frequency_hz < 930e6, f
        if sub.is_raw:
            raw += 1
            assert sub.bursts, f
            assert all(np.all(b.levels[[0, -1]] == 1) for b in sub.bursts), f
            ts = [b.t for b in sub.bursts]
            assert ts == sorted(ts) and sub.bursts[-1].t_end <= sub.duration_s + 1e-9
        else:
            decoded += 1
            assert sub.key is not None and sub.bit, f
    assert raw >= 30 and decoded >= 9


def test_shared_files_known_facts(shared_captures):
    base = shared_captures / "flipper_sub"
    honda = read_sub(base / "Honda" / "Lock_honda.sub")
    assert honda.modulation == "FSK" and honda.frequency_hz == 433_657_070
    orlen = read_sub(base / "_reference_nonvehicle" / "decoded_uberguidoz" / "ORLEN_ON.sub")
    assert orlen.protocol == "KeeLoq" and orlen.bit == 64 and orlen.fields["Manufacture"] == "Elmes_Poland"
    assert orlen.key.hex().upper() == "DA8FF0433848ED44"
    somfy = read_sub(base / "_reference_nonvehicle" / "decoded_uberguidoz" / "Somfy_Telis_electronic_shades.sub")
    assert somfy.frequency_hz == 433_500_000 and "Lat" in somfy.fields and somfy.bit == 56
    tesla = read_sub(base / "Tesla_chargeport" / "Tesla_Captured.sub")  # CRLF line ends
    assert tesla.is_raw and tesla.frequency_hz == 315_000_000
