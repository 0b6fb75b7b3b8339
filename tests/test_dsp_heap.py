"""The front end's allocator setting (keyguard.dsp.heap): set by the detector on glibc."""

from __future__ import annotations

import platform
import sys

import pytest

from keyguard.dsp import BurstDetector
from keyguard.dsp.heap import hold_freed_memory


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="glibc's mallopt only")
def test_a_detector_holds_freed_memory_on_glibc():
    BurstDetector(250e3)
    assert hold_freed_memory()  # set already: a second call changes nothing and says so
