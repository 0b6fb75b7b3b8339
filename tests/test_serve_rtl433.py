"""`keyguard serve`: a real third-party rtl_tcp client (Debian's rtl_433) must decode from the
server what it decodes from the file; the CLI serves, logs commands and stops cleanly."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from keyguard.io import open_capture
from keyguard.io.capture import Capture
from keyguard.sdr.rtl_tcp import CMD_FREQ, CMD_SAMPLE_RATE, RtlTcpSource
from keyguard.sdr.server import RtlTcpServer

REPO = Path(__file__).resolve().parents[1]
RTL_433 = shutil.which("rtl_433")
needs_rtl_433 = pytest.mark.skipif(RTL_433 is None, reason="rtl_433 not installed "
                                   "(Debian package rtl-433; scripts/test.sh installs it)")

CASES = [
    ("generic_remote/01/gfile003.cu8", []),
    # Honda's decoder is disabled by default in rtl_433: enable it by number for both runs
    ("honda_remote/01/hondacar-unlock.cu8", ["-R", "64"]),
]


def rtl_433_events(args: list[str], timeout_s: float = 30.0) -> list[dict]:
    """rtl_433's JSON events without the "time" field (file offset vs. wall clock)."""
    out = subprocess.run([RTL_433, "-F", "json", *args], capture_output=True,
                         text=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
    events = []
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            d = json.loads(line)
            d.pop("time")
            events.append(d)
    return events


@needs_rtl_433
@pytest.mark.parametrize("rel,extra", CASES, ids=[c[0].split("/")[0] for c in CASES])
def test_rtl_433_decodes_the_same_from_keyguard_serve_as_from_the_file(shared_captures, rel,
                                                                       extra):
    path = shared_captures / "rtl_433_tests" / "tests" / rel
    from_file = rtl_433_events([*extra, "-r", str(path)])
    assert from_file, f"rtl_433 decodes nothing from {path}: the reference run is broken"
    cap = open_capture(path)
    lines: list[str] = []
    with RtlTcpServer(cap, on_event=lines.append) as srv:
        # -T bounds the run should the server never close; rtl_433 exits when the stream ends
        from_server = rtl_433_events([*extra, "-T", "20", "-d",
                                      f"rtl_tcp:127.0.0.1:{srv.address[1]}"])
        cmds = [(c, p) for _, c, p in srv.stats.commands]
    assert from_server == from_file
    assert len(from_file) == {"gfile003.cu8": 4, "hondacar-unlock.cu8": 1}[path.name]
    assert (CMD_SAMPLE_RATE, 250000) in cmds and (CMD_FREQ, 433920000) in cmds
    # the file's bytes, then 1 s of zero signal so that rtl_433 finishes its last buffer
    assert srv.stats.bytes_sent == path.stat().st_size + 2 * 250_000
    assert any("set frequency 433920000" in ln for ln in lines)


@pytest.mark.parametrize("tail_s", [0.0, 0.5])
def test_served_bytes_round_trip_a_cu8_file_exactly(shared_captures, tail_s):
    path = shared_captures / "rtl_433_tests/tests/generic_remote/01/gfile003.cu8"
    cap = open_capture(path)
    with RtlTcpServer(cap, tail_s=tail_s, on_event=lambda s: None) as srv:
        src = RtlTcpSource("127.0.0.1", srv.address[1], max_reconnects=0,
                           on_event=lambda s: None)
        got = []
        with pytest.raises(Exception, match="gave up"):
            with src:
                for b in src.blocks():
                    got.append(b.samples)
    got = np.concatenate(got)
    assert np.array_equal(got[:cap.num_samples], cap.read())
    tail = got[cap.num_samples:]
    assert tail.size == int(tail_s * 250_000) and np.all(np.abs(tail) < 0.006)


def test_realtime_paces_at_the_sample_rate_and_loop_repeats():
    rate = 100_000.0
    x = (np.exp(1j * np.linspace(0, 50, 20_000)) * 0.5).astype(np.complex64)  # 0.2 s
    cap = Capture.from_array(x, rate, path="tone")
    with RtlTcpServer(cap, realtime=True, loop=True, on_event=lambda s: None) as srv:
        src = RtlTcpSource("127.0.0.1", srv.address[1], sample_rate=rate, block_s=0.05,
                           on_event=lambda s: None)
        n, t0 = 0, None
        with src:
            for b in src.blocks():
                t0 = t0 or time.monotonic()
                n += b.samples.size
                if n >= 50_000:  # 2.5 loops of the capture
                    break
            elapsed = time.monotonic() - t0
    # 50 000 samples at 100 ksps take 0.5 s in real time (the first block was already there)
    assert 0.35 < elapsed < 1.5
    assert n >= 50_000


def _spawn_serve(*args: str) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", *args, "--port", "0"],
                            cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        m = re.search(r"on rtl_tcp 127\.0\.0\.1:(\d+)", line)
        if m:
            return proc, int(m.group(1))
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError("keyguard serve did not start")


def test_cli_serve_once_serves_one_client_and_exits(shared_captures):
    path = shared_captures / "rtl_433_tests/tests/generic_remote/01/gfile003.cu8"
    proc, port = _spawn_serve(str(path), "--once")
    try:
        src = RtlTcpSource("127.0.0.1", port, max_reconnects=0, on_event=lambda s: None)
        n = 0
        with pytest.raises(Exception, match="gave up"):
            with src:
                for b in src.blocks():
                    n += b.samples.size
        rest = proc.communicate(timeout=10)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
    assert n == path.stat().st_size // 2 + 250_000  # the file, then the 1 s tail
    assert proc.returncode == 0
    assert "set frequency 433920000" in rest and "served 1 client(s)" in rest


def test_cli_serve_stops_on_sigterm(shared_captures):
    path = shared_captures / "rtl_433_tests/tests/generic_remote/01/gfile003.cu8"
    proc, port = _spawn_serve(str(path), "--loop", "--realtime")
    try:
        time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=10)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
    assert proc.returncode == 0
    assert "served 0 client(s)" in rest


def test_cli_serve_bad_capture_is_one_line_exit_2(run_cli, tmp_path):
    code, out, err = run_cli("serve", str(tmp_path / "missing.cu8"), "--port", "0")
    assert code == 2
    assert "missing.cu8" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
