"""The KeeLoq block cipher, its key-learning schemes and hop decryption.

KeeLoq enciphers a 32-bit block under a 64-bit key with 528 rounds of a 1-bit non-linear
feedback shift register. Encrypt round ``r``: the new bit is x0 ⊕ x16 ⊕ k[r mod 64] ⊕
NLF(x31, x26, x20, x9, x1); the block shifts right and the new bit enters at bit 31. Decrypt
runs the same register backwards (taps x31, x15, NLF(x30, x25, x19, x8, x0), key bit
k[(15 − r) mod 64], shift left, new bit at bit 0).

A KeeLoq transmitter (Microchip HCS family and its many clones) holds a *device key* derived
from a *manufacturer key* by a learning scheme:

- ``simple``: the manufacturer key is the device key;
- ``normal``: k_lo = dec(serial | 0x20000000), k_hi = dec(serial | 0x60000000) under the
  manufacturer key (serial = the 28-bit serial number);
- ``secure``: k_hi = dec(serial), k_lo = dec(seed) under the manufacturer key, with the 32-bit
  seed the fob sends once in its learn mode;
- ``faac``: FAAC SLH's seed scheme, k_hi = enc(seed), k_lo = enc((seed >> 16) << 16 | 0x544D);
- ``magic_xor``: no cipher in the derivation, device key = (serial << 32 | serial) ⊕ key.

Two speeds: :func:`encrypt`/:func:`decrypt` work on Python ints (one block, about 0.2 ms), and
:func:`encrypt_batch`/:func:`decrypt_batch` run the 528 rounds once over numpy arrays, so one
hop under many candidate keys, or many hops under one key, costs a few vector operations per
round (see ``bench/bench_keeloq.py``).

No manufacturer keys ship with keyguard; callers load them from a user file
(:mod:`keyguard.protocols.keys`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

NLF = 0x3A5C742E
ROUNDS = 528
MASK32 = 0xFFFFFFFF
MASK64 = 0xFFFFFFFFFFFFFFFF

LEARNING_TYPES = ("simple", "normal", "secure", "faac", "magic_xor")
"""Learning schemes :func:`device_key` knows; ``secure`` and ``faac`` need the fob's seed."""


# -------------------------------------------------------------------------------------------
# scalar cipher
# -------------------------------------------------------------------------------------------
def _key_bits(key: int) -> list[int]:
    return [(key >> i) & 1 for i in range(64)]


def encrypt(block: int, key: int) -> int:
    """Encrypt one 32-bit block under a 64-bit key (528 rounds)."""
    x = int(block) & MASK32
    kb = _key_bits(int(key) & MASK64)
    for r in range(ROUNDS):
        g = (((x >> 31) & 1) << 4) | (((x >> 26) & 1) << 3) | (((x >> 20) & 1) << 2) \
            | (((x >> 9) & 1) << 1) | ((x >> 1) & 1)
        bit = (x ^ (x >> 16) ^ kb[r & 63] ^ (NLF >> g)) & 1
        x = (x >> 1) | (bit << 31)
    return x


def decrypt(block: int, key: int) -> int:
    """Decrypt one 32-bit block under a 64-bit key (528 rounds); inverse of :func:`encrypt`."""
    x = int(block) & MASK32
    kb = _key_bits(int(key) & MASK64)
    for r in range(ROUNDS):
        g = (((x >> 30) & 1) << 4) | (((x >> 25) & 1) << 3) | (((x >> 19) & 1) << 2) \
            | (((x >> 8) & 1) << 1) | (x & 1)
        bit = ((x >> 31) ^ (x >> 15) ^ kb[(15 - r) & 63] ^ (NLF >> g)) & 1
        x = ((x << 1) & MASK32) | bit
    return x


# -------------------------------------------------------------------------------------------
# vectorised cipher
# -------------------------------------------------------------------------------------------
_CHUNK = 1 << 15  # elements per pass: keeps the key-bit table (64 × chunk × 4 B) at 8 MB


def _batch(blocks: np.ndarray | Sequence[int] | int, keys: np.ndarray | Sequence[int] | int,
           rounds_fn) -> np.ndarray:
    """Broadcast blocks against keys, run ``rounds_fn`` chunk by chunk (bounded memory)."""
    x = np.asarray(blocks, dtype=np.uint64) & np.uint64(MASK32)
    k = np.asarray(keys, dtype=np.uint64)
    shape = np.broadcast_shapes(x.shape, k.shape)
    out = np.empty(shape, dtype=np.uint32)
    flat_out = out.reshape(-1)
    shifts = np.arange(64, dtype=np.uint64)
    if k.size == 1:
        # one key: its 64 bits are scalars broadcast over every block
        kb = ((k.reshape(-1)[0] >> shifts) & np.uint64(1)).astype(np.uint32)
        xs = np.broadcast_to(x, shape).reshape(-1)
        for lo in range(0, xs.size, _CHUNK):
            flat_out[lo:lo + _CHUNK] = rounds_fn(xs[lo:lo + _CHUNK].astype(np.uint32), kb)
        return out
    xs = np.broadcast_to(x, shape).reshape(-1)
    ks = np.broadcast_to(k, shape).reshape(-1)
    for lo in range(0, xs.size, _CHUNK):
        kc = ks[lo:lo + _CHUNK]
        kb = ((kc[None, :] >> shifts[:, None]) & np.uint64(1)).astype(np.uint32)
        flat_out[lo:lo + _CHUNK] = rounds_fn(xs[lo:lo + _CHUNK].astype(np.uint32), kb)
    return out


