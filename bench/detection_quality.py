"""Detection quality on a fixed held-out simulator set and on benign real captures (issue 8).

Renders the shipped scenarios varied with seeds never used in training (default: all 11
scenarios × seeds 900–905, :func:`keyguard.models.training.vary_scenario`, the variation the
shipped model was trained with on seeds 100–111), writes each with ``keyguard.sim.output`` into
a cache folder (reused on the next run unless ``--fresh``), and runs ``keyguard evaluate`` on
them; then evaluates every capture under ``../shared/captures`` as benign-only (none holds an
attack when scanned alone, so every alert there is a false alarm). Prints the tables, then the
same as Markdown rows for docs/evaluation.md, and the run times.

    nice -n 10 .venv/bin/python bench/detection_quality.py                  # the whole set
    .venv/bin/python bench/detection_quality.py --scenarios rolljam,clone --seeds 900 --no-real
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from keyguard.evaluate import EvaluateOptions, evaluate_captures, format_markdown, format_table  # noqa: E402
from keyguard.evaluate.table import benign_line, summary_line  # noqa: E402

DEFAULT_SEEDS = "900-905"
DEFAULT_OUT = Path("/tmp/keyguard-detection-quality")
SHARED_CAPTURES = REPO.parent / "shared" / "captures"


def parse_seeds(text: str) -> list[int]:
    """``900-905`` or ``900,903`` (or both: ``900-902,910``)."""
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            a, b = part.split("-", 1)
            out += range(int(a), int(b) + 1)
        elif part:
            out.append(int(part))
    return out


def render(names: list[str], seeds: list[int], out: Path, fresh: bool) -> tuple[list[Path], int]:
    """Each (scenario, seed) variant written into ``out/NAME-sSEED`` (kept when already there
    and rendered from the same seed); returns the folders and how many were rendered now."""
    from keyguard.models.training import vary_scenario
    from keyguard.sim.output import write_rendering
    from keyguard.sim.scenario import load_scenario

    dirs, rendered = [], 0
    for seed in seeds:
        for name in names:
            d = out / f"{name}-s{seed}"
            tj = d / "truth.json"
            if not fresh and tj.is_file():
                doc = json.loads(tj.read_text())
                if doc.get("seed") == seed and (d / doc.get("capture", "-")).is_file():
                    dirs.append(d)
                    continue
            sc = vary_scenario(load_scenario(name), seed)
            write_rendering(sc.plan(seed), d, "cu8", overwrite=True)
            rendered += 1
            print(f"rendered {d.name}", file=sys.stderr, flush=True)
            dirs.append(d)
    return dirs, rendered


def per_scenario(ev) -> str:
    """Markdown rows: per scenario, runs, attack events detected, false alarms by kind."""
    from collections import Counter, defaultdict

    rows: dict = defaultdict(lambda: [0, 0, 0, Counter()])
    for c in ev.captures:
        r = rows[c.truth.scenario or c.capture]
        r[0] += 1
        r[1] += sum(k.events for k in c.score.kinds.values())
        r[2] += sum(k.detected for k in c.score.kinds.values())
        r[3].update(f["kind"] for f in c.score.false_alarms)
    out = ["| scenario | runs | attack events | detected | false alarms |", "|---|---|---|---|---|"]
    for name in sorted(rows):
        n, events, det, fa = rows[name]
        fas = ", ".join(f"{k} {v}" for k, v in sorted(fa.items())) or "0"
        out.append(f"| {name} | {n} | {events} | {det} | {fas} |")
    return "\n".join(out)


def _commit() -> str:
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--",
                                "keyguard", "cli"], capture_output=True, text=True).stdout.strip()
        return head + (" + uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    from keyguard.pipeline import ScanOptions
    from keyguard.sim.scenario import list_scenarios

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default=DEFAULT_SEEDS, help="held-out seeds (default %(default)s)")
    ap.add_argument("--scenarios", default="all", help="comma-separated names, or all")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="render cache folder")
    ap.add_argument("--fresh", action="store_true", help="render again even when cached")
    ap.add_argument("--model", default=None, help="burst classifier (.skops); default shipped")
    ap.add_argument("--no-model", action="store_true", help="scan without the classifier")
    ap.add_argument("--slack-s", type=float, default=1.0)
    ap.add_argument("--real", type=Path, default=SHARED_CAPTURES,
                    help="benign real captures (default %(default)s)")
    ap.add_argument("--no-real", action="store_true", help="skip the real captures")
    ap.add_argument("--no-sim", action="store_true", help="skip the simulator set")
    ap.add_argument("--json", type=Path, default=None, help="also write the totals as JSON here")
    args = ap.parse_args(argv)

    names = sorted(list_scenarios()) if args.scenarios == "all" else \
        [s.strip() for s in args.scenarios.split(",") if s.strip()]
    seeds = parse_seeds(args.seeds)
    scan = ScanOptions(model_path=args.model, use_model=not args.no_model)
    print(f"keyguard {_commit()}; Python {platform.python_version()}; "
          f"{platform.machine()} {platform.system()}; model "
          f"{'none' if args.no_model else args.model or 'shipped'}")
    totals: dict = {}
    times: dict = {}

    def progress(r):
        print(summary_line(r), file=sys.stderr, flush=True)

    if not args.no_sim:
        t0 = time.perf_counter()
        dirs, n_new = render(names, seeds, args.out, args.fresh)
        times["render_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        ev = evaluate_captures(dirs, EvaluateOptions(scan=scan, slack_s=args.slack_s,
                                                     keep_going=True), progress=progress)
        times["evaluate_sim_s"] = time.perf_counter() - t0
        total = ev.to_dict()
        totals["simulator"] = total
        print(f"\n## Held-out simulator set: {len(names)} scenario(s) × seeds {args.seeds} "
              f"({len(dirs)} runs, {n_new} rendered now, cache {args.out})\n")
        print(format_table(total))
        print("\n### Markdown\n")
        print(format_markdown(total))
        print("\n### Per scenario\n")
        print(per_scenario(ev))
    if not args.no_real:
        if not args.real.is_dir():
            print(f"\n(real captures not found at {args.real}; skipped)")
        else:
            t0 = time.perf_counter()
            ev = evaluate_captures([args.real], EvaluateOptions(scan=scan, benign=True,
                                                                keep_going=True),
                                   progress=progress)
            times["evaluate_real_s"] = time.perf_counter() - t0
            total = ev.to_dict()
            totals["real_benign"] = total
            print(f"\n## Benign real captures: {total['captures']} files, "
                  f"{total['duration_s']:.1f} s, each scanned alone\n")
            print(f"alerts: {total['alerts']} (every one a false alarm); {benign_line(total)}")
            for fa in total["false_alarm_list"]:
                print(f"  {fa['kind']:10s} {fa['t']:.3f} s  {fa['capture']}  {fa['summary']}")
            for err in total["errors"]:
                print(f"  NOT SCORED: {err['capture']}: {err['error']}")
    print("\n## Run time\n")
    for k, v in times.items():
        print(f"{k}: {v:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(totals, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
