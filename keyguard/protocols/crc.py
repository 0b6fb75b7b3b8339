"""Integrity checks used by key-fob protocols: CRC-n, parity, sum/xor checksums, HCS36x CRC.

Conventions follow the usual CRC catalogue parameters (width, poly, init, refin, refout,
xorout): ``poly`` is written without its top bit, MSB-first ("normal") form, whatever the
reflection. Messages are bytes; for protocols whose checked field is not a whole number of
bytes, :meth:`Crc.compute_bits` runs over a bit array (one bit per entry, MSB first).

A 256-entry table is built on first byte-wise use, so long inputs cost one lookup per byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np


def _reflect(value: int, width: int) -> int:
    out = 0
    for _ in range(width):
        out = (out << 1) | (value & 1)
        value >>= 1
    return out


@dataclass(frozen=True)
class Crc:
    """A CRC with catalogue parameters; call :meth:`compute` on bytes."""

    width: int
    poly: int
    init: int = 0
    refin: bool = False
    refout: bool = False
    xorout: int = 0
    _table: list = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 1 <= self.width <= 64:
            raise ValueError(f"CRC width must be 1..64, got {self.width}")
        top = 1 << self.width
        for name in ("poly", "init", "xorout"):
            v = getattr(self, name)
            if not 0 <= v < top:
                raise ValueError(f"CRC {name}=0x{v:X} does not fit in {self.width} bits")

    @property
    def mask(self) -> int:
        return (1 << self.width) - 1

    # bit-serial reference: works for any width and any message length in bits ----------------
    def compute_bits(self, bits: Iterable[int] | np.ndarray) -> int:
        """CRC over a bit sequence, taken in the given order (refin does not apply to bits)."""
        # a reflected register fed a bit sequence is the mirror image of a normal one fed the
        # same sequence, so refin only matters when bytes are split into bits (compute_bitwise)
        top = 1 << (self.width - 1)
        crc = self.init
        for b in np.asarray(bits, dtype=np.uint8).ravel():
            fb = ((crc & top) != 0) ^ (int(b) & 1)
            crc = (crc << 1) & self.mask
            if fb:
                crc ^= self.poly
        if self.refout:
            crc = _reflect(crc, self.width)
        return crc ^ self.xorout

    def compute_bitwise(self, data: bytes | bytearray | Iterable[int]) -> int:
        """CRC over bytes, one bit at a time (slow reference for :meth:`compute`)."""
        bits = []
        for byte in bytes(data):
            order = range(8) if self.refin else range(7, -1, -1)
            bits.extend((byte >> i) & 1 for i in order)
        return self.compute_bits(bits)

    # table-driven byte-wise ----------------------------------------------------------------
    def _build_table(self) -> list[int]:
        table = []
        if self.width >= 8:
            top = 1 << (self.width - 1)
            for i in range(256):
                c = i << (self.width - 8)
                for _ in range(8):
                    c = ((c << 1) ^ self.poly) if c & top else (c << 1)
                table.append(c & self.mask)
        else:
            # narrow CRCs: run the register left-aligned in 8 bits
            shift = 8 - self.width
            p = self.poly << shift
            for i in range(256):
                c = i
                for _ in range(8):
                    c = ((c << 1) ^ p) if c & 0x80 else (c << 1)
                table.append((c & 0xFF))
        return table

    def compute(self, data: bytes | bytearray | Iterable[int]) -> int:
        """CRC over bytes with the table-driven fast path."""
        if not self._table:
            self._table.extend(self._build_table())
        table = self._table
        data = bytes(data)
        if self.refin:
            data = bytes(_REV8[b] for b in data)
        if self.width >= 8:
            crc = self.init
            sh = self.width - 8
            m = self.mask
            for b in data:
                crc = ((crc << 8) & m) ^ table[((crc >> sh) ^ b) & 0xFF]
        else:
            shift = 8 - self.width
            crc = self.init << shift
            for b in data:
                crc = table[crc ^ b]
            crc >>= shift
        if self.refout:
            crc = _reflect(crc, self.width)
        return crc ^ self.xorout


_REV8 = bytes(_reflect(i, 8) for i in range(256))

# catalogue entries used by protocols and tests (check values over b"123456789" in tests)
CRC8 = Crc(8, 0x07)
CRC8_MAXIM = Crc(8, 0x31, refin=True, refout=True)
CRC16_CCITT_FALSE = Crc(16, 0x1021, init=0xFFFF)
CRC16_XMODEM = Crc(16, 0x1021)
CRC16_ARC = Crc(16, 0x8005, refin=True, refout=True)
CRC32 = Crc(32, 0x04C11DB7, init=0xFFFFFFFF, refin=True, refout=True, xorout=0xFFFFFFFF)

KIA_SEED_CRC8 = Crc(8, 0x7F, init=0x00)
"""KIA Seed: CRC-8 poly 0x7F, init 0x00, over the 6 bytes after the 0x0F prefix."""

HONDA_CRC8 = Crc(8, 0x2F, init=0x00)
"""Honda/Continental KR5V1X: CRC-8 poly 0x2F (init 0x00 unless the profile says otherwise)."""


def parity(bits: Iterable[int] | np.ndarray) -> int:
    """Even parity bit of a bit sequence: 1 when the number of ones is odd."""
    return int(np.bitwise_xor.reduce(np.asarray(bits, dtype=np.uint8).ravel() & 1, initial=0))


def sum_checksum(data: bytes | Iterable[int], width: int = 8) -> int:
    """Arithmetic sum of the bytes, modulo 2**width."""
    return sum(bytes(data)) & ((1 << width) - 1)


def xor_checksum(data: bytes | Iterable[int]) -> int:
    """XOR of all bytes."""
    out = 0
    for b in bytes(data):
        out ^= b
    return out


def nibble_xor(data: bytes | Iterable[int]) -> int:
    """XOR of all 4-bit nibbles of the bytes (Somfy RTS's checksum)."""
    out = 0
    for b in bytes(data):
        out ^= (b >> 4) ^ (b & 0xF)
    return out & 0xF


def hcs36x_crc(bits: Iterable[int] | np.ndarray) -> int:
    """HCS361/362 2-bit CRC over data bits in transmission order.

    For every data bit D: CRC1' = CRC0 ⊕ D and CRC0' = CRC0 ⊕ D ⊕ CRC1, starting from 0.
    Returns (CRC1 << 1) | CRC0.
    """
    c0 = c1 = 0
    for d in np.asarray(bits, dtype=np.uint8).ravel():
        d = int(d) & 1
        c0, c1 = c0 ^ d ^ c1, c0 ^ d
    return (c1 << 1) | c0
