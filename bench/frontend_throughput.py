"""IQ front-end throughput: keyguard's burst detection + demodulation against ``rtl_433 -r``.

Generates a long, realistic capture per sample rate (mostly receiver noise; KeeLoq presses,
an EV1527 remote, an FSK fob, a weather sensor and a two-second jammer at their usual rates
and offsets), writes it as cu8 into a temporary directory with rtl_433's naming
(``bench_433.92M_1024k.cu8``), then alternates runs of

* keyguard: ``keyguard.io.open_capture`` + ``keyguard.dsp.iter_pulse_trains`` (every pulse
  train demodulated; decoding is not part of the front end), in a child process pinned to
  one core with single-threaded numeric libraries; the time is measured inside the child
  (interpreter start-up excluded) and also as the child's whole wall time;
* rtl_433: ``rtl_433 -r FILE`` with its default decoders (output to /dev/null), pinned to
  the same core,

and prints the medians as samples per second; the ratio is the median of the per-round ratios
(each round runs both back to back, so both saw the same machine load). The machine's load
average is printed before and after: the machine may be shared.

With ``--instructions`` (needs valgrind) it also counts the instructions each side executes
once, under callgrind: keyguard's front end (a child that only imports and opens the capture
is counted too and subtracted: interpreter start-up and imports excluded, as above) and the
whole ``rtl_433 -r`` run. Instruction counts do not depend on the machine's load, so they show
small changes a loaded machine hides; they are not time (cache misses and vector width
differ), so the timed ratio stays the measure of the target. It takes a minute or two.

Run: .venv/bin/python bench/frontend_throughput.py [--seconds 60] [--rates 250k,1024k]
     [--runs 5] [--keep DIR] [--repo CHECKOUT] [--instructions]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from keyguard.protocols.encode import encode  # noqa: E402
from keyguard.pulse_train import PulseTrain  # noqa: E402
from keyguard.sim.render import render_pulse_train  # noqa: E402

CENTER = 433.92e6
NOISE_POWER = (5.0 / 127.5) ** 2 * 2  # ≈ 5 LSB rms per component: a typical RTL-SDR floor


def _manchester(bits: np.ndarray, chip_us: float) -> PulseTrain:
    chips = np.empty(2 * bits.size, dtype=np.int8)
    chips[0::2], chips[1::2] = bits, 1 - bits
    return PulseTrain(np.full(chips.size, chip_us), chips)


def _events(seconds: float, rng: np.random.Generator) -> list[tuple[float, PulseTrain, dict]]:
    """(start s, pulse train, render options) of every transmission in the capture."""
    ev = []
    keeloq = lambda s: encode("keeloq", {"serial": s, "button": 2,  # noqa: E731
                                          "encrypted": int(rng.integers(0, 2**32))})
    t = 1.0
    while t < seconds - 1:  # a KeeLoq fob at 433.92 MHz, a press every ~8 s (3 frames)
        for fr in keeloq(0x1A2B3C4):
            ev.append((t + fr.t, fr, dict(freq_offset_hz=9e3, amplitude=0.35)))
        t += rng.uniform(6, 10)
    t = 2.5
    while t < seconds - 1:  # a second fob at 433.88 MHz
        for fr in keeloq(0x0C0FFEE):
            ev.append((t + fr.t, fr, dict(freq_offset_hz=-40e3, amplitude=0.12)))
        t += rng.uniform(10, 16)
    t = 4.0
    while t < seconds - 1:  # EV1527 doorbell/gate remote, 4 repeats
        for fr in encode("ev1527", {"id": 0x5A5A5, "button": 3}):
            ev.append((t + fr.t, fr, dict(freq_offset_hz=25e3, amplitude=0.2)))
        t += rng.uniform(12, 20)
    t = 6.0
    while t < seconds - 1:  # an FSK fob (Manchester, 250 µs chips, ±40 kHz)
        bits = rng.integers(0, 2, 180).astype(np.int8)
        pt = _manchester(np.concatenate([np.ones(24, np.int8) * 1, bits]), 250.0)
        pt = PulseTrain(pt.durations_us, pt.levels, modulation="FSK")
        ev.append((t, pt, dict(freq_offset_hz=-15e3, amplitude=0.3, fsk_deviation_hz=40e3)))
        t += rng.uniform(15, 25)
    t = 3.0
    while t < seconds - 1:  # a weather sensor at +90 kHz, PPM, every ~30 s (2 repeats)
        bits = rng.integers(0, 2, 40)
        d, lv = [], []
        for b in bits:
            d += [500.0, 2000.0 if b else 1000.0]
            lv += [1, 0]
        pt = PulseTrain(np.array(d[:-1]), np.array(lv[:-1], np.int8))
        for rep in range(2):
            ev.append((t + rep * 0.12, pt, dict(freq_offset_hz=90e3, amplitude=0.25)))
        t += rng.uniform(25, 35)
    if seconds > 20:  # one RollJam-style jammer burst, 2 s of carrier 70 kHz below the fob
        jam = PulseTrain(np.array([2e6]), np.array([1], np.int8))
        ev.append((seconds / 2, jam, dict(freq_offset_hz=-61e3, amplitude=0.5)))
    return sorted(ev, key=lambda e: e[0])


def generate(path: Path, rate: float, seconds: float, seed: int = 1) -> int:
    """Write the capture as cu8; returns the number of transmissions in it."""
    rng = np.random.default_rng(seed)
    events = _events(seconds, rng)
    rendered = []
    for t0, pt, opts in events:
        x = render_pulse_train(pt, rate, phase=float(rng.uniform(0, 2 * np.pi)), **opts)
        rendered.append((int(t0 * rate), x))
    n = int(seconds * rate)
    chunk = int(rate)  # one second at a time: bounded memory whatever the length
    sigma = np.sqrt(NOISE_POWER / 2)
    with open(path, "wb") as f:
        for a in range(0, n, chunk):
            b = min(n, a + chunk)
            x = (rng.standard_normal(b - a, dtype=np.float32)
                 + 1j * rng.standard_normal(b - a, dtype=np.float32)) * np.float32(sigma)
            for s, sig in rendered:
                lo, hi = max(a, s), min(b, s + sig.size)
                if lo < hi:
                    x[lo - a:hi - a] += sig[lo - s:hi - s]
            iq = np.empty(2 * x.size, dtype=np.float32)
            iq[0::2], iq[1::2] = x.real, x.imag
            np.clip(np.round(iq * 127.5 + 127.5), 0, 255).astype(np.uint8).tofile(f)
    return len(events)


_CHILD = r"""
import json, os, sys, time
t0 = time.perf_counter()
from keyguard.io import open_capture
from keyguard.dsp import FrontEnd
from keyguard.dsp.heap import hold_freed_memory
hold_freed_memory()  # as the keyguard command does at start
t1 = time.perf_counter()
c1 = time.process_time()
cap = open_capture(sys.argv[1])
fe = FrontEnd()
n = 0
for pt in fe.pulse_trains(cap):
    n += 1
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "process_s": t2 - t1, "cpu_s": time.process_time() - c1,
                  "trains": n, "samples": cap.num_samples}))
