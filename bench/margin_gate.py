"""Choosing the margin gate's thresholds (``keyguard.protocols.engine.Decoder``) on simulated
KeeLoq presses — other seeds than bench/sensitivity.py's, so that bench stays a held-out check.

Presses are simulated as in bench/sensitivity.py (one press of 3 HCS200 frames per file, random
carrier offset, phase and hop code, 250 ksps cu8) at SNRs around keyguard's limit, and decoded
with the gate off. Every KeeLoq frame is recorded with whether its serial and hop are right,
the probability that one of its data runs was decided wrong
(``engine.frame_error_probability`` of ``run_margin`` and ``margin_noise``), its worst run
margin (also in noise standard deviations) and its header gap's departure from nominal
(chips). Printed: per candidate threshold (on the worst margin in σ, and on the probability),
the frames kept right and wrong; the lowest probability among wrong frames is what
``engine.MAX_ERROR_PROBABILITY`` must stay under (the shipped value adds a safety factor).

Run: nice -n 10 .venv/bin/python bench/margin_gate.py [--files 30] [--seed 7]
     [--snrs -9,-8,-7,-6,-5,-4,-3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from sensitivity import SERIAL, write_press  # noqa: E402

from keyguard.dsp import iter_pulse_trains  # noqa: E402
from keyguard.io import open_capture  # noqa: E402
from keyguard.protocols.engine import Decoder, frame_error_probability  # noqa: E402


def frame_records(path: Path, hop: int, decoder: Decoder) -> list[tuple]:
    """(right serial and hop, worst margin in σ, header departure in chips, estimated
    probability of a wrong decision, worst margin) per KeeLoq frame."""
    out = []
    for pt in iter_pulse_trains(open_capture(path)):
        margins = pt.meta.get("run_margin")
        noise = pt.meta.get("margin_noise")
        if margins is None or not noise:
            continue
        edges = pt.edges_us()
        for f in decoder.decode_frames(pt):
            if f.profile is None or f.profile.family != "keeloq":
                continue
            i0 = max(0, int(np.searchsorted(edges, f.t0_us, side="right")) - 1)
            i1 = int(np.searchsorted(edges, f.t1_us, side="left"))
            right = f.fields.get("serial") == SERIAL and f.fields.get("encrypted") == hop
            hc = f.header_chips if f.header_chips is not None else 0.0
            j0 = max(i0, int(np.searchsorted(edges, f.data_us, side="right")) - 1)
            m = np.asarray(margins[j0:i1], dtype=np.float64)
            out.append((right, float(m.min()) / float(noise), hc,
                        frame_error_probability(m, float(noise)), float(m.min())))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=30, help="presses per SNR")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--snrs", default="-9,-8,-7,-6,-5,-4,-3")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    # the gate off: every frame the slicer accepts is looked at
    decoder = Decoder(min_run_margin=0.0, max_error_probability=1.0, max_header_chips=0.0)
    recs = []
    with tempfile.TemporaryDirectory(prefix="kg_gate_") as tmp:
        for snr in [float(s) for s in args.snrs.split(",")]:
            for k in range(args.files):
                hop = int(rng.integers(0, 2 ** 32))
                path = Path(tmp) / f"g{k}_433.92M_250k.cu8"
                write_press(path, snr, hop, rng)
                recs += [(snr,) + r for r in frame_records(path, hop, decoder)]
                path.unlink()
    snr = np.array([r[0] for r in recs])
    right = np.array([r[1] for r in recs], bool)
    sig = np.array([r[2] for r in recs])
    hdr = np.abs(np.array([r[3] for r in recs]))
    perr = np.array([r[4] for r in recs])
    worst = np.array([r[5] for r in recs])
    n_sent = 3 * args.files
    print(f"{len(recs)} KeeLoq frames decoded with the gate off, {int((~right).sum())} wrong")
    for s, r, g, h, pe, w in recs:
        if not r:
            print(f"  wrong at {s:+.0f} dB: P(wrong decision) {pe:.2e}, worst margin {w:.2f}")
    print(f"right frames: header departure max {hdr[right].max() if right.any() else 0:.2f} "
          "chips")
    head_ok = hdr <= 1.5
    print(f"{'min σ':>6} {'wrong kept':>10}  right kept per SNR (of {n_sent})")
    for k in np.arange(0.0, 3.01, 0.25):
        keep = head_ok & (sig >= k)
        per = "  ".join(f"{s:+.0f}:{int((keep & right & (snr == s)).sum()):3d}"
                        for s in np.unique(snr))
        print(f"{k:>6.2f} {int((keep & ~right).sum()):>10d}  {per}")
    print(f"{'max P':>8} {'wrong kept':>10}  right kept per SNR (of {n_sent})")
    for eps in (1.0, 0.3, 0.1, 0.05, 0.03, 0.02, 0.01, 3e-3, 1e-3, 3e-4, 1e-4):
        keep = head_ok & (perr <= eps)
        per = "  ".join(f"{s:+.0f}:{int((keep & right & (snr == s)).sum()):3d}"
                        for s in np.unique(snr))
        print(f"{eps:>8.0e} {int((keep & ~right).sum()):>10d}  {per}")
    wp = perr[~right & head_ok]
    print(f"lowest P(wrong decision) among wrong frames: {wp.min() if wp.size else 1:.2e}")
    wrong_sig = sig[~right & head_ok]
    lowest = float(wrong_sig.max()) if wrong_sig.size else 0.0
    print("lowest margin threshold keeping no wrong frame (header gate 1.5 chips on): "
          f"above {lowest:.2f} σ")


if __name__ == "__main__":
    main()
