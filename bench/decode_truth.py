"""Decode rate against the simulator's ground truth, per scenario and per transmitter kind.

Every held-out variant (``keyguard.models.training.vary_scenario``, seeds 900–905 by default) is
rendered and run through the same front end as a capture (``keyguard.pipeline.observe_capture``).
Each ground-truth transmission — a fob press, a replayed code (one per code of a RollBack), a
relayed press, a clone's press, a code scanner's run — is then looked up among the decoded
packets: right time (the transmission's span ± 50 ms), right protocol family, right identity and,
when the truth knows it, the right code. A transmission is one of

- ``ok``: decoded with the right identity and code;
- ``partial``: the right identity, but only some of its codes (a RollBack's 2–5);
- ``wrong``: decoded as the protocol, but another identity or code;
- ``unknown``: bursts there, packets framed but matched by no protocol;
- ``nopkt``: bursts there, no packet at all;
- ``noburst``: the burst detector found nothing there;
- ``error``: the front end raised on the variant.

Run: ``nice -n 10 .venv/bin/python bench/decode_truth.py [--seeds 900-905] [--scenarios a,b]
[-v]``. ``-v`` lists every transmission with SNR, J/S and RSSI (dBFS) of its strongest burst.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from dataclasses import dataclass

#: a packet counts for a transmission when it lies in the span widened by this (s)
SLACK_S = 0.05
#: a burst is the transmission's when its carrier is this close (Hz) to the truth's
FREQ_TOL_HZ = 30e3
OUTCOMES = ("ok", "partial", "wrong", "unknown", "nopkt", "noburst", "error")


@dataclass
class Transmission:
    """One ground-truth transmission to look for."""

    scenario: str
    seed: int
    kind: str  # transmitter kind: fob, fob-jammed, replay:cc1101, relay:af, clone:cc1101 …
    event: str  # truth event kind
    t: float
    t_end: float
    identity: str | None
    protocol: str | None
    codes: list  # codes that must all decode (empty: identity is enough)
    offset_hz: float | None
    snr_db: float | None = None  # truth SNR (presses) else the strongest burst's
    jsr_db: float | None = None
    rssi_db: float | None = None
    outcome: str = "noburst"
    got: str = ""


def _family(protocol: str | None) -> str:
    return (protocol or "").split("_")[0].split("-")[0].lower()


def transmissions(name: str, seed: int, truth: list) -> list[Transmission]:
    """The transmissions a decoder should find in one variant's truth events."""
    out = []
    relays = [e for e in truth if e.kind == "relay"]
    jams = [e for e in truth if e.kind == "jamming"]
    press_of = [e for e in truth if e.kind == "press"]
    for e in truth:
        p = e.params
        off = p.get("baseband_offset_hz")
        if e.kind == "press":
            # a press a relay forwards is counted as the relay's transmission
            if any(r.t <= e.t_end and e.t <= r.t_end and r.identity == e.identity for r in relays):
                continue
            kind = "fob-jammed" if p.get("jammed") else "fob"
            codes = [p["code"]] if p.get("code") else []
            out.append(Transmission(name, seed, kind, "press", e.t, e.t_end, e.identity,
                                    p.get("protocol"), codes, off, snr_db=p.get("snr_db")))
        elif e.kind in ("replay", "rolljam"):
            codes = [p["code"]] if p.get("code") else []
            out.append(Transmission(name, seed, f"replay:{p.get('replayer')}", e.kind, e.t,
                                    e.t_end, e.identity, None, codes, off))
        elif e.kind == "rollback":
            out.append(Transmission(name, seed, f"replay:{p.get('replayer')}", e.kind, e.t,
                                    e.t_end, e.identity, None,
                                    [c for c in p.get("codes", []) if c], off))
        elif e.kind == "relay":
            src = [q for q in press_of if q.identity == e.identity and q.t <= e.t_end
                   and e.t <= q.t_end]
            codes = [src[0].params["code"]] if src and src[0].params.get("code") else []
            out.append(Transmission(name, seed, f"relay:{p.get('mode')}", "relay", e.t, e.t_end,
                                    e.identity, None, codes, off))
        elif e.kind == "clone":
            out.append(Transmission(name, seed, f"clone:{p.get('radio')}", "clone", e.t, e.t_end,
                                    e.identity, None, [], off))
        else:
            continue
        tx = out[-1]
        over = [j.params.get("jsr_db") for j in jams if j.t <= tx.t_end and tx.t <= j.t_end]
        over = [v for v in over if v is not None]
        tx.jsr_db = max(over) if over else None
    return out


