"""keyguard evaluate on a tiny simulated scenario: a KeeLoq press and its replay (2.5 s, 250 ksps)."""

from __future__ import annotations

import json
import shutil

import pytest

from keyguard.evaluate import EvaluateOptions, TruthError, capture_files, evaluate_captures, \
    evaluate_records, load_truth
from keyguard.io import open_capture

SCENARIO = """
name = "tiny_replay"
description = "one KeeLoq press and its replay"
duration_s = 2.5
seed = 5

[receiver]
center_freq = 433.92e6
sample_rate = 250_000
gain_db = 10

[[devices]]
id = "owner"
protocol = "keeloq"
serial = "0x0A3C5E71"
key = "0x1F2E3D4C5B6A7988"
counter = 500
position = [10, 4, 1]

[[presses]]
device = "owner"
t = 0.2

[[attacks]]
type = "replay"
victim = "owner"
t = 1.4
of = 0.2
replayer = { kind = "flipper", position = [8, -5, 1], power_dbm = -20.0 }
"""


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """The scenario rendered twice: cu8 + sidecar (``raw/``) and a SigMF pair (``pair/``)."""
    from keyguard.sim.output import write_rendering
    from keyguard.sim.scenario import load_scenario

    root = tmp_path_factory.mktemp("evaluate")
    toml = root / "tiny.toml"
    toml.write_text(SCENARIO)
    r = load_scenario(str(toml)).plan()
    raw = write_rendering(r, root / "raw", "cu8")
    pair = write_rendering(r, root / "pair", "sigmf")
    return {"root": root, "raw": raw, "pair": pair}


@pytest.fixture(scope="module")
def scored(sim):
    return evaluate_captures([sim["raw"].data.parent])


def test_planted_replay_is_detected_and_decoded(scored):
    total = scored.to_dict()
    assert total["captures"] == 1 and total["truth"] == ["truth.json"]
    assert total["kinds"]["replay"] == {"events": 1, "detected": 1, "detection_rate": 1.0,
                                        "alerts": 1, "false_alarms": 0}
    assert total["false_alarms"] == 0 and total["missed_list"] == []
    # the press and the replayer's copy of it, each decoded with the right identity and code
    assert total["decode"]["keeloq"]["presses_decoded"] == 1
    assert total["decode"]["keeloq"]["attack_frames_decoded"] == 1
    assert total["presses"]["genuine_presses"] == 1
    assert total["presses"]["flagged"]["replay"] == 0
    # benign time: the capture outside the replay's span
    replay = [e for e in scored.captures[0].truth.events if e.kind == "replay"][0]
    assert total["benign_s"] == pytest.approx(2.5 - (replay.t_end - replay.t))


def test_classifier_scores_labelled_bursts(scored):
    clf = scored.to_dict()["classifier"]
    if not clf:
        pytest.skip("no burst classifier shipped in this build")
    classes = clf["classes"]
    assert classes["genuine"]["bursts"] >= 1  # the press's frames, labelled from the truth
    assert classes["regenerated_replay"]["bursts"] >= 1  # the Flipper's frames
    assert clf["bursts"] == sum(c["bursts"] for c in classes.values())
    assert classes["genuine"]["auc"] is not None and 0.0 <= classes["genuine"]["auc"] <= 1.0


def test_benign_declaration_turns_the_alert_into_a_false_alarm(sim):
    ev = evaluate_captures([sim["raw"].data], EvaluateOptions(benign=True)).to_dict()
    assert ev["truth"] == ["benign"]
    assert ev["kinds"]["replay"]["events"] == 0
    assert ev["kinds"]["replay"]["false_alarms"] == 1 and ev["false_alarms"] == 1
    assert ev["benign_s"] == pytest.approx(2.5)
    assert ev["false_alarms_per_hour"] == pytest.approx(3600.0 / 2.5)
    assert ev["classifier"] == {}  # a benign-only capture does not say which class a burst is


def _comparable(ev) -> dict:
    """The totals without what names the truth's source; benign time to 0.1 ms (SigMF spans
    are whole samples)."""
    d = ev.to_dict()
    for k in ("truth", "false_alarm_list", "missed_list", "false_alarms_per_hour_95"):
        d.pop(k)
    d["benign_s"] = round(d["benign_s"], 4)
    return d


