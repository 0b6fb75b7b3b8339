"""Manufacturer-key files: format, round trip, and one-line errors with file and line."""

from __future__ import annotations

import numpy as np
import pytest

from keyguard.errors import InputError, KeyManagementError
from keyguard.protocols.keeloq import ManufacturerKey
from keyguard.protocols.keys import format_keys, load_keys, parse_keys


def _random_keys(seed: int, n: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return [int(k) for k in rng.integers(0, 2**63, n, dtype=np.uint64) * 2 + 1]


def test_load_both_line_forms(tmp_path):
    k = _random_keys(1, 3)
    p = tmp_path / "keys.txt"
    p.write_text(
        "# test keys, random\n\n"
        f"{k[0]:016X}   normal   Gate maker one\n"
        f"0x{k[1]:016x} simple Alarm\n"
        f"{k[2]:016X}:2:Colon style\n"
        f"{k[2]:016X}:faac:Seeded\n")
    keys = load_keys(p)
    assert keys == [ManufacturerKey("Gate maker one", k[0], "normal"),
                    ManufacturerKey("Alarm", k[1], "simple"),
                    ManufacturerKey("Colon style", k[2], "normal"),
                    ManufacturerKey("Seeded", k[2], "faac")]


def test_format_round_trip(tmp_path):
    keys = [ManufacturerKey(f"maker {i}", key, lt)
            for i, (key, lt) in enumerate(zip(_random_keys(2, 4), ["simple", "normal", "secure", "magic_xor"]))]
    p = tmp_path / "k.txt"
    p.write_text(format_keys(keys))
    assert load_keys(p) == keys


@pytest.mark.parametrize("text,line,what", [
    ("0123456789ABCDEF normal ok\nnot-hex normal bad\n", 2, "not a 64-bit key"),
    ("0123456789ABCDE normal short\n", 1, "not a 64-bit key"),
    ("# c\n0123456789ABCDEF sideways name\n", 2, "unknown learning type"),
    ("0123456789ABCDEF:9:name\n", 1, "unknown learning type"),
    ("0123456789ABCDEF normal\n", 1, "expected 'KEY LEARNING NAME'"),
    ("0123456789ABCDEF:2\n", 1, "expected KEY:TYPE:NAME"),
    ("0123456789ABCDEF normal a\n1123456789ABCDEF normal a\n", 2, "already defined on line 1"),
])
def test_malformed_lines_name_file_and_line(tmp_path, text, line, what):
    p = tmp_path / "bad.keys"
    p.write_text(text)
    with pytest.raises(KeyManagementError) as ei:
        load_keys(p)
    msg = str(ei.value)
    assert isinstance(ei.value, InputError)
    assert str(p) in msg and f"line {line}:" in msg and what in msg
    assert "\n" not in msg


def test_missing_empty_and_binary_files(tmp_path):
    with pytest.raises(KeyManagementError, match="not found"):
        load_keys(tmp_path / "nope.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    with pytest.raises(KeyManagementError, match="no keys"):
        load_keys(empty)
    binary = tmp_path / "bin.keys"
    binary.write_bytes(b"0123456789ABCDEF normal a\n\xff\xfe\n")
    with pytest.raises(KeyManagementError, match="line 2: not UTF-8"):
        load_keys(binary)


def test_parse_keys_same_name_different_scheme_allowed():
    keys = parse_keys("0123456789ABCDEF normal m\n0123456789ABCDEF simple m\n")
    assert [k.learning for k in keys] == ["normal", "simple"]
