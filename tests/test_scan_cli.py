"""`keyguard scan`: the contract's records, exit statuses, determinism, state across captures
and across runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keyguard.events import ALERT_KINDS, SEVERITIES

CONTRACT = {
    "capture": {"capture": str, "sha256": (str, type(None)), "format": str,
                "sample_rate": (int, float), "center_freq": (int, float, type(None)),
                "start_time": (str, type(None)), "duration": (int, float, type(None))},
    "packet": {"capture": str, "t": float, "t_end": float, "time": (str, type(None)),
               "freq_hz": (int, float, type(None)), "modulation": str, "protocol": str,
               "bits": int, "data": str, "identity": (str, type(None)),
               "code": (str, type(None)), "fields": dict, "integrity": str,
               "rssi_db": (int, float, type(None)), "snr_db": (int, float, type(None))},
    "alert": {"kind": str, "capture": str, "t": float, "t_end": float,
              "time": (str, type(None)), "severity": str, "confidence": (int, float),
              "identity": (str, type(None)), "summary": str, "evidence": dict},
    "summary": {"captures": int, "packets": int, "alerts": int, "alerts_by_kind": dict,
                "elapsed_s": (int, float)},
}


def check_contract(lines: list[str]) -> list[dict]:
    """Every line is one JSON object of a contract type with the contract's fields and types."""
    recs = [json.loads(line) for line in lines]
    assert recs and recs[0]["type"] == "capture" and recs[-1]["type"] == "summary"
    for r in recs:
        for name, typ in CONTRACT[r["type"]].items():
            assert name in r, (r["type"], name)
            assert isinstance(r[name], typ), (r["type"], name, r[name])
        if r["type"] == "packet":
            assert r["modulation"] in ("OOK", "FSK") and r["integrity"] in ("ok", "bad", "none")
            int(r["data"], 16) if r["data"] else None
        if r["type"] == "alert":
            assert r["kind"] in ALERT_KINDS and r["severity"] in SEVERITIES
            assert 0 <= r["confidence"] <= 1 and r["summary"]
    summary = recs[-1]
    assert summary["packets"] == sum(r["type"] == "packet" for r in recs)
    return recs


@pytest.fixture
def doorhan(shared_captures):
    return shared_captures / "flipper_sub/_reference_nonvehicle/flipper_unit_tests/doorhan_raw.sub"


@pytest.fixture
def doorhan_again(doorhan, tmp_path):
    """A second recording of the same transmissions (other bytes: one more trailing gap), as an
    attacker's replay of the owner's presses would be recorded."""
    p = tmp_path / "later.sub"
    p.write_text(doorhan.read_text().rstrip("\n") + "\nRAW_Data: -5000\n")
    return p


def test_scan_of_real_keeloq_capture_follows_contract(run_cli, doorhan):
    status, out, err = run_cli("scan", doorhan, "--format", "jsonl")
    assert status == 0, err
    recs = check_contract(out.splitlines())
    ids = {r["identity"] for r in recs if r["type"] == "packet"}
    assert "keeloq:0D36C681" in ids


def _alerts(out: str) -> list[dict]:
    return [r for r in map(json.loads, out.splitlines()) if r["type"] == "alert"]


def test_codes_heard_again_in_a_later_capture_are_replays(run_cli, doorhan, doorhan_again):
    status, out, err = run_cli("scan", doorhan, doorhan_again, "--format", "jsonl")
    assert status == 1, err
    recs = check_contract(out.splitlines())
    alerts = [r for r in recs if r["type"] == "alert"]
    # three old codes re-sent within 1.6 s: replay, and the RollBack pattern
    assert {a["kind"] for a in alerts} & {"replay", "rollback"}
    assert all(a["identity"] == "keeloq:0D36C681" for a in alerts)
    assert all(a["capture"] == str(doorhan_again) for a in alerts)


def test_state_file_carries_codes_between_runs(run_cli, doorhan, doorhan_again, tmp_path):
    state = tmp_path / "state.sqlite"
    status, out, err = run_cli("scan", doorhan, "--state", state, "--format", "jsonl")
    assert status == 0, err
    # the same evidence scanned again is not an attack on itself
    status, out, err = run_cli("scan", doorhan, "--state", state, "--format", "jsonl")
    assert status == 0 and not _alerts(out), err
    status, out, err = run_cli("scan", doorhan_again, "--state", state, "--format", "jsonl")
    assert status == 1, err
    assert {a["kind"] for a in _alerts(out)} & {"replay", "rollback"}


def test_jsonl_is_byte_identical_across_runs_apart_from_wall_time(run_cli, doorhan,
                                                                  doorhan_again):
    runs = []
    for _ in range(2):
        status, out, _ = run_cli("scan", doorhan, doorhan_again, "--format", "jsonl")
        lines = out.splitlines()
        summary = json.loads(lines[-1])
        summary.pop("elapsed_s")
        runs.append((lines[:-1], summary))
    assert runs[0] == runs[1]


def test_min_severity_filters_alerts_and_exit_status(run_cli, doorhan, doorhan_again):
    status, out, _ = run_cli("scan", doorhan, doorhan_again, "--format", "jsonl",
                             "--min-severity", "critical")
    sev = [json.loads(l)["severity"] for l in out.splitlines() if '"type": "alert"' in l]
    assert all(s == "critical" for s in sev)
    assert status == (1 if sev else 0)


def test_output_file_and_table(run_cli, doorhan, tmp_path):
    out_file = tmp_path / "records.jsonl"
    status, out, err = run_cli("scan", doorhan, "--format", "jsonl", "-o", out_file)
    assert status == 0 and out == ""
    check_contract(out_file.read_text().splitlines())
    status, out, err = run_cli("scan", doorhan)
    assert status == 0 and "keeloq:0D36C681" in out and "packet(s)" in out


@pytest.mark.parametrize("args, needle", [
    (("/no/such/file.cu8",), "no such file"),
    (("--min-severity", "huge", "x.cu8"), "huge"),
])
def test_bad_input_is_one_line_and_status_2(run_cli, args, needle):
    status, out, err = run_cli("scan", *args)
    assert status == 2
    assert needle in err and "Traceback" not in err
    assert out == ""


def test_bad_state_file_is_refused(run_cli, doorhan, tmp_path):
    bad = tmp_path / "state.sqlite"
    bad.write_text("not a database\n" * 100)
    before = bad.read_bytes()
    status, out, err = run_cli("scan", doorhan, "--state", bad)
    assert status == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert bad.read_bytes() == before


def test_an_output_path_in_a_missing_folder_is_one_line_and_status_2(tmp_path, run_cli):
    sample = Path(__file__).resolve().parents[1] / \
        "captures/rolljam_sample/rolljam_sample_433.92M_250k.cu8"
    code, out, err = run_cli("scan", sample, "-o", tmp_path / "missing" / "out.jsonl")
    assert code == 2
    assert err.strip().count("\n") == 0 and "missing/out.jsonl" in err
    assert "Traceback" not in err