def test_truth_json_and_sigmf_annotations_agree(sim, scored):
    cap = open_capture(sim["raw"].data)
    tj, ts = load_truth(cap, source="json"), load_truth(cap, source="sigmf")
    assert (tj.source, ts.source) == ("truth.json", "sigmf")
    assert [e.kind for e in tj.events] == [e.kind for e in ts.events]
    for a, b in zip(tj.events, ts.events):
        assert abs(a.t - b.t) <= 1 / 250e3 and abs(a.t_end - b.t_end) <= 1 / 250e3
        assert a.params == b.params and a.identity == b.identity
    by_sigmf = evaluate_captures([sim["raw"].data], EvaluateOptions(truth_source="sigmf"))
    assert by_sigmf.to_dict()["truth"] == ["sigmf"]
    assert _comparable(by_sigmf) == _comparable(scored)


def test_sigmf_pair_is_one_capture_with_its_truth_json(sim, scored):
    files = capture_files([sim["pair"].meta.parent])
    assert files == [str(sim["pair"].meta)]  # not the .sigmf-data half as well
    ev = evaluate_captures(files)
    assert ev.to_dict()["truth"] == ["truth.json"]
    assert _comparable(ev)["kinds"] == _comparable(scored)["kinds"]


def test_sidecar_is_not_a_capture_of_its_own(sim):
    assert capture_files([sim["raw"].data.parent]) == [str(sim["raw"].data)]
    assert capture_files([sim["raw"].truth]) == [str(sim["raw"].data)]


def test_capture_without_truth_is_refused(sim, tmp_path):
    bare = tmp_path / sim["raw"].data.name
    shutil.copy(sim["raw"].data, bare)  # no sidecar, no truth.json
    with pytest.raises(TruthError, match="no ground truth.*--benign"):
        evaluate_captures([bare])
    assert evaluate_captures([bare], EvaluateOptions(benign=True)).to_dict()["false_alarms"] == 1


def test_saved_records_score_like_a_scan(sim, scored, tmp_path, run_cli):
    out = tmp_path / "scan.jsonl"
    code, _, err = run_cli("scan", sim["raw"].data, "--format", "jsonl", "-o", out)
    assert code == 1, err  # the replay alert
    ev = evaluate_records(out)
    d, ref = ev.to_dict(), scored.to_dict()
    assert d["kinds"] == ref["kinds"] and d["decode"] == ref["decode"]
    assert d["presses"] == ref["presses"] and d["classifier"] == {}


def test_cli_jsonl_is_deterministic(sim, run_cli):
    runs = [run_cli("evaluate", sim["raw"].data.parent, "--format", "jsonl") for _ in range(2)]
    assert runs[0][0] == 0 and runs[0][1] == runs[1][1]
    recs = [json.loads(line) for line in runs[0][1].splitlines()]
    assert [r["type"] for r in recs] == ["evaluation", "evaluation"]
    assert [r["scope"] for r in recs] == ["capture", "total"]
    assert recs[1]["kinds"]["replay"]["detected"] == 1


def test_cli_table(sim, run_cli):
    code, out, _ = run_cli("evaluate", sim["raw"].data.parent)
    assert code == 0
    assert "Detection per alert kind" in out and "Decode rate per protocol" in out
    assert any(line.split()[:4] == ["replay", "1", "1", "100.0"] for line in out.splitlines())


@pytest.mark.parametrize("case", ["no_truth", "missing", "empty_dir", "bad_truth", "bad_records"])
def test_cli_bad_input_exits_2_with_one_line(case, sim, tmp_path, run_cli):
    if case == "no_truth":
        target = tmp_path / sim["raw"].data.name
        shutil.copy(sim["raw"].data, target)
        args = [target]
    elif case == "missing":
        args = [tmp_path / "nothing_433.92M_250k.cu8"]
    elif case == "empty_dir":
        (tmp_path / "empty").mkdir()
        args = [tmp_path / "empty"]
    elif case == "bad_truth":
        d = tmp_path / "bad"
        shutil.copytree(sim["raw"].data.parent, d)
        (d / "truth.json").write_text('{"capture": "%s", "events": ' % sim["raw"].data.name)
        args = [d / sim["raw"].data.name, "--truth", "json"]
    else:
        bad = tmp_path / "scan.jsonl"
        bad.write_text("not json\n")
        args = ["--records", bad]
    code, out, err = run_cli("evaluate", *args)
    assert code == 2, (out, err)
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err
