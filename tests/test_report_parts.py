"""Pieces of the report: session axis, evidence references, reproduce command, zoom FFT size."""

from __future__ import annotations

import shlex
from datetime import datetime, timedelta, timezone

import pytest

from keyguard.report import scan_command
from keyguard.report.model import zoom_nfft
from keyguard.report.records import PacketIndex, evidence_refs, flatten
from keyguard.report.session import SessionAxis
from keyguard.report.text import duration

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


def test_dated_captures_sit_at_their_time_and_long_gaps_are_compressed():
    ax = SessionAxis([("b.cu8", T0 + timedelta(hours=5), 60.0), ("a.cu8", T0, 60.0),
                      ("c.cu8", T0 + timedelta(hours=5, seconds=70), 30.0)])
    assert ax.dated
    # a starts the session; b and c, 10 s apart, share one linear segment after a compressed gap
    assert ax.x("a.cu8", 0.0) == 0.0 and ax.x("a.cu8", 60.0) == 60.0
    assert len(ax.breaks) == 1 and ax.breaks[0][1] == pytest.approx(5 * 3600 - 60)
    xb = ax.x("b.cu8", 0.0)
    assert 60.0 < xb < 60.0 + 0.1 * 150  # the 5 h gap drawn as a few percent of the axis
    assert ax.x("c.cu8", 0.0) - xb == pytest.approx(70.0)
    assert ax.x_max == pytest.approx(ax.x("c.cu8", 30.0))
    labels = [lab for _, lab in ax.ticks()]
    assert labels[0] == "12:00:00" and any(lab.startswith("17:0") for lab in labels)
    assert "2024-05-01 12:00:00 UTC" in ax.origin_text()


def test_undated_captures_follow_each_other_in_the_given_order():
    ax = SessionAxis([("x.cu8", None, 10.0), ("y.cu8", None, 5.0)])
    assert not ax.dated and not ax.breaks
    assert ax.x("x.cu8", 0.0) == 0.0
    assert ax.x("y.cu8", 0.0) == pytest.approx(10.0 + 1.0)  # a 1 s gap (2 % of 15 s < 1 s)
    assert all(lab.endswith(" s") for _, lab in ax.ticks())


def test_duration_text():
    assert [duration(s) for s in (412e-6, 0.0382, 4.1, 720, 3.5 * 3600)] == \
        ["412 µs", "38.2 ms", "4.10 s", "12.0 min", "3.50 h"]


def test_evidence_refs_find_every_place_once_with_its_path():
    ev = {"first_seen": {"capture": "a.cu8", "t": 1.0, "t_end": 1.1, "frames": 3},
          "replay": {"capture": "b.cu8", "t": 5.0},
          "replays": [{"first_seen": {"capture": "a.cu8", "t": 1.0, "t_end": 1.1}},
                      {"first_seen": {"capture": "a.cu8", "t": 2.0}}],
          "note": {"capture": "a.cu8", "t": "later"}, "flag": True}
    refs = evidence_refs(ev)
    assert [(r.label, r.capture, r.t, r.t_end) for r in refs] == [
        ("first_seen", "a.cu8", 1.0, 1.1), ("replay", "b.cu8", 5.0, 5.0),
        ("replays[1].first_seen", "a.cu8", 2.0, 2.0)]


def test_flatten_keeps_scalar_lists_whole():
    assert flatten({"a": {"b": 1, "c": [1, 2]}, "d": [{"e": None}], "f": {}}) == [
        ("a.b", 1), ("a.c", [1, 2]), ("d[0].e", None), ("f", {})]


def test_packet_index_finds_packets_in_a_span():
    pk = [{"capture": "a", "t": t} for t in (3.0, 1.0, 2.0)] + [{"capture": "b", "t": 1.0}]
    idx = PacketIndex(pk)
    assert idx.within("a", 1.0, 2.0) == [1, 2]
    assert idx.within("a", 2.5, 9.0) == [0] and idx.within("c", 0, 9) == []


def test_scan_command_quotes_for_the_shell():
    cmd = scan_command(["my file.cu8", "$(rm -rf ~).cu8"],
                       {"profiles": ["a dir", "b"], "state": "s.db", "no_unknown": True,
                        "model": None, "quiet": False, "sample_rate": 2.4e6})
    assert shlex.split(cmd) == ["keyguard", "scan", "my file.cu8", "$(rm -rf ~).cu8", "--format",
                                "jsonl", "--profiles", "a dir", "--profiles", "b", "--state",
                                "s.db", "--no-unknown", "--sample-rate", "2400000"]


@pytest.mark.parametrize("rate, n", [(250e3, 64), (1.024e6, 256), (2.4e6, 512), (20e6, 1024)])
def test_zoom_frames_are_shorter_than_a_fob_pulse(rate, n):
    assert zoom_nfft(rate) == n