"""


_IMPORT_ONLY = r"""
import sys
from keyguard.io import open_capture
from keyguard.dsp import FrontEnd
from keyguard.dsp.heap import hold_freed_memory
hold_freed_memory()
cap = open_capture(sys.argv[1])
"""


def count_instructions(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> int:
    """Instructions a command executes (valgrind callgrind, whole process, children not
    followed); raises RuntimeError when valgrind is missing or the command fails."""
    if not shutil.which("valgrind"):
        raise RuntimeError("--instructions needs valgrind (apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix="kg_cg_") as tmp:
        out = subprocess.run(["valgrind", "--tool=callgrind",
                              f"--callgrind-out-file={tmp}/callgrind.out"] + cmd,
                             env=env, capture_output=True, text=True, cwd=cwd)
    if out.returncode != 0:
        raise RuntimeError(f"callgrind run of {cmd[0]} failed:\n{out.stderr[-2000:]}")
    for line in out.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1].strip().replace(",", ""))
    raise RuntimeError(f"no instruction count in callgrind's output for {cmd[0]}")


def instructions(path: Path, repo: Path = REPO) -> tuple[int, int]:
    """(keyguard front-end instructions, imports and start-up excluded; rtl_433 instructions)."""
    env = child_env(repo)
    whole = count_instructions([sys.executable, "-c", _CHILD, str(path)], env, repo)
    start = count_instructions([sys.executable, "-c", _IMPORT_ONLY, str(path)], env, repo)
    rtl = count_instructions(["rtl_433", "-r", str(path), "-F", "json"])
    return whole - start, rtl


def pin() -> list[str]:
    """The command prefix that pins a child to core 0 (none without taskset)."""
    return ["taskset", "-c", "0"] if shutil.which("taskset") else []


def child_env(repo: Path = REPO) -> dict:
    """Environment of a keyguard child: single-threaded numeric libraries, keyguard from repo."""
    return dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                PYTHONPATH=str(repo))


def run_child(script: str, args: list[str], repo: Path = REPO) -> dict:
    """Run a keyguard child script pinned to one core; its JSON line plus its whole wall time."""
    t = time.perf_counter()
    # run in repo: ``python -c`` puts the working directory before PYTHONPATH on sys.path, so
    # from inside another checkout the child would import that one
    out = subprocess.run(pin() + [sys.executable, "-c", script] + args, env=child_env(repo),
                         capture_output=True, text=True, cwd=repo)
    wall = time.perf_counter() - t
    if out.returncode != 0:
        raise RuntimeError(f"keyguard child {args} failed:\n{out.stderr[-2000:]}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["wall_s"] = wall
    return res


def run_keyguard(path: Path, repo: Path = REPO) -> dict:
    """One child run of the keyguard in ``repo``: in-process wall and CPU times, whole wall time."""
    return run_child(_CHILD, [str(path)], repo)


def run_rtl433(path: Path) -> dict:
    """One ``rtl_433 -r`` run: wall time, CPU time (user + system, from wait4) and peak RSS.

    The peak RSS comes from GNU time (``/usr/bin/time -f %M``) when it is installed: the
    resource usage of a child forked from this Python process would count the parent's pages
    it held before exec (NaN without GNU time)."""
    gnu_time = Path("/usr/bin/time")
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        wrap = [str(gnu_time), "-f", "%M", "-o", rss.name] if gnu_time.exists() else []
        t = time.perf_counter()
        proc = subprocess.Popen(wrap + pin() + ["rtl_433", "-r", str(path), "-F", "json"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # wait4's usage covers GNU time's child too (a reaped child's usage is added)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"rtl_433 -r {path} failed")
        text = rss.read().strip() if wrap else ""
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
            "rss_mb": int(text.splitlines()[-1]) / 1024 if text else float("nan")}


def add_capture_options(ap: argparse.ArgumentParser) -> None:
    """The options every benchmark on these captures takes."""
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--rates", default="250k,1024k")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", type=Path, default=None, help="write the captures here and keep them")


@contextlib.contextmanager
def capture_folder(keep: Path | None, prefix: str) -> Iterator[Path]:
    """The folder for the captures (``keep``, or a temporary one removed afterwards); exits
    when rtl_433 is missing. Prints the machine's load average before and after."""
    if not shutil.which("rtl_433"):
        sys.exit("rtl_433 is not installed")
    tmp = keep or Path(tempfile.mkdtemp(prefix=prefix))
    tmp.mkdir(parents=True, exist_ok=True)
    before = os.getloadavg()[0]
    try:
        yield tmp
    finally:
        if keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
        print(f"load average (1 min) before {before:.2f}, after {os.getloadavg()[0]:.2f} "
              f"on {os.cpu_count()} cores")


