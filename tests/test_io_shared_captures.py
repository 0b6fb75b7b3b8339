"""Every real capture in ../shared/captures opens through open_capture with the right metadata."""

from __future__ import annotations

import csv

import pytest

from keyguard.io import open_capture
from keyguard.io.levels import measure_levels
from keyguard.io.naming import parse_capture_name

pytestmark = pytest.mark.needs_shared


def _manifest(shared):
    with open(shared / "rtl_433_tests" / "MANIFEST.tsv", newline="") as f:
        return {r["path"]: r for r in csv.DictReader(f, delimiter="\t")}


def test_every_cu8_and_data_file_loads_with_assumed_defaults(shared_captures):
    manifest = _manifest(shared_captures)
    base = shared_captures / "rtl_433_tests"
    files = sorted(p for p in base.rglob("*") if p.suffix in (".cu8", ".data"))
    assert len(files) >= 100
    clipped = 0
    for p in files:
        c = open_capture(p)
        assert c.format == "cu8", p
        # nothing in these names states frequency or rate: rtl_433's defaults, flagged as assumed
        assert (c.center_freq, c.sample_rate) == (433.92e6, 250e3), p
        assert set(c.assumed) == {"center_freq", "sample_rate"}, p
        assert c.num_samples == p.stat().st_size // 2 and c.warnings == [], p
        rel = str(p.relative_to(base))
        if rel in manifest:
            assert c.sha256 == manifest[rel]["sha256"], p
        lv = measure_levels(c)
        # a cu8 sample at a corner (±1, ±1) has |x|² = 2: +3.01 dBFS is the ceiling
        assert lv.samples == c.num_samples and lv.noise_floor_dbfs < lv.peak_dbfs <= 3.02, p
        clipped += lv.clipped
    # rtl_433's 2015 test captures were recorded with too much gain: most of them clip hard
    assert clipped > len(files) // 2


def test_every_pulse_file_loads(shared_captures):
    subs = sorted(shared_captures.rglob("*.sub"))
    ooks = sorted(shared_captures.rglob("*.ook"))
    assert len(subs) >= 40 and len(ooks) == 2
    for p in subs + ooks:
        c = open_capture(p)
        assert c.is_pulse_capture and c.center_freq and c.sample_rate > 0, p
        if c.pulse_trains:
            assert c.num_samples > 0 and c.pulse_trains[-1].t_end <= c.duration + 1e-6, p
            first = c.read(0, 1000)
            assert first.size == min(1000, c.num_samples)
        else:
            assert "sub" in c.extra, p  # decoded-protocol file


@pytest.mark.parametrize("name, freq, rate", [
    ("6sc2/01/g001_315.1M_250k", 315.1e6, 250e3),
    ("Came/TOP432/Button1_433.83M_250k", 433.83e6, 250e3),
    ("chrysler_car_remote/01/lock_315.1M_920k", 315.1e6, 920e3),
    ("continental/72147-SNA-A01/01/lock_313.8M_1024k", 313.8e6, 1.024e6),
    ("secplus/v1/g008_315.05M_250k", 315.05e6, 250e3),
    ("Microchip/HCS200/01/g001-BTN1_433.92M_250k", 433.92e6, 250e3),
])
def test_rtl_433_names_from_the_test_corpus(shared_captures, name, freq, rate):
    assert (shared_captures / "rtl_433_tests/expected_only/tests" / f"{name}.json").is_file()
    n = parse_capture_name(f"tests/{name}.cu8")
    assert (n.center_freq, n.sample_rate) == (pytest.approx(freq), pytest.approx(rate))
