"""Packing bit arrays (one bit per uint8, on-air order) into integers and back."""

from __future__ import annotations

from typing import Iterable

import numpy as np


def as_bits(bits: np.ndarray | Iterable[int]) -> np.ndarray | None:
    """The bits as a 1-D uint8 array, or None when an entry is not 0 or 1."""
    a = np.asarray(bits)
    if a.ndim != 1:
        a = a.ravel()
    if a.size and (a.min() < 0 or a.max() > 1):
        return None
    return a.astype(np.uint8, copy=False)


def msb_int(bits: np.ndarray) -> int:
    """Integer whose most significant bit is ``bits[0]``."""
    v = 0
    for b in bits.tolist():
        v = (v << 1) | b
    return v


def lsb_int(bits: np.ndarray) -> int:
    """Integer whose least significant bit is ``bits[0]`` (LSB-first transmission)."""
    return msb_int(bits[::-1])


def msb_bits(value: int, n: int) -> np.ndarray:
    """``n`` bits of ``value``, most significant first."""
    value = int(value)
    if value < 0 or value >> n:
        raise ValueError(f"value 0x{value:X} does not fit in {n} bits")
    return np.array([(value >> (n - 1 - i)) & 1 for i in range(n)], dtype=np.uint8)


def lsb_bits(value: int, n: int) -> np.ndarray:
    """``n`` bits of ``value``, least significant first."""
    return msb_bits(value, n)[::-1].copy()


def to_bytes(bits: np.ndarray) -> bytes:
    """Bits (MSB of each byte first) to bytes; the length must be a multiple of 8."""
    if bits.size % 8:
        raise ValueError("bit count is not a multiple of 8")
    return np.packbits(bits).tobytes()


def from_bytes(data: bytes, nbits: int | None = None) -> np.ndarray:
    """Bytes to bits (MSB of each byte first), keeping the first ``nbits`` (default all)."""
    bits = np.unpackbits(np.frombuffer(bytes(data), dtype=np.uint8))
    return bits if nbits is None else bits[:nbits].copy()


def field(fields: dict, name: str, width: int, default: int | None = None) -> int:
    """An integer field for encoding, checked against its width (raises ValueError)."""
    if name not in fields:
        if default is None:
            raise ValueError(f"field {name!r} is required")
        return default
    v = int(fields[name])
    if v < 0 or v >> width:
        raise ValueError(f"field {name}=0x{v:X} does not fit in {width} bits")
    return v
