#!/usr/bin/env python3
"""Render the bundled sample captures in ``captures/`` with keyguard's own simulator.

Each sample is a named scenario from ``keyguard/sim/scenarios`` rendered with its own seed into
``captures/<name>/``: the capture (cu8, rtl_433-style name), its ``.sigmf-meta`` (ground truth as
annotations), ``truth.json``, and ``expected.jsonl``, the records `keyguard scan --format jsonl`
gives for it (without the summary's wall time), which tests compare against.

Deterministic: the same scenario and seed give the same bytes.
Usage: ``python scripts/make_sample_captures.py [--out DIR] [--no-expected]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path

from keyguard.pipeline import scan_captures
from keyguard.sim.output import write_rendering
from keyguard.sim.scenario import load_scenario

#: (scenario name, output format) of every bundled sample; kept small (a few MB in all).
SAMPLES = (("rolljam_sample", "cu8"),)


def render(out: Path, expected: bool = True) -> list[Path]:
    """Write every sample under ``out``; returns the capture paths."""
    written = []
    for name, fmt in SAMPLES:
        scenario = load_scenario(name)
        rendering = scenario.plan(scenario.seed)
        result = write_rendering(rendering, out / name, fmt, overwrite=True)
        capture = Path(result.data)
        written.append(capture)
        if expected:
            write_expected(capture, out / name / "expected.jsonl")
    return written


def write_expected(capture: Path, path: Path) -> None:
    """The scan records of ``capture`` run from its own folder (so paths in the records are
    the bare file name, as when a user scans it from there), without the summary's wall time."""
    lines = []
    with contextlib.chdir(capture.parent):
        for rec in scan_captures([capture.name]):
            d = rec.to_dict()
            d.pop("elapsed_s", None)
            lines.append(json.dumps(d, sort_keys=True))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "captures")
    ap.add_argument("--no-expected", action="store_true", help="skip the expected scan results")
    args = ap.parse_args()
    for p in render(args.out, expected=not args.no_expected):
        print(p)


if __name__ == "__main__":
    main()