def med(runs: list[dict], key: str) -> float:
    """Median of one measurement over runs."""
    return statistics.median(r[key] for r in runs)


def capture_for(folder: Path, tag: str, seconds: float) -> Path:
    """The benchmark capture for a rate tag ("250k", "1024k") in folder, generated if missing."""
    path = folder / f"bench_433.92M_{tag}.cu8"
    if not path.exists():
        t = time.perf_counter()
        n_ev = generate(path, float(tag.rstrip("kK")) * 1e3, seconds)
        print(f"generated {path.name}: {seconds:.0f} s, {n_ev} transmissions "
              f"({time.perf_counter() - t:.1f} s)", file=sys.stderr)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_capture_options(ap)
    ap.add_argument("--repo", type=Path, default=REPO,
                    help="run the keyguard of another checkout (before/after comparisons)")
    ap.add_argument("--instructions", action="store_true",
                    help="also count instructions under callgrind (load-independent; slow)")
    args = ap.parse_args()
    rows = []
    counts = {}
    with capture_folder(args.keep, "kg_bench_") as tmp:
        for tag in args.rates.split(","):
            path = capture_for(tmp, tag, args.seconds)
            kg: list[dict] = []
            rt: list[dict] = []
            for _ in range(args.runs):  # alternated: both sides see the same machine load
                kg.append(run_keyguard(path, args.repo))
                rt.append(run_rtl433(path))
            rows.append((tag, kg, rt))
            if args.instructions:
                counts[tag] = instructions(path, args.repo)

    print(f"{'rate':>6} {'samples':>11} {'keyguard Msps':>14} {'(wall, whole process)':>22} "
          f"{'rtl_433 Msps':>13} {'(wall)':>7} {'ratio':>6} {'(wall)':>7} {'best':>6} {'trains':>7}")
    for tag, kg, rt in rows:
        n = kg[0]["samples"]
        ratio = statistics.median(r["cpu_s"] / k["cpu_s"] for k, r in zip(kg, rt))
        ratio_wall = statistics.median(r["wall_s"] / k["process_s"] for k, r in zip(kg, rt))
        # fastest run of each: what a quiet machine gives (interference only ever slows a run)
        best = min(r["cpu_s"] for r in rt) / min(k["cpu_s"] for k in kg)
        print(f"{tag:>6} {n:>11,} {n / med(kg, 'cpu_s') / 1e6:>14.1f} "
              f"{n / med(kg, 'process_s') / 1e6:>10.1f}, {n / med(kg, 'wall_s') / 1e6:>9.1f}  "
              f"{n / med(rt, 'cpu_s') / 1e6:>13.1f} {n / med(rt, 'wall_s') / 1e6:>7.1f} "
              f"{ratio:>6.2f} {ratio_wall:>7.2f} {best:>6.2f} {kg[-1]['trains']:>7}")
    print(f"(medians of {args.runs} alternated runs pinned to one core; Msps from CPU time "
          "(user + system), which a shared machine disturbs far less than wall time; keyguard's "
          "excludes interpreter start-up and imports (its whole-process wall rate is shown); "
          "ratio = rtl_433 time / keyguard time per round, median; best = fastest rtl_433 run / "
          "fastest keyguard run; > 1: keyguard is faster)")
    for tag, (kg_ins, rt_ins) in counts.items():
        print(f"{tag:>6} instructions: keyguard front end {kg_ins / 1e9:.3f} G, rtl_433 "
              f"{rt_ins / 1e9:.3f} G, ratio {rt_ins / kg_ins:.2f} (callgrind, one run each)")


if __name__ == "__main__":
    main()
