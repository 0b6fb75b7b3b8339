"""The bundled sample captures: rendered by keyguard's simulator, scanned to their expected
records, and showing what the README promises (a real alert)."""

from __future__ import annotations

import contextlib
import importlib.util
import json

import pytest

from conftest import REPO

CAPTURES = REPO / "captures"
SCRIPT = REPO / "scripts" / "make_sample_captures.py"


def _generator():
    spec = importlib.util.spec_from_file_location("make_sample_captures", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _samples():
    return [name for name, _ in _generator().SAMPLES]


def _capture(name):
    found = sorted((CAPTURES / name).glob(f"{name}_*.cu8"))
    assert found, f"bundled capture {name} missing: run scripts/make_sample_captures.py"
    return found[0]


def test_bundled_captures_are_small():
    total = sum(p.stat().st_size for p in CAPTURES.rglob("*") if p.is_file())
    assert total < 6_000_000


@pytest.mark.parametrize("name", _samples())
def test_bundled_capture_is_what_the_simulator_renders(tmp_path, name):
    _generator().render(tmp_path, expected=False)
    for f in (CAPTURES / name).iterdir():
        if f.name == "expected.jsonl":
            continue
        assert (tmp_path / name / f.name).read_bytes() == f.read_bytes(), f.name


@pytest.mark.parametrize("name", _samples())
def test_scan_of_bundled_capture_gives_expected_records(name):
    cap = _capture(name)
    expected = (CAPTURES / name / "expected.jsonl").read_text().splitlines()
    from keyguard.pipeline import scan_captures

    got = []
    with contextlib.chdir(cap.parent):
        for rec in scan_captures([cap.name]):
            d = rec.to_dict()
            d.pop("elapsed_s", None)
            got.append(json.dumps(d, sort_keys=True))
    assert got == expected


def test_readme_main_job_shows_an_attack(run_cli):
    cap = _capture("rolljam_sample")
    truth = json.loads((cap.parent / "truth.json").read_text())
    kinds = {e["kind"] for e in truth["events"]} - {"press"}
    status, out, err = run_cli("scan", cap, "--format", "jsonl")
    assert status == 1, err
    alerts = [json.loads(l) for l in out.splitlines() if '"type": "alert"' in l]
    assert {"jamming", "rolljam"} <= kinds
    assert {"jamming", "rolljam"} <= {a["kind"] for a in alerts}