def _nlf_out(x: np.ndarray, shifts: tuple[int, ...], g: np.ndarray, t: np.ndarray) -> None:
    """g = NLF output bit (in bit 0, higher bits garbage) for the five taps brought into bits
    4..0 by right shifts ``shifts``."""
    np.right_shift(x, shifts[0], out=g)
    g &= np.uint32(16)
    for shift, mask in zip(shifts[1:], (8, 4, 2, 1)):
        np.right_shift(x, shift, out=t)
        t &= np.uint32(mask)
        g |= t
    np.right_shift(np.uint32(NLF), g, out=g)


_ENC_SHIFTS = (27, 23, 18, 8, 1)   # taps x31, x26, x20, x9, x1 -> bits 4..0
_DEC_SHIFTS = (26, 22, 17, 7, 0)   # taps x30, x25, x19, x8, x0 -> bits 4..0


def _encrypt_rounds(x: np.ndarray, kbits: np.ndarray) -> np.ndarray:
    one = np.uint32(1)
    g, t = np.empty_like(x), np.empty_like(x)
    for r in range(ROUNDS):
        _nlf_out(x, _ENC_SHIFTS, g, t)
        g ^= x                       # x0
        np.right_shift(x, 16, out=t)
        g ^= t                       # x16
        g ^= kbits[r & 63]
        g &= one
        x >>= one
        g <<= np.uint32(31)
        x |= g
    return x


def _decrypt_rounds(x: np.ndarray, kbits: np.ndarray) -> np.ndarray:
    one = np.uint32(1)
    g, t = np.empty_like(x), np.empty_like(x)
    for r in range(ROUNDS):
        _nlf_out(x, _DEC_SHIFTS, g, t)
        np.right_shift(x, 31, out=t)
        g ^= t                       # x31
        np.right_shift(x, 15, out=t)
        g ^= t                       # x15
        g ^= kbits[(15 - r) & 63]
        g &= one
        x <<= one
        x |= g
    return x


def encrypt_batch(blocks: np.ndarray | Sequence[int] | int,
                  keys: np.ndarray | Sequence[int] | int) -> np.ndarray:
    """Encrypt blocks under keys (numpy broadcasting: one block × many keys, many × one, n × n).

    Returns a uint32 array of the broadcast shape. Works in chunks of 32768 elements, so
    memory stays bounded (about 10 MB) whatever the input size.
    """
    return _batch(blocks, keys, _encrypt_rounds)


def decrypt_batch(blocks: np.ndarray | Sequence[int] | int,
                  keys: np.ndarray | Sequence[int] | int) -> np.ndarray:
    """Decrypt blocks under keys (numpy broadcasting, chunked); inverse of :func:`encrypt_batch`."""
    return _batch(blocks, keys, _decrypt_rounds)


# -------------------------------------------------------------------------------------------
# learning schemes
# -------------------------------------------------------------------------------------------
def normal_learning_key(serial: int, manufacturer_key: int) -> int:
    """Device key under the normal learning scheme (serial: 28 bits)."""
    s = int(serial) & 0x0FFFFFFF
    lo = decrypt(s | 0x20000000, manufacturer_key)
    hi = decrypt(s | 0x60000000, manufacturer_key)
    return (hi << 32) | lo


def secure_learning_key(serial: int, seed: int, manufacturer_key: int) -> int:
    """Device key under the seed-based secure learning scheme (serial 28 bits, seed 32 bits)."""
    hi = decrypt(int(serial) & 0x0FFFFFFF, manufacturer_key)
    lo = decrypt(int(seed) & MASK32, manufacturer_key)
    return (hi << 32) | lo


def faac_learning_key(seed: int, manufacturer_key: int) -> int:
    """Device key under FAAC SLH's seed learning (seed: 32 bits)."""
    seed = int(seed) & MASK32
    hi = encrypt(seed, manufacturer_key)
    lo = encrypt(((seed >> 16) << 16) | 0x544D, manufacturer_key)
    return (hi << 32) | lo


def magic_xor_learning_key(serial: int, xor_key: int) -> int:
    """Device key under the "magic XOR" scheme: the 28-bit serial doubled, XORed with the key."""
    s = int(serial) & 0x0FFFFFFF
    return ((s << 32) | s) ^ (int(xor_key) & MASK64)


