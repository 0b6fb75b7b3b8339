"""The IQ front end on real RTL-SDR captures from rtl_433_tests (cu8, 250 ksps, 433.92 MHz).

Each capture's packages as rtl_433's pulse analyser sees them (``rtl_433 -r FILE -A``, run
here when rtl_433 is installed) must all come out of keyguard's front end with the same
modulation, start time (±2 ms) and pulse count (±2 %). On captures that hold nothing else,
keyguard must not report anything else of note (SNR ≥ 10 dB) either. Expected rtl_433 JSON
beside a capture gives packet times to check without rtl_433.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from keyguard.dsp import iter_pulse_trains
from keyguard.io.capture import Capture

pytestmark = pytest.mark.needs_shared

ROOT = "rtl_433_tests/tests"
# captures whose only transmissions are the ones rtl_433 reports
CLEAN = [
    "honda_remote/01/hondacar-unlock.cu8", "honda_remote/01/hondacar-lock2.cu8",
    "honda_remote/01/hondacar-bootunlock.data",
    "hyundai_remote/01/gfile002.cu8", "hyundai_remote/01/gfile007.data",
    "hyundai_remote/02/gfile001.cu8", "hyundai_remote/02/gfile003.cu8",
    "hyundai_remote/02/gfile009.data", "hyundai_remote/02/gfile014.cu8",
    "valeo/01/gfile001.data", "valeo/01/gfile002.cu8",
    "generic_remote/01/gfile001.data", "generic_remote/01/gfile002.data",
    "generic_remote/01/gfile003.cu8", "generic_remote/01/gfile004.cu8",
    "cardin/01/S466-TX2_02.cu8",
    "lacrosse/01/gfile001.data", "lacrosse/02/gfile003.data", "acurite/01/VN1TXC_02.data",
    "fineoffset/01/gfile002.data", "oregon_scientific/02/gfile003.data",
    "door_bell/01/gfile002.data", "waveman/01/gfile001.data", "waveman/01/gfile010.data",
]
# captures with weak neighbours, splatter of an overloaded receiver or a capture start in
# mid-transmission: rtl_433's packages must still all be found
BUSY = [
    "door_bell/01/gfile004.data", "lacrosse/01/gfile006.data", "waveman/01/gfile006.data",
    "waveman/01/gfile017.data", "waveman/01/gfile029.data",
]


def load_cu8(path: Path) -> Capture:
    """cu8 read directly ((b − 127.5)/127.5), rtl_433's defaults for rate and centre."""
    b = np.fromfile(path, dtype=np.uint8).astype(np.float32)
    x = ((b[0::2] - 127.5) + 1j * (b[1::2] - 127.5)) / 127.5
    return Capture.from_array(x.astype(np.complex64), 250e3, 433.92e6, path=str(path))


def rtl433_packages(path: Path) -> list[tuple[str, float, int]]:
    """(modulation, start s, pulse count) of every package rtl_433's analyser reports."""
    if shutil.which("rtl_433") is None:
        pytest.skip("rtl_433 is not installed")
    res = subprocess.run(["rtl_433", "-r", str(path), "-A"], capture_output=True, text=True,
                         timeout=60)
    text = res.stdout + res.stderr
    return [(m.group(1), float(m.group(2)), int(m.group(3))) for m in
            re.finditer(r"Detected (OOK|FSK) package\s+@([\d.]+)s.*?Total count:\s+(\d+)", text, re.S)]


def trains_of(path: Path) -> list:
    return list(iter_pulse_trains(load_cu8(path)))


@pytest.mark.parametrize("name", CLEAN + BUSY)
def test_every_rtl433_package_is_found(shared_captures, name):
    path = shared_captures / ROOT / name
    expected = rtl433_packages(path)
    assert expected, f"rtl_433 found nothing in {name}"
    trains = trains_of(path)
    ours = [(t.modulation, t.t, int((t.levels == 1).sum()), t.snr_db) for t in trains]
    used: set[int] = set()
    for mod, t0, count in expected:
        match = [i for i, o in enumerate(ours) if i not in used and o[0] == mod
                 and abs(o[1] - t0) < 2e-3 and abs(o[2] - count) <= max(1, 0.02 * count)]
        assert match, f"{name}: rtl_433's {mod} package at {t0} s ({count} pulses) not found in {ours}"
        used.add(match[0])
    if name in CLEAN:
        extra = [o for i, o in enumerate(ours) if i not in used and o[3] >= 10.0]
        assert not extra, f"{name}: unexpected trains {extra}"
    # time order, as the decoder needs it
    assert [o[1] for o in ours] == sorted(o[1] for o in ours)


