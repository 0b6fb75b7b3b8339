"""The front end's allocator setting (keyguard.dsp.heap): set by the ``keyguard`` command on
glibc, never by the library on its own (it is a process-wide setting)."""

from __future__ import annotations

import platform
import sys

import pytest

import keyguard.dsp.heap as heap
from cli.main import main
from keyguard.dsp import BurstDetector


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="glibc's mallopt only")
def test_the_command_holds_freed_memory_and_the_library_does_not(monkeypatch):
    monkeypatch.setattr(heap, "_held", False)
    BurstDetector(250e3)
    assert heap._held is False
    assert main(["--help"]) == 0
    assert heap._held is True
    assert heap.hold_freed_memory()  # set already: a second call changes nothing and says so
