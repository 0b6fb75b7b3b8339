"""``keyguard info``: what a capture is: format, rate, centre, duration, start time, SHA-256, levels."""

from __future__ import annotations

import re

import click
import numpy as np

from keyguard.errors import InputError
from keyguard.io import open_capture
from keyguard.io.levels import CLIP_WARN_FRACTION, LevelStats, measure_levels
from keyguard.io.naming import FORMAT_WORDS
from keyguard.io.record import capture_record
from keyguard.io.sigmf_io import verify_sha512

_SI = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9}


class Hertz(click.ParamType):
    """A frequency or rate in Hz: ``250000``, ``250k``, ``2.4M``, ``433.92M``, ``1e6``."""

    name = "HZ"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            return float(value)
        m = re.fullmatch(r"\s*([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*([kKmMgG]?)(?:hz|Hz|HZ|sps)?\s*",
                         str(value))
        if not m:
            self.fail(f"{value!r} is not a number of Hz (e.g. 250000, 250k, 433.92M)", param, ctx)
        return float(m.group(1)) * _SI[m.group(2).lower()]


HZ = Hertz()


@click.command()
@click.argument("captures", nargs=-1, required=True, metavar="CAPTURE...")
@click.option("--format", "out_format", type=click.Choice(["table", "jsonl"]), default="table",
              show_default=True, help="Output: a table for people, or the contract's JSON Lines "
              "`capture` records.")
@click.option("--input-format", "input_format", metavar="FMT",
              type=click.Choice(sorted(FORMAT_WORDS), case_sensitive=False),
              help="Force the input format (like rtl_433's FMT:path prefix, e.g. cu8:file.bin).")
@click.option("--sample-rate", type=HZ, help="Sample rate in Hz (250k, 2.4M...); overrides the "
              "file's metadata and name. For .sub/.ook it is the rate their pulses are rendered at.")
@click.option("--center-freq", type=HZ, help="Centre frequency in Hz (433.92M...); overrides the "
              "file's metadata and name.")
@click.option("--start-time", metavar="ISO", help="UTC time of the first sample, ISO-8601 "
              "(2024-05-01T12:00:00Z); overrides the file's.")
@click.option("--no-levels", is_flag=True, help="Skip the level statistics (they read every "
              "sample; slow on multi-GB files).")
def info(captures: tuple[str, ...], out_format: str, input_format: str | None,
         sample_rate: float | None, center_freq: float | None, start_time: str | None,
         no_levels: bool) -> int:
    """Describe CAPTURE files: format, sample rate, centre frequency, duration, start time,
    SHA-256, hardware, and level statistics (noise floor, peak, clipping fraction, DC offset).

    Formats: raw IQ cu8 (.cu8 .data .complex16u), cs8 (.cs8 .complex16s), cs16, cf32 (.cf32
    .cfile .complex); SigMF (.sigmf-meta/.sigmf-data pairs, .sigmf archives, and a .sigmf-meta
    beside a raw file); WAV I/Q; Flipper Zero .sub; rtl_433 .ook. rtl_433's naming rules apply
    (g001_433.92M_250k.cu8, cs16:FILE). When nothing states the centre frequency or the rate,
    rtl_433's defaults (433.92 MHz, 250 ksps; 1 Msps above 800 MHz) are used and the output
    says they were assumed.

    Several files: each is reported in turn; a file that cannot be read gets one error line on
    standard error and the others are still reported. Exit status: 0 if every file was read,
    2 if any could not be.
    """
    bad = 0
    for i, spec in enumerate(captures):
        try:
            cap = open_capture(spec, fmt=input_format, sample_rate=sample_rate,
                               center_freq=center_freq, start_time=start_time)
            # A pulse recording's I/Q is our own rendering: its levels say nothing about the scene.
            levels = (None if no_levels or cap.num_samples == 0 or cap.pulse_trains is not None
                      else measure_levels(cap))
            sha_ok = verify_sha512(cap)
        except InputError as e:
            click.echo(f"keyguard: error: {e}", err=True)
            bad += 1
            continue
        if sha_ok is False:
            cap.warnings.append("data does not match the SigMF core:sha512: the file changed "
                                "after it was recorded")
        if out_format == "jsonl":
            click.echo(capture_record(cap, levels).to_json())
        else:
            if i:
                click.echo()
            click.echo(_table(cap, levels, sha_ok))
    return 2 if bad else 0