def device_key(learning: str, manufacturer_key: int, serial: int = 0,
               seed: int | None = None) -> int | None:
    """Device key for a learning scheme; None when the scheme needs a seed and none is given."""
    if learning == "simple":
        return int(manufacturer_key) & MASK64
    if learning == "normal":
        return normal_learning_key(serial, manufacturer_key)
    if learning == "secure":
        return None if seed is None else secure_learning_key(serial, seed, manufacturer_key)
    if learning == "faac":
        return None if seed is None else faac_learning_key(seed, manufacturer_key)
    if learning == "magic_xor":
        return magic_xor_learning_key(serial, manufacturer_key)
    raise ValueError(f"unknown KeeLoq learning type {learning!r}; known: {', '.join(LEARNING_TYPES)}")


def normal_learning_keys(serials: np.ndarray | Sequence[int], manufacturer_key: int) -> np.ndarray:
    """Vectorised :func:`normal_learning_key` for many serials under one manufacturer key (uint64)."""
    s = np.asarray(serials, dtype=np.uint64) & np.uint64(0x0FFFFFFF)
    lo = decrypt_batch(s | np.uint64(0x20000000), manufacturer_key).astype(np.uint64)
    hi = decrypt_batch(s | np.uint64(0x60000000), manufacturer_key).astype(np.uint64)
    return (hi << np.uint64(32)) | lo


# -------------------------------------------------------------------------------------------
# HCS hop layout and plausibility
# -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hop:
    """A decrypted HCS hop: button 4 | overflow 2 | discriminator 10 | counter 16 (MSB → LSB)."""

    button: int
    overflow: int
    discriminator: int
    counter: int

    @classmethod
    def unpack(cls, plain: int) -> "Hop":
        plain = int(plain)
        return cls(button=(plain >> 28) & 0xF, overflow=(plain >> 26) & 0x3,
                   discriminator=(plain >> 16) & 0x3FF, counter=plain & 0xFFFF)

    def pack(self) -> int:
        return ((self.button & 0xF) << 28) | ((self.overflow & 0x3) << 26) \
            | ((self.discriminator & 0x3FF) << 16) | (self.counter & 0xFFFF)


def hop_plausible(plain: int, serial: int, button: int, disc_bits: int = 10) -> bool:
    """True when a decrypted HCS hop fits the clear part of its frame.

    The decrypted button must equal the clear button and the discriminator's ``disc_bits`` low
    bits must equal the serial's (HCS200/300/301 program the discriminator with the serial's
    low 10 bits; some fobs use fewer, pass ``disc_bits`` for them). A random key passes with
    probability 2^-(4 + disc_bits).
    """
    h = Hop.unpack(plain)
    mask = (1 << disc_bits) - 1
    return h.button == (int(button) & 0xF) and (h.discriminator & mask) == (int(serial) & mask)


@dataclass(frozen=True)
class ManufacturerKey:
    """A named manufacturer key with the learning scheme it is used with."""

    name: str
    key: int
    learning: str = "normal"


@dataclass(frozen=True)
class HopResult:
    """A hop that decrypted plausibly: which key and scheme, and the hop's fields."""

    key_name: str
    learning: str
    device_key: int
    plain: int
    button: int
    overflow: int
    discriminator: int
    counter: int


def decrypt_hop(hop: int, serial: int, button: int,
                manufacturer_keys: Iterable[ManufacturerKey],
                seed: int | None = None,
                learnings: Sequence[str] | None = None,
                disc_bits: int = 10) -> HopResult | None:
    """Decrypt an HCS-style hop, trying every manufacturer key with its learning scheme.

    ``learnings`` overrides the scheme stored with each key (then every listed scheme is tried
    with every key). Seeded schemes are skipped when ``seed`` is None. Returns the first
    plausible result (see :func:`hop_plausible`), or None.
    """
    for mk in manufacturer_keys:
        for learning in (learnings or (mk.learning,)):
            dk = device_key(learning, mk.key, serial=serial, seed=seed)
            if dk is None:
                continue
            plain = decrypt(hop, dk)
            if hop_plausible(plain, serial, button, disc_bits):
                h = Hop.unpack(plain)
                return HopResult(mk.name, learning, dk, plain, h.button, h.overflow,
                                 h.discriminator, h.counter)
    return None


def find_device_keys(hop: int, serial: int, button: int, candidate_keys: np.ndarray,
                     disc_bits: int = 10) -> np.ndarray:
    """Indices of the candidate device keys (uint64 array) under which ``hop`` decrypts plausibly.

    One vectorised pass; used for brute checks and for trying large key lists at once.
    """
    plain = decrypt_batch(int(hop), np.asarray(candidate_keys, dtype=np.uint64))
    mask = np.uint32((1 << disc_bits) - 1)
    ok = ((plain >> np.uint32(28)) == np.uint32(int(button) & 0xF)) \
        & (((plain >> np.uint32(16)) & mask) == (np.uint32(int(serial) & 0xFFFFFFFF) & mask))
    return np.flatnonzero(ok)