def judge(tx: Transmission, observed: list, center_freq: float | None) -> None:
    """Set ``tx.outcome`` from the front end's observations (``Observed`` list)."""
    lo, hi = tx.t - SLACK_S, tx.t_end + SLACK_S
    bursts, packets = [], []
    for ob in observed:
        b = ob.burst
        if b.t_end < lo or b.t > hi:
            continue
        if tx.offset_hz is not None and b.freq_hz is not None and center_freq is not None:
            if abs((b.freq_hz - center_freq) - tx.offset_hz) > FREQ_TOL_HZ:
                continue
        bursts.append(b)
        packets += [p for p in ob.packets if p.t_end >= lo and p.t <= hi]
    if bursts:
        strongest = max(bursts, key=lambda b: b.rssi_db if b.rssi_db is not None else -999)
        tx.rssi_db = strongest.rssi_db
        if tx.snr_db is None:
            tx.snr_db = strongest.snr_db
    if not bursts:
        tx.outcome = "noburst"
        return
    known = [p for p in packets if p.protocol != "unknown"]
    if not packets:
        tx.outcome = "nopkt"
        return
    if not known:
        tx.outcome = "unknown"
        tx.got = f"{len(packets)} unknown, bits {sorted({p.bits for p in packets})}"
        return
    want_fam = _family(tx.protocol or (tx.identity or "").split(":")[0])
    mine = [p for p in known if _family(p.protocol) == want_fam and
            (tx.identity is None or p.identity == tx.identity)]
    codes = {p.code for p in mine}
    if mine and all(c in codes for c in tx.codes):
        tx.outcome = "ok"
        return
    tx.outcome = "partial" if any(c in codes for c in tx.codes) else "wrong"
    tx.got = ", ".join(sorted({f"{p.protocol}/{p.identity}/{p.code}" for p in known}))[:120]


def run(names: list[str], seeds: list[int], verbose: bool = False) -> list[Transmission]:
    from keyguard.models.training import vary_scenario
    from keyguard.pipeline import observe_capture
    from keyguard.protocols.registry import load_registry
    from keyguard.sim.scenario import load_scenario

    reg = load_registry()
    out = []
    for seed in seeds:
        for name in names:
            sc = vary_scenario(load_scenario(name), seed)
            r = sc.plan(seed)
            txs = transmissions(name, seed, r.truth)
            try:
                cap = r.capture()
                observed = list(observe_capture(cap, reg))
            except Exception as e:  # report the variant, keep the others
                for tx in txs:
                    tx.outcome, tx.got = "error", f"{type(e).__name__}: {e}"[:120]
                out += txs
                continue
            for tx in txs:
                judge(tx, observed, cap.center_freq)
            out += txs
            if verbose:
                for tx in txs:
                    print(f"{name:13s} {seed} {tx.kind:14s} t={tx.t:6.2f} "
                          f"snr={_f(tx.snr_db)} js={_f(tx.jsr_db)} rssi={_f(tx.rssi_db)} "
                          f"{tx.outcome:8s} {tx.got}", flush=True)
    return out


def _f(v) -> str:
    return "   -  " if v is None else f"{v:6.1f}"


def table(txs: list[Transmission], key) -> str:
    groups = defaultdict(list)
    for tx in txs:
        groups[key(tx)].append(tx)
    head = f"{'':22s} {'n':>4s} {'ok':>4s} {'rate':>6s} " + " ".join(f"{o:>7s}" for o in OUTCOMES[1:])
    lines = [head]
    for k in sorted(groups):
        g = groups[k]
        n_ok = sum(t.outcome == "ok" for t in g)
        counts = " ".join(f"{sum(t.outcome == o for t in g):7d}" for o in OUTCOMES[1:])
        lines.append(f"{k:22s} {len(g):4d} {n_ok:4d} {100 * n_ok / len(g):5.0f}% {counts}")
    n_ok = sum(t.outcome == "ok" for t in txs)
    lines.append(f"{'all':22s} {len(txs):4d} {n_ok:4d} {100 * n_ok / max(1, len(txs)):5.0f}%")
    return "\n".join(lines)


def _seeds(s: str) -> list[int]:
    out = []
    for part in s.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


def main() -> None:
    from keyguard.sim.scenario import list_scenarios

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="900-905")
    ap.add_argument("--scenarios", default=",".join(list_scenarios()))
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    t0 = time.perf_counter()
    txs = run(a.scenarios.split(","), _seeds(a.seeds), a.verbose)
    print(f"\ndecode rate per scenario ({time.perf_counter() - t0:.0f} s)")
    print(table(txs, lambda t: t.scenario))
    print("\ndecode rate per transmitter kind")
    print(table(txs, lambda t: t.kind))


if __name__ == "__main__":
    main()
