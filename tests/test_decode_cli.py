"""`keyguard decode` and `keyguard profile` from the command line."""

from __future__ import annotations

import json

import pytest

from keyguard.protocols.encode import press_train

UNIT = "flipper_sub/_reference_nonvehicle/flipper_unit_tests"


def _records(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.mark.needs_shared
def test_decode_jsonl_follows_the_contract(run_cli, shared_captures):
    path = shared_captures / UNIT / "doorhan_raw.sub"
    code, out, err = run_cli("decode", "--format", "jsonl", path)
    assert code == 0, err
    recs = _records(out)
    assert recs[0]["type"] == "capture" and recs[0]["format"] == "sub"
    assert recs[-1]["type"] == "summary" and recs[-1]["captures"] == 1
    pks = [r for r in recs if r["type"] == "packet"]
    assert recs[-1]["packets"] == len(pks) >= 9
    for r in pks:
        for key in ("capture", "t", "t_end", "time", "freq_hz", "modulation", "protocol", "bits",
                    "data", "identity", "code", "fields", "integrity", "rssi_db", "snr_db"):
            assert key in r
        assert r["t_end"] > r["t"] and r["integrity"] in ("ok", "bad", "none")
    kl = [r for r in pks if r["protocol"] == "keeloq"]
    assert {r["identity"] for r in kl} == {"keeloq:0D36C681"}
    assert kl[0]["freq_hz"] == 433920000
    assert kl[0]["data"].startswith("5AB6695A")


@pytest.mark.needs_shared
def test_decode_table_and_protocol_filter(run_cli, shared_captures):
    path = shared_captures / "flipper_sub/Kia_Hyundai/kia_seed_raw.sub"
    code, out, _ = run_cli("decode", "--protocol", "kia_seed", path)
    assert code == 0
    assert "kia:043B04EC" in out and "12 packet(s)" in out
    code, out, _ = run_cli("decode", "--protocol", "keeloq", path)
    assert code == 0 and "0 packet(s)" in out


def test_unknown_protocol_name_is_a_usage_error(run_cli, tmp_path):
    code, out, err = run_cli("decode", "--protocol", "nosuch", tmp_path / "x.sub")
    assert code == 2 and "no profile named 'nosuch'" in err


def test_missing_capture_reports_and_continues(run_cli, tmp_path):
    code, out, err = run_cli("decode", "--format", "jsonl", tmp_path / "missing.sub")
    assert code == 2 and "missing.sub" in err
    assert _records(out)[-1]["type"] == "summary"


def test_bad_profile_directory_names_file_and_key(run_cli, tmp_path):
    (tmp_path / "broken.toml").write_text('name = "x"\ndescription = "d"\n')
    code, out, err = run_cli("decode", "--profiles", tmp_path, tmp_path / "x.sub")
    assert code == 2
    assert "broken.toml" in err and "'frequencies_hz'" in err and "Traceback" not in err
    code, out, err = run_cli("profile", "check", tmp_path)
    assert code == 2 and "broken.toml" in err


def test_profile_list_and_check(run_cli):
    code, out, _ = run_cli("profile", "list")
    assert code == 0 and "keeloq " in out and "kia_seed" in out
    code, out, _ = run_cli("profile", "list", "--format", "jsonl")
    names = [json.loads(line)["name"] for line in out.splitlines()]
    assert "secplus_v2" in names and "star_line" in names
    import importlib.resources as r

    code, out, _ = run_cli("profile", "check", str(r.files("keyguard.firmware_profiles")))
    assert code == 0 and "profile(s) valid" in out


def test_learn_then_decode_with_the_learned_profile(run_cli, tmp_path):
    """A fob with no profile: learn one from a .sub of several presses, then decode with it."""
    from test_protocols_learn import SECRET
    import numpy as np

    rng = np.random.default_rng(1)
    values = []
    for _ in range(6):
        tr = press_train(SECRET, {"serial": 0x123456, "hop": int(rng.integers(1 << 24))})
        values.extend(tr.signed_us().astype(int).tolist())
        values.append(-40000)
    sub = tmp_path / "myfob.sub"
    lines = ["Filetype: Flipper SubGhz RAW File", "Version: 1", "Frequency: 433920000",
             "Preset: FuriHalSubGhzPresetOok650Async", "Protocol: RAW"]
    for i in range(0, len(values), 512):
        lines.append("RAW_Data: " + " ".join(str(v) for v in values[i:i + 512]))
    sub.write_text("\n".join(lines) + "\n")

    prof_dir = tmp_path / "profiles"
    prof_dir.mkdir()
    out_file = prof_dir / "myfob.toml"
    code, out, err = run_cli("profile", "learn", sub, "-o", out_file)
    assert code == 0, err
    assert "6 distinct messages" in err and "24 fixed" in err
    code, out, err = run_cli("decode", "--format", "jsonl", "--profiles", prof_dir, sub)
    assert code == 0, err
    pks = [r for r in _records(out) if r["type"] == "packet"]
    assert len(pks) == 18 and {r["protocol"] for r in pks} == {"myfob"}
    assert len({r["identity"] for r in pks}) == 1
    assert len({r["code"] for r in pks}) == 6
    # the file exists now: a second learn needs --overwrite
    code, _, err = run_cli("profile", "learn", sub, "-o", out_file)
    assert code == 2 and "--overwrite" in err


def test_decode_with_a_manufacturer_key_file(run_cli, tmp_path):
    """--keys: hops decrypt (simple learning: the key is the device key) to the counter."""
    key = 0x0123456789ABCDEF  # a random test key, not a real manufacturer's
    tr = press_train("keeloq", {"serial": 0x0ABCDEF, "button": 2, "counter": 1200,
                                "device_key": key})
    values = tr.signed_us().astype(int).tolist() + [-40000]
    sub = tmp_path / "fob.sub"
    sub.write_text("Filetype: Flipper SubGhz RAW File\nVersion: 1\nFrequency: 433920000\n"
                   "Preset: FuriHalSubGhzPresetOok650Async\nProtocol: RAW\n"
                   "RAW_Data: " + " ".join(map(str, values)) + "\n")
    keys = tmp_path / "keys.txt"
    keys.write_text(f"{key:016X} simple test key\n")
    code, out, err = run_cli("decode", "--format", "jsonl", "--keys", keys, sub)
    assert code == 0, err
    pks = [r for r in _records(out) if r["type"] == "packet"]
    assert pks and all(r["fields"]["counter"] == 1200 and r["integrity"] == "ok" for r in pks)
    code, out, _ = run_cli("decode", "--format", "jsonl", sub)
    pks = [r for r in _records(out) if r["type"] == "packet"]
    assert pks and all("counter" not in r["fields"] and r["integrity"] == "none" for r in pks)
