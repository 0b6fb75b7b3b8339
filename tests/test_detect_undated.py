"""Captures without a start time: their distance on the timeline is a placeholder, so an alert
must not state how long ago a code was first heard in another such capture."""

import json
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "captures/rolljam_sample/rolljam_sample_433.92M_250k.cu8"


def _replays(out: str) -> list[dict]:
    recs = [json.loads(line) for line in out.splitlines()]
    return [r for r in recs if r["type"] == "alert" and r["kind"] in ("replay", "rolljam")
            and r["evidence"].get("first_seen", {}).get("capture", r["capture"]) != r["capture"]]


def test_replay_across_undated_captures_states_no_made_up_interval(tmp_path, run_cli):
    a, b = tmp_path / "scene_a.cu8", tmp_path / "scene_b.cu8"
    shutil.copyfile(SAMPLE, a)
    shutil.copyfile(SAMPLE, b)
    status, out, err = run_cli("scan", "--format", "jsonl", "--no-packets", a, b)
    assert status == 1, err
    across = _replays(out)
    assert across, "the second copy's codes were heard in the first: replays expected"
    for alert in across:
        assert "since_first_seen_s" not in alert["evidence"]
        assert " min " not in alert["summary"] and " h " not in alert["summary"]


def test_replay_across_dated_captures_states_the_interval(tmp_path, run_cli):
    meta = json.loads((SAMPLE.parent / (SAMPLE.stem + ".sigmf-meta")).read_text())
    paths = []
    for name, start in (("a", "2026-05-04T10:00:00Z"), ("b", "2026-05-05T10:00:00Z")):
        data = tmp_path / f"{name}.sigmf-data"
        shutil.copyfile(SAMPLE, data)
        m = json.loads(json.dumps(meta))
        m["captures"][0]["core:datetime"] = start
        m["global"].pop("core:sha512", None)
        m["global"].pop("core:dataset", None)
        (tmp_path / f"{name}.sigmf-meta").write_text(json.dumps(m))
        paths.append(tmp_path / f"{name}.sigmf-meta")
    status, out, err = run_cli("scan", "--format", "jsonl", "--no-packets", *paths)
    assert status == 1, err
    across = _replays(out)
    assert across
    assert all(abs(a["evidence"]["since_first_seen_s"] - 86400.0) < 60 for a in across)
    assert any("24.0 h" in a["summary"] for a in across)
