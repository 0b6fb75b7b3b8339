"""Simulator rendering speed: seconds of IQ rendered per second of CPU, at 1.024 Msps and 250 ksps.

Three loads: an empty band (receiver noise and the 8-bit ADC only, ``--seconds`` long), the
shipped ``rolljam`` scenario (30 s: fob presses, a CW jammer, replays, a weather sensor) and
``benign_day`` (120 s: presses, sensors, TPMS, doorbell, passing fobs). Rendering only (no file
writing); the peak resident memory shows that memory stays bounded by a chunk plus the bursts
in flight.

    .venv/bin/python bench/sim_speed.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import time

from keyguard.sim.scenario import Scenario, load_scenario


def _scenario(name: str, rate: float, seconds: float) -> Scenario:
    if name == "empty band":
        return Scenario(name="empty", duration_s=seconds, receiver=dict(sample_rate=rate))
    sc = load_scenario(name)
    return dataclasses.replace(sc, receiver=dict(sc.receiver, sample_rate=rate))


def run(seconds: float) -> None:
    print(f"{'load':<12} {'rate':>9} {'capture s':>10} {'CPU s':>7} {'IQ s / CPU s':>13} {'Msps/CPU s':>11}")
    for name in ("empty band", "rolljam", "benign_day"):
        for rate in (1.024e6, 250e3):
            sc = _scenario(name, rate, seconds)
            c0 = time.process_time()
            r = sc.plan(seed=1)
            n = 0
            for chunk in r.chunks():
                n += chunk.size
            cpu = time.process_time() - c0
            dur = n / rate
            print(f"{name:<12} {rate / 1e3:>7.0f}k {dur:>10.1f} {cpu:>7.2f} {dur / cpu:>13.1f} "
                  f"{n / cpu / 1e6:>11.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak:.0f} MiB")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="length of the empty-band capture (s)")
    run(ap.parse_args().seconds)
