"""Scan throughput: keyguard decode-only vs keyguard scan (every detector on) vs ``rtl_433 -r``.

Uses the long, mostly-noise, multi-device capture of ``bench/frontend_throughput.py`` (KeeLoq
presses, an EV1527 remote, an FSK fob, a weather sensor and a two-second jammer, written as cu8
with rtl_433's file naming) at each sample rate, and alternates runs of

* decode: ``keyguard.protocols.engine.decode_capture`` (IQ front end + protocol decoding,
  what ``keyguard decode`` does);
* scan: ``keyguard.pipeline.Scanner().scan_paths([FILE])`` with the default options (shipped
  profiles, the shipped burst model, every detector, an in-memory state), every record consumed;
* rtl_433: ``rtl_433 -r FILE -F json`` with its default decoders, output to /dev/null.

Each run is a child process pinned to one core with single-threaded numeric libraries. Times
are CPU time (user + system: a shared machine disturbs it far less than wall time), and wall
times are shown too. For keyguard the work is timed inside the child, after the imports and the
scanner's set-up (model and profile loading, reported separately); rtl_433's time is its whole
run. Peak RSS: the child's VmHWM for keyguard, GNU time's for rtl_433. The table gives medians
over the runs, samples per second, the real-time factor (capture seconds per second of
processing), scan time over decode time (target ≤ 1.5) and the scan's real-time factor (target
≥ 20 at 1.024 Msps); ratios are medians of the per-round ratios.

Run: .venv/bin/python bench/scan_throughput.py [--seconds 60] [--rates 250k,1024k] [--runs 5]
     [--keep DIR] [--profile]
``--profile`` adds one in-process cProfile of the scan per rate (top functions by own time,
grouped by keyguard package) to show where the scan spends what decode does not.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

# the captures and the child/rtl_433 runners are shared with the front-end benchmark
from frontend_throughput import (add_capture_options, capture_folder,  # noqa: E402
                                 capture_for, med, run_child, run_rtl433)

_CHILD = r"""
import json, sys, time
mode, path = sys.argv[1], sys.argv[2]

def peak_rss_mb():
    # VmHWM: this program's own peak (ru_maxrss would include the forked parent before exec)
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")

t0 = time.perf_counter()
from keyguard.io import open_capture
from keyguard.dsp.heap import hold_freed_memory
hold_freed_memory()  # as the keyguard command does at start
if mode == "decode":
    from keyguard.protocols.engine import decode_capture
else:
    from keyguard.pipeline import Scanner
t1 = time.perf_counter()
n_packets = n_alerts = 0
if mode == "decode":
    t2 = time.perf_counter()
    c2 = time.process_time()
    cap = open_capture(path)
    n_packets = sum(1 for _ in decode_capture(cap))
else:
    scanner = Scanner()
    t2 = time.perf_counter()
    c2 = time.process_time()
    for rec in scanner.scan_paths([path]):
        kind = type(rec).__name__
        n_packets += kind == "Packet"
        n_alerts += kind == "Alert"
t3 = time.perf_counter()
cap = open_capture(path)
print(json.dumps({"import_s": t1 - t0, "setup_s": t2 - t1, "process_s": t3 - t2,
                  "cpu_s": time.process_time() - c2, "packets": n_packets, "alerts": n_alerts,
                  "samples": cap.num_samples, "rate": cap.sample_rate,
                  "rss_mb": peak_rss_mb()}))