def test_generic_remote_packets_at_the_expected_json_times(shared_captures):
    for path in sorted((shared_captures / ROOT / "generic_remote/01").glob("gfile00*")):
        if path.suffix == ".json":
            continue
        times = [float(json.loads(line)["time"].strip("@s"))
                 for line in path.with_suffix(".json").read_text().splitlines() if line.strip()]
        starts = [t.t for t in trains_of(path)]
        for t0 in times:
            assert min(abs(s - t0) for s in starts) < 1e-3, f"{path.name}: no train at {t0} s"


def test_honda_remote_is_fsk_with_its_deviation_and_chip_length(shared_captures):
    (pt,) = trains_of(shared_captures / ROOT / "honda_remote/01/hondacar-unlock.cu8")
    assert pt.modulation == "FSK"
    assert pt.t == pytest.approx(0.279376, abs=5e-4)  # the expected JSON's time
    assert pt.fsk_deviation_hz == pytest.approx(44e3, abs=2e3)
    assert pt.freq_hz == pytest.approx(433.92e6 - 20.7e3, abs=2e3)
    assert int((pt.levels == 1).sum()) == 385
    short = pt.durations_us[(pt.durations_us > 150) & (pt.durations_us < 350)]
    assert np.median(short) == pytest.approx(248, abs=6)  # rtl_433: 248 µs


def test_hyundai_packages_have_rtl433_widths(shared_captures):
    (pt,) = trains_of(shared_captures / ROOT / "hyundai_remote/01/gfile002.cu8")
    assert pt.modulation == "OOK" and int((pt.levels == 1).sum()) == 648
    assert pt.snr_db > 10 and pt.rssi_db < 3


def _phase_z(path: Path) -> list[float]:
    from keyguard.dsp.frontend import FrontEnd
    from keyguard.features.extract import features_from_burst
    from keyguard.io import open_capture
    return [features_from_burst(b)["pulse_phase_z"] for b in FrontEnd().bursts(open_capture(path))]


def test_real_remotes_show_whether_their_oscillator_is_keyed_or_runs_on(shared_captures):
    # the generic (PT2262-style) gate remote switches its oscillator with the data: each pulse
    # starts at a random phase, n·R² ≈ 1; the Valeo car fob and the Cardin S466 keep a PLL
    # running, and their phase carries over from pulse to pulse (n·R² over blocks of 24 steps:
    # 23 and 15, where 24 is a block's most)
    keyed = [z for f in ("gfile003.cu8", "gfile004.cu8")
             for z in _phase_z(shared_captures / ROOT / "generic_remote/01" / f)]
    assert len(keyed) == 10 and float(np.mean(keyed)) < 1.5 and max(keyed) < 4.0
    for name in ("valeo/01/gfile002.cu8", "cardin/01/S466-TX2_02.cu8"):
        (z,) = _phase_z(shared_captures / ROOT / name)
        assert z > 10.0, name


def _gap_lines(path: Path) -> list[tuple[float, float]]:
    from keyguard.dsp.frontend import FrontEnd
    from keyguard.features.extract import features_from_burst
    from keyguard.io import open_capture
    out = []
    for b in FrontEnd().bursts(open_capture(path)):
        f = features_from_burst(b)
        out.append((f["gap_line_db"], f["gap_line_hz"]))
    return out


def test_real_remotes_gap_lines_are_noise_or_their_own(shared_captures):
    # the generic remote's gaps hold noise: its strongest bin off the carrier is a chance
    # peak, somewhere else in every frame; the Hyundai remote carries a steady line of its own
    # about 4.2 kHz above its carrier in every frame (so a remote's references, not a fixed
    # threshold, say what its gaps should hold)
    generic = [x for f in ("gfile003.cu8", "gfile004.cu8")
               for x in _gap_lines(shared_captures / ROOT / "generic_remote/01" / f)]
    assert len(generic) == 10 and float(np.median([d for d, _ in generic])) < 6.0
    assert len({round(hz, -3) for _, hz in generic}) >= 6
    hyundai = _gap_lines(shared_captures / ROOT / "hyundai_remote/02/gfile001.cu8")
    assert len(hyundai) == 3 and all(d > 6.0 and abs(hz - 4.2e3) < 500.0 for d, hz in hyundai)
