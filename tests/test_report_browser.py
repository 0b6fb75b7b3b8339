"""A real browser opens the report: headless Chromium loads it from file://, takes a
screenshot (kept in tests/artifacts/), and logs no console message (no script error, no
blocked resource: the report must need nothing outside itself)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from keyguard.report import build_report
from test_report_scene import make_scene

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                                "(Debian package `chromium`; scripts/test.sh installs it)")


def open_in_chromium(page: Path, shot: Path, profile: Path, height: int = 4000) -> list[str]:
    """Load ``page`` headless, write a 1280-wide screenshot; return the console lines logged."""
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", f"--screenshot={shot}",
           f"--window-size=1280,{height}", "--enable-logging=stderr", "--v=0",
           page.resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [ln for ln in proc.stderr.splitlines() if ":CONSOLE" in ln or "Uncaught" in ln]


def test_chromium_detects_console_errors_in_a_control_page(tmp_path):
    """The check below can fail: a page with a script error and a blocked image is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><meta '
                   'http-equiv="Content-Security-Policy" content="img-src data:"></head><body>'
                   '<img src="http://127.0.0.1:9/x.png"><script>undefinedFn()</script>'
                   "</body></html>")
    lines = open_in_chromium(bad, tmp_path / "bad.png", tmp_path / "profile", height=300)
    assert any("Uncaught" in ln for ln in lines)
    assert any("Content Security Policy" in ln for ln in lines)


@pytest.mark.slow  # a browser start and a full report: ~5-9 s
def test_report_renders_in_chromium_without_console_messages(tmp_path):
    from PIL import Image

    # crafted file names on the way, to see that nothing they hold runs in a real browser
    scene = make_scene(tmp_path, ("<script>alert(1)</script>.cu8", '"><img src=x onerror=a()>.cu8'))
    html_path = tmp_path / "report.html"
    html_path.write_text(build_report(scene.captures, scene.records, case_ref="BROWSER-1",
                                      analysis_time="2024-05-02T08:00:00Z"), encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report_screenshot.png"
    shot.unlink(missing_ok=True)
    lines = open_in_chromium(html_path, shot, tmp_path / "profile")
    assert lines == []
    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape == (4000, 1280, 3)
    # the embedded figures were decoded and drawn: the spectrograms' dark viridis purple covers
    # a large area (a page of text and tables alone has none of it)
    r, g, b = img[..., 0].astype(int), img[..., 1].astype(int), img[..., 2].astype(int)
    purple = (r > 50) & (r < 80) & (g < 40) & (b > 70) & (b < 110)
    assert purple.sum() > 50_000
    shutil.copy(html_path, ARTIFACTS / "report.html")
