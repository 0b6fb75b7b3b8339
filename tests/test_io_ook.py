"""rtl_433 .ook pulse files: the real megacode captures, FSK blocks, placement, bad files."""

from __future__ import annotations

import pytest

from keyguard.errors import CaptureFormatError
from keyguard.io.ook import MIN_PACKAGE_GAP_US, parse_ook, read_ook

HEADER = ";pulse data\n;version 1\n;timescale 1us\n;created 2021-12-05 00:18:55Z\n"


def block(kind: str, lines: list[str], extra: str = ";freq1 -4231\n") -> str:
    return (f";{kind} {len(lines)} pulses\n{extra};centerfreq 0 Hz\n;samplerate 250000 Hz\n"
            ";rssi -0.2 dB\n;snr 42.0 dB\n;noise -42.1 dB\n" + "".join(x + "\n" for x in lines) + ";end\n")


def test_ook_blocks_become_placed_pulse_trains():
    o = parse_ook(HEADER + block("ook", ["100 200", "300 20000"]) + block("ook", ["500 100", "500 1000"]))
    assert o.version == 1 and o.created.isoformat() == "2021-12-05T00:18:55+00:00"
    assert o.sample_rate == 250000 and o.center_freq is None  # "0 Hz" means unknown
    a, b = o.bursts
    assert a.durations_us.tolist() == [100, 200, 300, 20000] and a.levels.tolist() == [1, 0, 1, 0]
    assert a.freq_hz == -4231 and a.rssi_db == -0.2 and a.snr_db == 42.0 and a.noise_db == -42.1
    assert a.t == 0 and b.t == pytest.approx(20600e-6)  # after a's trailing 20 ms gap
    # b's 1 ms trailing gap is shorter than rtl_433's package end: nothing follows, duration ends there
    assert o.duration_s == pytest.approx(b.t + 2100e-6)
    c = parse_ook(HEADER + block("ook", ["100 200"]) + block("ook", ["100 200"])).bursts[1]
    assert c.t == pytest.approx(MIN_PACKAGE_GAP_US * 1e-6 + 100e-6)


def test_fsk_block_levels_follow_the_higher_frequency():
    up = parse_ook(HEADER + block("fsk", ["100 200"], ";freq1 20000\n;freq2 -20000\n")).bursts[0]
    assert up.modulation == "FSK" and up.levels.tolist() == [1, 0]
    assert up.freq_hz == 0 and up.fsk_deviation_hz == 20000
    down = parse_ook(HEADER + block("fsk", ["100 200"], ";freq1 -30000\n;freq2 10000\n")).bursts[0]
    assert down.levels.tolist() == [0, 1] and down.freq_hz == -10000 and down.fsk_deviation_hz == 20000


def test_timescale_and_count_mismatch_and_missing_end():
    text = HEADER.replace("1us", "10us") + block("ook", ["10 20"]).replace(";ook 1", ";ook 2")
    o = parse_ook(text.replace(";end\n", ""))
    assert o.bursts[0].durations_us.tolist() == [100, 200]
    assert any("says 2 pulses, holds 1" in w for w in o.warnings)
    assert any("no ';end'" in w for w in o.warnings)


@pytest.mark.parametrize("text, words", [
    ("", "';pulse data'"),
    ("hello\n", "';pulse data'"),
    (HEADER, "no pulse packages"),
    (HEADER + "100 200\n", "line 5: pulse data outside a package"),
    (HEADER + block("ook", ["100 x"]), "line 12: expected two durations"),
    (HEADER + block("ook", ["100 -5"]), "line 12"),
    (HEADER + block("ook", ["100 200 300"]), "line 12"),
    (HEADER + ";end\n", "';end' without a package"),
    (HEADER.replace("1us", "fast"), "timescale"),
])
def test_bad_ook_files(text, words):
    with pytest.raises(CaptureFormatError) as e:
        parse_ook(text, path="bad.ook")
    assert str(e.value).startswith("bad.ook: ") and words in str(e.value)


def test_shared_megacode_files(shared_captures):
    files = sorted(shared_captures.rglob("*.ook"))
    assert len(files) == 2
    o = read_ook(shared_captures / "rtl_433_tests/tests/megacode/01/48881-0728_318M_250k.ook")
    assert len(o.bursts) == 11 and o.warnings == []
    first = o.bursts[0]
    assert first.pairs()[0][:3].tolist() == [1064, 1044, 1000]
    assert first.pairs()[1][:3].tolist() == [1996, 5000, 5040]
    assert len(first.pairs()[0]) == 24 and first.freq_hz == -4231
    other = read_ook(files[1] if files[0].name.startswith("4888") else files[0])
    counts = sorted(len(b.pairs()[0]) for b in other.bursts)
    assert counts[0] == 1 and counts[-1] == 25  # the ';ook 1 pulses' and ';ook 25 pulses' blocks
