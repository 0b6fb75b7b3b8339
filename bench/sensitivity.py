"""KeeLoq decoding against SNR: keyguard's IQ front end + decoder vs rtl_433's HCS200 decoder.

For every SNR (the simulator's: signal power while the carrier is on over the noise power of
the whole sampled band, here 250 ksps) the same cu8 files go to both:

* keyguard: ``open_capture`` → ``keyguard.dsp.iter_pulse_trains`` → ``Decoder`` (shipped
  profiles); a frame counts when a ``keeloq`` packet carries the fob's serial and this press's
  hop code; any other KeeLoq serial or code, or a packet of another protocol, is a *wrong*
  decode;
* rtl_433: ``rtl_433 -r FILE -R 131 -F json`` (Microchip HCS200); a frame counts when the
  JSON's id and encrypted fields equal what rtl_433 reports for the clean signal.

Each file holds one press (3 frames, 66-bit HCS200 layout) with a random carrier offset
(±15 kHz), phase and hop code, in noise of ≈ 8 LSB rms per component, quantised to 8 bits.
Printed: per SNR the fraction of frames decoded and the count of wrong decodes, then the
lowest SNR with ≥ 90 % for each.

Run: .venv/bin/python bench/sensitivity.py [--files 20] [--snrs -15,-12,...] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from keyguard.dsp import iter_pulse_trains  # noqa: E402
from keyguard.io import open_capture  # noqa: E402
from keyguard.protocols.encode import encode  # noqa: E402
from keyguard.protocols.engine import Decoder  # noqa: E402
from keyguard.sim.render import complex_noise, render_pulse_train  # noqa: E402

FS = 250e3
SERIAL = 0x1234567
SIGMA = 8 / 127.5  # per component
#: wrong packets seen (file, protocol, identity, code), printed at the end
WRONG_LOG: list | None = []
SNRS = [-15, -12, -10, -8, -7, -6, -5, -4, -3, -2, -1, 0, 2, 4, 6, 8, 10, 15, 20]


def write_press(path: Path, snr_db: float, hop: int, rng: np.random.Generator) -> None:
    frames = encode("keeloq", {"serial": SERIAL, "button": 2, "encrypted": hop, "vlow": 0,
                               "repeat": 0})
    noise_power = 2 * SIGMA ** 2
    amp = float(np.sqrt(noise_power * 10 ** (snr_db / 10)))
    n = int(0.6 * FS)
    x = complex_noise(n, noise_power, rng)
    offset = float(rng.uniform(-15e3, 15e3))
    for fr in frames:
        sig = render_pulse_train(fr, FS, freq_offset_hz=offset, amplitude=amp,
                                 phase=float(rng.uniform(0, 2 * np.pi)))
        s0 = int((0.1 + fr.t) * FS)
        x[s0:s0 + sig.size] += sig[: n - s0]
    iq = np.empty(2 * n, dtype=np.float32)
    iq[0::2], iq[1::2] = x.real, x.imag
    np.clip(np.round(iq * 127.5 + 127.5), 0, 255).astype(np.uint8).tofile(path)


def keyguard_frames(path: Path, hop: int, decoder: Decoder) -> tuple[int, int]:
    """(correct frames, wrong decodes: a KeeLoq packet with another serial or hop, or a packet
    of another protocol) in one file."""
    cap = open_capture(path)
    decoder.reset()
    good = bad = 0
    for pt in iter_pulse_trains(cap):
        for pk in decoder.decode(pt, cap.path):
            if pk.protocol == "unknown":
                continue
            f = pk.fields or {}
            if pk.protocol.startswith("keeloq") and f.get("serial") == SERIAL \
                    and f.get("encrypted") == hop:
                good += 1
            else:
                # another serial or hop, or another protocol claiming a KeeLoq frame
                bad += 1
                if WRONG_LOG is not None:
                    WRONG_LOG.append((str(path), pk.protocol, pk.identity, pk.code))
    return good, bad


def rtl433_frames(path: Path, ref_id: str | None, hop: int) -> tuple[int, int, str | None]:
    """(correct frames, wrong decodes, the id seen) from rtl_433's HCS200 decoder."""
    out = subprocess.run(["rtl_433", "-r", str(path), "-R", "131", "-F", "json"],
                         capture_output=True, text=True, timeout=60).stdout
    good = bad = 0
    seen = None
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        rec = json.loads(line)
        seen = rec.get("id")
        ok_id = ref_id is None or rec.get("id") == ref_id
        if ok_id and str(rec.get("encrypted", "")).upper() == f"{hop:08X}":
            good += 1
        else:
            bad += 1
    return good, bad, seen


