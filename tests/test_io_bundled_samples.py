"""The bundled sample captures open with their metadata and are what their generator makes."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from conftest import REPO
from keyguard.io import open_capture
from keyguard.io.sigmf_io import verify_sha512

CAPTURES = REPO / "captures"
SCRIPT = REPO / "scripts" / "make_sample_captures.py"
FILES = ("sample_keyfob_433.92M_250k.cu8", "sample_keyfob.sigmf-meta", "sample_keyfob.sigmf-data")


def test_bundled_samples_open_with_stated_metadata():
    if not (CAPTURES / FILES[0]).is_file():
        pytest.skip("bundled samples not generated")
    assert sum((CAPTURES / f).stat().st_size for f in FILES) < 2_000_000
    cu8 = open_capture(CAPTURES / FILES[0])
    assert (cu8.sample_rate, cu8.center_freq, cu8.assumed, cu8.warnings) == (250e3, 433.92e6, (), [])
    sig = open_capture(CAPTURES / FILES[1])
    assert sig.num_samples == cu8.num_samples and sig.start_time is not None
    assert len(sig.annotations) == 3 and verify_sha512(sig) is True


def test_samples_match_their_generator(tmp_path):
    if not (CAPTURES / FILES[0]).is_file():
        pytest.skip("bundled samples not generated")
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path)], check=True,
                   capture_output=True, cwd=REPO)
    for f in FILES:
        assert (tmp_path / f).read_bytes() == (CAPTURES / f).read_bytes(), f


def test_generator_is_importable_and_deterministic():
    spec = importlib.util.spec_from_file_location("make_sample_captures", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    a, ann_a, serial_a = mod.render(5)
    b, ann_b, serial_b = mod.render(5)
    assert (a == b).all() and ann_a == ann_b and serial_a == serial_b
    assert mod.render(6)[2] != serial_a
