"""`keyguard info`: output for people and for programs, and one clear line + exit 2 on bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from keyguard.io import write_iq
from keyguard.io.sigmf_io import write_sigmf

SUB_HEAD = ("Filetype: Flipper SubGhz RAW File\nVersion: 1\nFrequency: 433920000\n"
            "Preset: FuriHalSubGhzPresetOok650Async\nProtocol: RAW\n")


def noise(n=50_000, seed=0, scale=0.05):
    rng = np.random.default_rng(seed)
    return ((rng.standard_normal(n) + 1j * rng.standard_normal(n)) * scale).astype(np.complex64)


def one_error_line(err: str, *words: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("keyguard: error: ") and "Traceback" not in err
    for w in words:
        assert w in lines[0], (w, lines[0])


def bad_inputs(tmp_path):
    """(argv, words expected in the error line) for every bad input the issue lists."""
    (tmp_path / "empty.cu8").write_bytes(b"")
    write_sigmf(tmp_path / "nodata", noise(100), 1e6)
    (tmp_path / "nodata.sigmf-data").unlink()
    write_sigmf(tmp_path / "dtype", noise(100), 1e6)
    meta = json.loads((tmp_path / "dtype.sigmf-meta").read_text())
    meta["global"]["core:datatype"] = "ci12_le"
    (tmp_path / "dtype.sigmf-meta").write_text(json.dumps(meta))
    for name, bad in (("nan.cf32", np.nan), ("inf.cf32", np.inf)):
        x = noise(5000)
        x[4321] = complex(bad, 0)
        (tmp_path / name).write_bytes(x.tobytes())
    write_iq(tmp_path / "ok.cu8", noise(), "cu8")
    write_iq(tmp_path / "zero_0k.cu8", noise(), "cu8")
    (tmp_path / "noraw.sub").write_text(SUB_HEAD)
    (tmp_path / "garbage.sub").write_text(SUB_HEAD + "RAW_Data: 100 -200\n<html>oops</html>\n")
    (tmp_path / "dir").mkdir()
    return [
        ([tmp_path / "missing.cu8"], ["missing.cu8", "no such file"]),
        ([tmp_path / "empty.cu8"], ["empty.cu8", "empty"]),
        ([tmp_path / "nodata.sigmf-meta"], ["nodata.sigmf-meta", "nodata.sigmf-data is missing"]),
        ([tmp_path / "dtype.sigmf-meta"], ["dtype.sigmf-meta", "unknown SigMF datatype 'ci12_le'"]),
        ([tmp_path / "nan.cf32"], ["nan.cf32", "sample 4321 is NaN or infinite"]),
        ([tmp_path / "inf.cf32"], ["inf.cf32", "sample 4321 is NaN or infinite"]),
        ([tmp_path / "ok.cu8", "--sample-rate", "0"], ["ok.cu8", "sample rate 0", "must be positive"]),
        ([tmp_path / "ok.cu8", "--sample-rate", "500M"], ["ok.cu8", "outside 1000..1e+08 Hz"]),
        ([tmp_path / "ok.cu8", "--sample-rate", "10"], ["ok.cu8", "outside"]),
        ([tmp_path / "zero_0k.cu8"], ["zero_0k.cu8", "from the file name"]),
        ([tmp_path / "noraw.sub"], ["noraw.sub", "no RAW_Data lines"]),
        ([tmp_path / "garbage.sub"], ["garbage.sub", "line 7", "not a 'Key: value' line"]),
        ([tmp_path / "dir"], ["dir", "is a directory"]),
    ]


def test_every_bad_input_gives_one_line_and_exit_2(run_cli, tmp_path):
    for argv, words in bad_inputs(tmp_path):
        code, out, err = run_cli("info", *argv)
        assert code == 2, (argv, code, out, err)
        one_error_line(err, *words)
        assert out == "", argv


def test_table_says_what_was_assumed(run_cli, tmp_path):
    write_iq(tmp_path / "gfile001.data", noise(), "cu8")
    code, out, err = run_cli("info", tmp_path / "gfile001.data")
    assert code == 0 and err == ""
    assert "250 ksps  (assumed: rtl_433 default; set --sample-rate)" in out
    assert "433.920000 MHz  (assumed: rtl_433 default; set --center-freq)" in out
    assert "noise floor" in out and "clipping     0.000 % of samples" in out and "CLIPPED" not in out
    write_iq(tmp_path / "lock_315.1M_920k.cu8", noise(), "cu8")
    code, out, _ = run_cli("info", tmp_path / "lock_315.1M_920k.cu8")
    assert "920 ksps  (from the file name)" in out and "315.100000 MHz  (from the file name)" in out
    code, out, _ = run_cli("info", "--sample-rate", "2.4M", "--center-freq", "868.3M",
                           "--start-time", "2024-05-01T12:00:00Z", tmp_path / "gfile001.data")
    assert "2.4 Msps\n" in out and "868.300000 MHz\n" in out and "2024-05-01 12:00:00.000000 UTC" in out
    assert "assumed" not in out


def test_clipping_is_called_out(run_cli, tmp_path):
    write_iq(tmp_path / "hot.cu8", noise(scale=2.0), "cu8")
    code, out, _ = run_cli("info", tmp_path / "hot.cu8")
    assert code == 0 and "CLIPPED" in out and "gain too high" in out
    code, out, _ = run_cli("info", "--format", "jsonl", tmp_path / "hot.cu8")
    rec = json.loads(out)
    assert rec["clipped"] is True and rec["clipping_fraction"] > 0.5


def test_real_rtl_433_capture_is_clipped(run_cli, shared_captures):
    p = shared_captures / "rtl_433_tests/tests/honda_remote/01/hondacar-lock2.cu8"
    code, out, _ = run_cli("info", p)
    assert code == 0 and "CLIPPED" in out and "39.792 % of samples" in out


def test_jsonl_is_the_contract_capture_record(run_cli, tmp_path):
    meta = write_sigmf(tmp_path / "rec", noise(), 1e6, fmt="cs16", center_freq=433.92e6,
                       start_time="2024-05-01T12:00:00Z", hw="RTL-SDR v3",
                       annotations=[{"core:sample_start": 5, "core:sample_count": 9}])
    code, out, err = run_cli("info", "--format", "jsonl", meta)
    assert code == 0 and err == ""
    rec = json.loads(out)
    assert list(rec)[:9] == ["type", "capture", "sha256", "format", "sample_rate", "center_freq",
                             "start_time", "duration"] + ["num_samples"]
    assert rec["type"] == "capture" and rec["capture"] == str(meta) and rec["format"] == "sigmf"
    assert rec["sample_rate"] == 1e6 and rec["center_freq"] == 433.92e6
    assert rec["start_time"] == "2024-05-01T12:00:00.000000Z" and rec["duration"] == 0.05
    assert len(rec["sha256"]) == 64 and rec["hw"] == "RTL-SDR v3" and rec["annotations"] == 1
    assert rec["assumed"] == [] and rec["warnings"] == [] and rec["clipped"] is False
    assert rec["noise_floor_dbfs"] == pytest.approx(10 * np.log10(2 * 0.05**2), abs=0.3)


def test_several_files_report_the_good_ones_and_exit_2(run_cli, tmp_path):
    write_iq(tmp_path / "a.cu8", noise(), "cu8")
    write_iq(tmp_path / "b.cs16", noise(), "cs16")
    code, out, err = run_cli("info", "--format", "jsonl", tmp_path / "a.cu8", tmp_path / "nope.cu8",
                             tmp_path / "b.cs16")
    assert code == 2
    assert [json.loads(line)["format"] for line in out.splitlines()] == ["cu8", "cs16"]
    one_error_line(err, "nope.cu8", "no such file")


def test_partial_sample_is_a_warning_not_an_error(run_cli, tmp_path):
    p = tmp_path / "cut.cu8"
    write_iq(p, noise(1000), "cu8")
    with open(p, "ab") as f:
        f.write(b"\x80")
    code, out, err = run_cli("info", p)
    assert code == 0 and err == ""
    assert "warning: ignored 1 trailing byte (a partial 2-byte cu8 sample" in out


def test_input_format_override_and_prefix(run_cli, tmp_path):
    write_iq(tmp_path / "x.bin", noise(1000), "cs16")
    code, _, err = run_cli("info", tmp_path / "x.bin")
    assert code == 2
    one_error_line(err, "x.bin", "cannot tell the sample format", "cu8:FILE")
    code, out, _ = run_cli("info", "--input-format", "cs16", "--no-levels", tmp_path / "x.bin")
    assert code == 0 and "format       cs16" in out and "(1000 samples)" in out and "noise floor" not in out
    code, out, _ = run_cli("info", "--format", "jsonl", f"cu8:{tmp_path / 'x.bin'}")
    assert code == 0 and json.loads(out)["num_samples"] == 2000


def test_pulse_files(run_cli, tmp_path):
    (tmp_path / "k.sub").write_text(SUB_HEAD + "RAW_Data: -500 400 -400 400 -20000 400 -400\n")
    code, out, _ = run_cli("info", tmp_path / "k.sub")
    assert code == 0 and "bursts       2 (OOK)" in out and "render rate for the pulses" in out
    code, out, _ = run_cli("info", "--format", "jsonl", "--sample-rate", "1M", tmp_path / "k.sub")
    rec = json.loads(out)
    assert rec["format"] == "sub" and rec["bursts"] == 2 and rec["sample_rate"] == 1e6
    assert rec["num_samples"] == 500 + 400 + 400 + 400 + 20000 + 400 + 400  # µs at 1 Msps


def test_bad_option_values_are_usage_errors(run_cli, tmp_path):
    code, _, err = run_cli("info", "--sample-rate", "fast", tmp_path / "x.cu8")
    assert code == 2 and "not a number of Hz" in err
    code, _, err = run_cli("info", "--input-format", "mp3", tmp_path / "x.cu8")
    assert code == 2 and "mp3" in err
    write_iq(tmp_path / "x.cu8", noise(100), "cu8")
    code, _, err = run_cli("info", "--start-time", "noon", tmp_path / "x.cu8")
    assert code == 2
    one_error_line(err, "x.cu8", "ISO-8601")


def test_help_documents_multiple_files_and_exit_status(run_cli):
    code, out, _ = run_cli("info", "--help")
    text = " ".join(out.split())
    assert code == 0 and "--input-format" in text and "Exit status: 0 if every file was read" in text