def first_at(rates: dict[float, float], level: float = 0.9) -> float | None:
    """Lowest SNR from which the rate stays at or above ``level``."""
    ok = None
    for snr in sorted(rates, reverse=True):
        if rates[snr] >= level:
            ok = snr
        else:
            break
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=20, help="presses (3 frames each) per SNR")
    ap.add_argument("--snrs", default=",".join(str(s) for s in SNRS))
    ap.add_argument("--keep", type=Path, default=None)
    args = ap.parse_args()
    have_rtl = shutil.which("rtl_433") is not None
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="kg_sens_"))
    tmp.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2024)
    decoder = Decoder()
    try:
        # rtl_433's own reading of the serial field (its id), from a clean press
        ref_id = None
        if have_rtl:
            clean = tmp / "clean_433.92M_250k.cu8"
            write_press(clean, 30.0, 0x0BADCAFE, rng)
            ref_id = rtl433_frames(clean, None, 0x0BADCAFE)[2]
        rows = []
        for snr in [float(s) for s in args.snrs.split(",")]:
            kg_good = kg_bad = rt_good = rt_bad = 0
            for k in range(args.files):
                hop = int(rng.integers(0, 2 ** 32))
                path = tmp / f"s{snr:+.0f}_{k:03d}_433.92M_250k.cu8"
                write_press(path, snr, hop, rng)
                g, b = keyguard_frames(path, hop, decoder)
                kg_good, kg_bad = kg_good + g, kg_bad + b
                if have_rtl:
                    g, b, _ = rtl433_frames(path, ref_id, hop)
                    rt_good, rt_bad = rt_good + g, rt_bad + b
                if args.keep is None:
                    path.unlink()
            n = 3 * args.files
            rows.append((snr, kg_good / n, kg_bad, rt_good / n if have_rtl else None, rt_bad))
            print(f"SNR {snr:+5.1f} dB: keyguard {kg_good / n:6.1%} ({kg_bad} wrong)"
                  + (f"   rtl_433 {rt_good / n:6.1%} ({rt_bad} wrong)" if have_rtl else ""),
                  file=sys.stderr)
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'SNR dB':>7} {'keyguard':>9} {'wrong':>6} {'rtl_433':>8} {'wrong':>6}")
    for snr, kg, kgb, rt, rtb in rows:
        rts = f"{rt:8.1%}" if rt is not None else f"{'-':>8}"
        print(f"{snr:>7.1f} {kg:>9.1%} {kgb:>6d} {rts} {rtb:>6d}")
    kg90 = first_at({r[0]: r[1] for r in rows})
    line = f"90 % of frames from: keyguard {kg90} dB"
    if have_rtl:
        rt90 = first_at({r[0]: r[3] for r in rows})
        line += f", rtl_433 {rt90} dB"
        if kg90 is not None and rt90 is not None:
            line += f" (keyguard {rt90 - kg90:.1f} dB better)"
    print(line)
    for w in WRONG_LOG or []:
        print("  wrong: " + " ".join(str(x) for x in w))
    print(f"wrong decodes at any SNR: keyguard {sum(r[2] for r in rows)}, "
          f"rtl_433 {sum(r[4] for r in rows)}")


if __name__ == "__main__":
    main()
