"""Append-only JSONL sink: one line per record, fsync per alert, and no torn line after the
writing process is killed with SIGKILL mid-stream (a real subprocess, really killed)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from keyguard.alerts.jsonl_sink import JsonlFileSink, SinkOpenError
from keyguard.events import Alert, Packet, dumps

REPO = Path(__file__).resolve().parents[1]

WRITER = r"""
import itertools, sys
from keyguard.alerts.jsonl_sink import JsonlFileSink
from keyguard.events import Alert, Packet
sink = JsonlFileSink(sys.argv[1])
run = int(sys.argv[2])
print("ready", flush=True)
for i in itertools.count():
    if i % 4 == 0:
        # alerts of varying size, some spanning several memory pages
        pad = "x" * (i * 37 % 9000)
        rec = Alert("replay", "rtl_tcp://127.0.0.1:1234", i * 0.01, i * 0.01 + 0.005, "high", 0.9,
                    "code seen before", evidence={"run": run, "seq": i, "pad": pad})
    else:
        rec = Packet("rtl_tcp://127.0.0.1:1234", i * 0.01, i * 0.01 + 0.004, "OOK", "keeloq", 66,
                     "0123456789ABCDEF0", fields={"run": run, "seq": i})
    sink.emit(rec.to_dict())
"""


def alert(i: int) -> dict:
    return Alert("replay", "cap", float(i), float(i) + 0.1, "high", 0.9, f"alert {i}").to_dict()


def test_records_are_appended_as_contract_lines(tmp_path):
    p = tmp_path / "out.jsonl"
    sink = JsonlFileSink(p)
    pkt = Packet("cap", 1.0, 1.1, "OOK", "keeloq", 66, "ABC").to_dict()
    sink.emit(pkt)
    sink.emit(alert(2))
    sink.close()
    again = JsonlFileSink(p)  # a second run appends, never truncates
    again.emit(alert(3))
    again.close()
    lines = p.read_text().splitlines()
    assert lines == [dumps(pkt), dumps(alert(2)), dumps(alert(3))]


def test_unwritable_path_is_an_input_error(tmp_path):
    with pytest.raises(SinkOpenError, match="cannot open for appending"):
        JsonlFileSink(tmp_path / "no" / "such" / "dir" / "x.jsonl")


def test_torn_tail_is_removed_and_a_missing_newline_added(tmp_path):
    p = tmp_path / "torn.jsonl"
    p.write_bytes((dumps(alert(1)) + "\n" + dumps(alert(2))[:25]).encode())
    sink = JsonlFileSink(p)
    assert sink.repaired and "removed a torn last line (25 bytes)" in sink.repaired
    sink.emit(alert(3))
    sink.close()
    assert [json.loads(x)["t"] for x in p.read_text().splitlines()] == [1.0, 3.0]

    q = tmp_path / "nonewline.jsonl"
    q.write_text(dumps(alert(1)))
    sink = JsonlFileSink(q)
    assert sink.repaired == "added the newline missing after the last line"
    sink.emit(alert(2))
    sink.close()
    assert [json.loads(x)["t"] for x in q.read_text().splitlines()] == [1.0, 2.0]


def test_sigkill_mid_stream_leaves_only_whole_lines(tmp_path):
    p = tmp_path / "alerts.jsonl"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for run in range(3):  # three writers in turn, each killed while writing
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(p), str(run)], env=env,
                                stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=tmp_path)
        try:
            assert proc.stdout.readline().strip() == b"ready"
            time.sleep(0.25 + 0.1 * run)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
    data = p.read_bytes()
    records = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    assert data.endswith(b"\n")
    # each writer's records are all there, in order, none repeated or skipped
    for run in range(3):
        seqs = [r.get("fields", r.get("evidence", {})).get("seq") for r in records
                if r.get("fields", r.get("evidence", {})).get("run") == run]
        assert len(seqs) > 20, f"writer {run} wrote too little before the kill"
        assert seqs == list(range(len(seqs)))
    assert sum(r["type"] == "alert" for r in records) > 10