"""


def run_keyguard(mode: str, path: Path) -> dict:
    """One child run of ``mode`` ("decode" or "scan"); its measurements plus its wall time."""
    return run_child(_CHILD, [mode, str(path)])


def profile_scan(path: Path, top: int = 25) -> None:
    """cProfile one scan in this process; print own time per keyguard package and the top
    functions, so a slow scan shows which stage (features, detectors, model) costs what."""
    import cProfile
    import pstats
    from collections import defaultdict

    from keyguard.pipeline import Scanner

    scanner = Scanner()
    pr = cProfile.Profile()
    pr.enable()
    for _ in scanner.scan_paths([path]):
        pass
    pr.disable()
    st = pstats.Stats(pr)
    total = sum(v[2] for v in st.stats.values())  # own time of every function
    # own time per package (library time stays with the library; the stage entry points'
    # cumulative times below charge it to the keyguard stage that called it)
    by_pkg: dict[str, float] = defaultdict(float)
    for (fname, _, _), (_, _, tt, _, _) in st.stats.items():
        rel = fname.split("/keyguard/", 1)[1] if "/keyguard/" in fname else None
        key = "keyguard/" + rel.split("/")[0] if rel and "/" in rel else (
            "keyguard/" + rel if rel else ("sklearn" if "sklearn" in fname else
                                           "threadpoolctl" if "threadpoolctl" in fname else
                                           "numpy/scipy/other"))
        by_pkg[key] += tt
    print(f"\nprofile of one scan of {path.name} (own time, {total:.2f} s in all):")
    for k, v in sorted(by_pkg.items(), key=lambda kv: -kv[1])[:12]:
        print(f"  {k:<28} {v:6.2f} s  {100 * v / total:5.1f} %")
    entry = ["features_from_burst", "predict_proba", "observe_burst", "observe_press", "demodulate",
             "decode_frames", "_run_detection", "advance_to", "capture_record"]
    print("  cumulative time of stage entry points:")
    for (fname, line, func), (_, _, _, ct, _) in sorted(st.stats.items(), key=lambda kv: -kv[1][3]):
        if func in entry and "/keyguard/" in fname:
            print(f"    {fname.split('/keyguard/', 1)[1]}:{line} {func:<22} {ct:6.2f} s")
    st.sort_stats("tottime").print_stats(top)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_capture_options(ap)
    ap.add_argument("--profile", action="store_true", help="also profile one scan per rate")
    args = ap.parse_args()
    rows = []
    with capture_folder(args.keep, "kg_scan_bench_") as tmp:
        for tag in args.rates.split(","):
            path = capture_for(tmp, tag, args.seconds)
            runs: dict[str, list[dict]] = {"decode": [], "scan": [], "rtl_433": []}
            for _ in range(args.runs):  # alternated, so each side sees the same machine load
                runs["decode"].append(run_keyguard("decode", path))
                runs["scan"].append(run_keyguard("scan", path))
                runs["rtl_433"].append(run_rtl433(path))
            rows.append((tag, runs))
            if args.profile:
                profile_scan(path)

    print(f"\n{'rate':>6} {'run':<8} {'Msps':>7} {'× real time':>11} {'wall Msps':>10} "
          f"{'whole process':>14} {'set-up s':>9} {'peak RSS MB':>12} {'packets':>8} {'alerts':>7}")
    for tag, runs in rows:
        n = runs["decode"][0]["samples"]
        dur = n / runs["decode"][0]["rate"]
        for mode in ("decode", "scan"):
            rs = runs[mode]
            t = med(rs, "cpu_s")
            print(f"{tag:>6} {mode:<8} {n / t / 1e6:>7.1f} {dur / t:>11.0f} "
                  f"{n / med(rs, 'process_s') / 1e6:>10.1f} {n / med(rs, 'wall_s') / 1e6:>9.1f} Msps "
                  f"{med(rs, 'import_s') + med(rs, 'setup_s'):>9.2f} "
                  f"{med(rs, 'rss_mb'):>12.0f} {rs[-1]['packets']:>8} {rs[-1]['alerts']:>7}")
        rs = runs["rtl_433"]
        t = med(rs, "cpu_s")
        print(f"{tag:>6} {'rtl_433':<8} {n / t / 1e6:>7.1f} {dur / t:>11.0f} "
              f"{n / med(rs, 'wall_s') / 1e6:>10.1f} {n / med(rs, 'wall_s') / 1e6:>9.1f} Msps "
              f"{'':>9} {med(rs, 'rss_mb'):>12.0f}")
    print(f"\n{'rate':>6} {'scan / decode time':>19} {'(target ≤ 1.5)':>15} "
          f"{'scan × real time':>17} {'rtl_433 / scan time':>20} {'rtl_433 / decode time':>22}")
    for tag, runs in rows:
        n = runs["decode"][0]["samples"]
        dur = n / runs["decode"][0]["rate"]
        # ratios per alternated round, then the median: both sides of a round saw the same load
        r_sd = statistics.median(s["cpu_s"] / d["cpu_s"] for s, d in zip(runs["scan"], runs["decode"]))
        r_rs = statistics.median(r["cpu_s"] / s["cpu_s"] for r, s in zip(runs["rtl_433"], runs["scan"]))
        r_rd = statistics.median(r["cpu_s"] / d["cpu_s"]
                                 for r, d in zip(runs["rtl_433"], runs["decode"]))
        rt_factor = dur / med(runs["scan"], "cpu_s")
        print(f"{tag:>6} {r_sd:>19.2f} {'met' if r_sd <= 1.5 else 'MISSED':>15} "
              f"{rt_factor:>13.0f}{' ok' if rt_factor >= 20 else ' LOW':>4} {r_rs:>20.2f} {r_rd:>22.2f}")
    print(f"(medians of {args.runs} alternated runs pinned to one core. Msps, × real time and the "
          "ratios use CPU time (user + system), which a shared machine disturbs far less than "
          "wall time; keyguard's excludes interpreter start-up, imports and set-up (shown "
          "separately), rtl_433's is its whole run. 'wall Msps' is the in-process wall rate, "
          "'whole process' the child's whole wall time. Ratios > 1 in the last two columns mean "
          "keyguard is faster.)")


if __name__ == "__main__":
    main()
