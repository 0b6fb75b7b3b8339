"""`keyguard report` on the command line: records file input, reproducibility, bad input."""

from __future__ import annotations

import importlib.util

import pytest

from keyguard.events import dumps
from test_report_html import Page
from test_report_scene import make_scene

FIXED = "2024-05-02T08:00:00Z"


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return make_scene(tmp_path_factory.mktemp("cli"))


@pytest.fixture(scope="module")
def records_file(scene, tmp_path_factory):
    f = tmp_path_factory.mktemp("rec") / "scan.jsonl"
    f.write_text("".join(dumps(r.to_dict()) + "\n" for r in scene.records), encoding="utf-8")
    return f


def _args(scene, out, *extra):
    return ["report", *map(str, scene.paths), "-o", str(out), "--fixed-time", FIXED,
            "--sample-rate", "250k", "--center-freq", "433.92M", *extra]


def test_report_from_records_file_is_reproducible(run_cli, scene, records_file, tmp_path):
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    code, out, err = run_cli(*_args(scene, a, "--records", records_file, "--case-ref", "K-7",
                                    "--title", "Car park, level 2"))
    assert code == 0, err
    assert out == "" and "wrote" in err  # progress on stderr only
    code, _, err = run_cli(*_args(scene, b, "--records", records_file, "--case-ref", "K-7",
                                  "--title", "Car park, level 2", "--quiet"))
    assert code == 0 and err == ""
    assert a.read_bytes() == b.read_bytes()
    page = Page(a.read_text(encoding="utf-8"))
    assert "Car park, level 2" in page.id_text("header") and "K-7" in page.id_text("header")
    assert page.id_text("analysis-time") == "2024-05-02T08:00:00.000000Z"
    assert len(page.find("tr", class_="packet")) == 3
    assert len(page.find("article", class_="alert")) == 2
    opts = page.id_text("options")
    assert "sample_rate" in opts and "250000" in opts
    meta = page.id_text("report-meta")
    assert "profiles version" in meta and "keeloq" in meta and "sha256:" in meta


def test_records_alone_open_the_captures_they_name(run_cli, records_file, tmp_path):
    out = tmp_path / "r.html"
    code, _, err = run_cli("report", "--records", str(records_file), "-o", str(out),
                           "--fixed-time", FIXED, "--quiet")
    assert code == 0, err
    page = Page(out.read_text(encoding="utf-8"))
    assert len(page.find("img")) == 5  # both waterfalls and zooms: the IQ was found and read


@pytest.mark.parametrize("extra, msg", [
    (("--fixed-time", "yesterday"), "is not an ISO-8601 time"),
    (("--records",), "not JSON"),
])
def test_bad_options_exit_2_with_one_line(run_cli, scene, tmp_path, extra, msg):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("this is not json\n")
    args = _args(scene, tmp_path / "r.html", *extra)
    if extra == ("--records",):
        args.append(str(bad))
    code, out, err = run_cli(*args)
    assert code == 2
    assert msg in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_output_may_not_overwrite_an_input(run_cli, scene, records_file):
    before = scene.paths[0].read_bytes()
    code, _, err = run_cli("report", *map(str, scene.paths), "-o", str(scene.paths[0]),
                           "--records", str(records_file))
    assert code == 2 and "overwrite an input" in err
    assert scene.paths[0].read_bytes() == before


def test_nothing_to_report_is_a_usage_error(run_cli, tmp_path):
    code, _, err = run_cli("report", "-o", str(tmp_path / "r.html"))
    assert code == 2 and "no capture given" in err


@pytest.mark.slow  # a full scan of two captures, then the report: ~10 s
@pytest.mark.skipif(importlib.util.find_spec("keyguard.pipeline") is None,
                    reason="the scan pipeline (keyguard.pipeline) is not in this checkout")
def test_report_runs_the_scan_pipeline(run_cli, scene, tmp_path):
    from keyguard.pipeline import scan_captures

    out = tmp_path / "scan.html"
    code, _, err = run_cli(*_args(scene, out, "--quiet"))
    assert code == 0, err
    page = Page(out.read_text(encoding="utf-8"))
    assert all(str(p) in page.id_text("input-table") for p in scene.paths)
    # the report holds exactly what the pipeline finds on its own
    recs = [r.to_dict() for r in scan_captures([str(p) for p in scene.paths],
                                               sample_rate=250e3, center_freq=433.92e6)]
    packets = [r for r in recs if r["type"] == "packet"]
    alerts = [r for r in recs if r["type"] == "alert"]
    assert packets and alerts  # the scene's fobs decode and its jammer and replay are found
    assert len(page.find("tr", class_="packet")) == len(packets)
    assert len(page.find("article", class_="alert")) == len(alerts)
    table = page.id_text("packet-table")
    assert all(p["code"] in table for p in packets if p.get("code"))
    assert {a["kind"] for a in alerts} <= set(page.id_text("alerts").split())


def test_min_severity_leaves_lower_alerts_out(run_cli, scene, records_file, tmp_path):
    out = tmp_path / "high.html"
    code, _, err = run_cli(*_args(scene, out, "--records", records_file, "--min-severity",
                                  "high", "--quiet"))
    assert code == 0, err
    page = Page(out.read_text(encoding="utf-8"))
    arts = page.find("article", class_="alert")
    assert len(arts) == 1 and "replay" in page.id_text("alert-1")
    assert "--min-severity high" in page.id_text("alert-1")  # in the reproducing command
