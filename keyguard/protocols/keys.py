"""Loading KeeLoq manufacturer keys from a user-supplied file.

keyguard ships no manufacturer keys. An analyst who holds keys for their own equipment writes
them to a text file, one key per line::

    # comment lines and blank lines are ignored
    # key (16 hex digits)   learning   name (rest of the line, may contain spaces)
    0123456789ABCDEF        normal     Example gate maker
    0x0011223344556677      simple     Example alarm

Learning is one of ``simple``, ``normal``, ``secure``, ``faac``, ``magic_xor`` (see
:mod:`keyguard.protocols.keeloq`). Lines in the colon form ``KEY:TYPE:NAME`` are accepted too,
with TYPE either such a word or the numeric codes many keystore files use (1 simple, 2 normal,
3 secure, 4 magic_xor, 5 faac). Any other line is an error naming the file and the line.
"""

from __future__ import annotations

import re
from pathlib import Path

from keyguard.errors import KeyManagementError
from keyguard.protocols.keeloq import LEARNING_TYPES, ManufacturerKey

_NUMERIC_LEARNING = {"1": "simple", "2": "normal", "3": "secure", "4": "magic_xor", "5": "faac"}
_HEX64 = re.compile(r"^(?:0[xX])?([0-9A-Fa-f]{16})$")


def _parse_key(text: str, path: Path, lineno: int) -> int:
    m = _HEX64.match(text)
    if not m:
        raise KeyManagementError(
            f"line {lineno}: {text!r} is not a 64-bit key", path,
            "write the key as 16 hex digits, optionally prefixed by 0x")
    return int(m.group(1), 16)


def _parse_learning(text: str, path: Path, lineno: int) -> str:
    word = _NUMERIC_LEARNING.get(text, text.lower())
    if word not in LEARNING_TYPES:
        raise KeyManagementError(
            f"line {lineno}: unknown learning type {text!r}", path,
            f"use one of {', '.join(LEARNING_TYPES)}")
    return word


def parse_keys(text: str, path: str | Path = "<string>") -> list[ManufacturerKey]:
    """Parse manufacturer-key text (format in the module docstring)."""
    path = Path(path)
    keys: list[ManufacturerKey] = []
    seen: dict[str, int] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if ":" in line and " " not in line.split(":", 1)[0]:
            parts = line.split(":", 2)
            if len(parts) != 3 or not parts[2].strip():
                raise KeyManagementError(
                    f"line {lineno}: expected KEY:TYPE:NAME", path,
                    "or write 'KEY LEARNING NAME' separated by spaces")
            key_s, learn_s, name = (p.strip() for p in parts)
        else:
            parts = line.split(None, 2)
            if len(parts) != 3:
                raise KeyManagementError(
                    f"line {lineno}: expected 'KEY LEARNING NAME', got {len(parts)} field(s)", path,
                    "each line needs a 16-hex-digit key, a learning type and a name")
            key_s, learn_s, name = parts
        key = _parse_key(key_s, path, lineno)
        learning = _parse_learning(learn_s, path, lineno)
        tag = f"{name}/{learning}"
        if tag in seen:
            raise KeyManagementError(
                f"line {lineno}: key {name!r} ({learning}) already defined on line {seen[tag]}",
                path, "give each key a distinct name")
        seen[tag] = lineno
        keys.append(ManufacturerKey(name=name, key=key, learning=learning))
    return keys


def load_keys(path: str | Path) -> list[ManufacturerKey]:
    """Load a manufacturer-key file; raises KeyManagementError for a missing or malformed file."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise KeyManagementError("key file not found", p, "check the path") from None
    except OSError as exc:
        raise KeyManagementError(f"cannot read key file ({exc.strerror})", p) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise KeyManagementError(f"line {line}: not UTF-8 text", p,
                                 "save the key file as plain text") from None
    keys = parse_keys(text, p)
    if not keys:
        raise KeyManagementError("no keys in key file", p,
                                 "add lines of the form 'KEY LEARNING NAME'")
    return keys


def format_keys(keys: list[ManufacturerKey]) -> str:
    """Write keys in the file format :func:`parse_keys` reads (used to build test files)."""
    lines = ["# keyguard KeeLoq manufacturer keys: KEY LEARNING NAME"]
    lines += [f"{k.key:016X} {k.learning} {k.name}" for k in keys]
    return "\n".join(lines) + "\n"
