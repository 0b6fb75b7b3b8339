"""Shared test fixtures: paths to the real captures in ../shared/captures and the CLI runner."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KEYGUARD_SHARED", REPO.parent / "shared")).resolve()
SHARED_CAPTURES = SHARED / "captures"


@pytest.fixture(scope="session")
def shared_captures() -> Path:
    """../shared/captures, or a clean skip when this checkout has no shared folder beside it."""
    if not SHARED_CAPTURES.is_dir():
        pytest.skip(f"real captures not found at {SHARED_CAPTURES} (set KEYGUARD_SHARED)")
    return SHARED_CAPTURES


@pytest.fixture
def run_cli():
    """Run the keyguard CLI in-process: returns (exit_status, stdout, stderr) as text."""
    from click.testing import CliRunner

    from cli.main import main

    def _run(*args: str, input: str | None = None) -> tuple[int, str, str]:
        runner = CliRunner()
        with runner.isolation(input=input) as streams:
            code = main([str(a) for a in args])
            sys.stdout.flush()
            sys.stderr.flush()
            out, err = streams[0].getvalue(), streams[1].getvalue()
        return code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    return _run