# --------------------------------------------------------------------------------------------
def _table(cap, levels: LevelStats | None, sha_ok: bool | None) -> str:
    src = cap.extra.get("metadata_sources", {})
    rows: list[tuple[str, str]] = []
    fmt = cap.format
    if cap.extra.get("sample_format") and cap.extra["sample_format"] != fmt:
        fmt += f" ({cap.extra['sample_format']} samples)"
    rows.append(("format", fmt))
    rows.append(("sample rate", _rate(cap.sample_rate) + _why(src.get("sample_rate"), "--sample-rate")))
    centre = "unknown" if cap.center_freq is None else f"{cap.center_freq / 1e6:.6f} MHz"
    rows.append(("centre", centre + _why(src.get("center_freq"), "--center-freq")))
    start = "unknown" if cap.start_time is None else cap.start_time.strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    rows.append(("start time", start + _why(src.get("start_time"), "--start-time")))
    rows.append(("duration", f"{cap.duration:.6f} s ({cap.num_samples} samples)"))
    rows.append(("sha256", cap.sha256 or "-"))
    if sha_ok is not None:
        rows.append(("sha512", "matches core:sha512" if sha_ok else "DOES NOT MATCH core:sha512"))
    if cap.hw:
        rows.append(("hardware", cap.hw))
    if cap.annotations:
        rows.append(("annotations", str(len(cap.annotations))))
    if cap.pulse_trains is not None:
        sub = cap.extra.get("sub")
        if sub:
            rows.append(("decoded", f"{sub.get('protocol')} {sub.get('bit')} bits key {sub.get('key')}"))
        mod = cap.extra.get("modulation")
        rows.append(("bursts", f"{len(cap.pulse_trains)}" + (f" ({mod})" if mod else "")))
        rows.append(("pulses", _pulse_summary(cap.pulse_trains)))
        snr = cap.extra.get("render_snr_db")
        rows.append(("rendered", "pulses rendered as I/Q" +
                     (" without noise" if snr is None else f" at {snr:g} dB SNR")))
    if levels is not None:
        rows.append(("noise floor", _db(levels.noise_floor_dbfs)))
        rows.append(("peak", _db(levels.peak_dbfs)))
        rows.append(("DC offset", _db(levels.dc_offset_dbfs)))
        if levels.clipping_fraction is not None:
            c = f"{100 * levels.clipping_fraction:.3f} % of samples"
            if levels.clipped:
                c += (f"  CLIPPED (> {100 * CLIP_WARN_FRACTION:g} %): gain too high; bursts are "
                      "distorted, record again with less gain")
            rows.append(("clipping", c))
    width = max(len(k) for k, _ in rows)
    lines = [cap.path] + [f"  {k.ljust(width)}  {v}" for k, v in rows]
    lines += [f"  warning: {w}" for w in cap.warnings]
    return "\n".join(lines)


def _pulse_summary(trains) -> str:
    """Run counts and widths of a pulse recording (its only "levels")."""
    high = [t.durations_us[t.levels == 1] for t in trains]
    low = [t.durations_us[t.levels == 0] for t in trains]
    high_us = np.concatenate(high) if high else np.zeros(0)
    low_us = np.concatenate(low) if low else np.zeros(0)
    if high_us.size == 0:
        return "none"
    text = (f"{high_us.size} high runs {high_us.min():.0f}–{high_us.max():.0f} µs "
            f"(median {np.median(high_us):.0f} µs), on-air {high_us.sum() / 1e6:.3f} s")
    if low_us.size:
        text += f"; low runs {low_us.min():.0f}–{low_us.max():.0f} µs"
    return text


def _why(source: str | None, option: str) -> str:
    if source == "default":
        return f"  (assumed: rtl_433 default; set {option})"
    if source == "name":
        return "  (from the file name)"
    if source == "render default":
        return "  (render rate for the pulses; set --sample-rate)"
    return ""


def _rate(r: float) -> str:
    return f"{r / 1e6:g} Msps" if r >= 1e6 else f"{r / 1e3:g} ksps"


def _db(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f} dBFS"
