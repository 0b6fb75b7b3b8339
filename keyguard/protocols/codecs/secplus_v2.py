"""Chamberlain/LiftMaster Security+ 2.0: a 28-bit rolling and a 40-bit fixed code in two packets.

Each on-air packet (Manchester, rising edge = 1) is a 20-bit preamble (16 zeros, 4 ones), a
2-bit frame id (00 first packet, 01 second) and a 40-bit half (64 with the optional 32-bit data
field). A half is: packet type 2 (00 plain, 01 with data) | indicator 8 | payload 30 (or 54).

Rolling code: bit-reversed (28 bits) and written as 18 base-3 digits d0..d17 (d0 most
significant); packet 1 carries d14–d17, d6–d9, d1, packet 2 d10–d13, d2–d5, d0, each digit
as 2 bits. A packet's first 4 digits are its indicator; the indicator's first two digits select
the order and its last two the inversion of three 10-bit (18 with data) parts: fixed-half bits
0–9, fixed-half bits 10–19 and the remaining rolling digits; the payload interleaves them bit by
bit. The fixed code's first 20 bits travel in packet 1, the last 20 in packet 2. The data
field's nibbles XOR (with fixed bits 32–35) to zero. ``button`` is fixed >> 32 and ``serial``
(the remote id) its low 32 bits.

``decode`` needs both packets, concatenated in either order with frame ids (84/132 bits), with
preamble and frame id (124/172 bits, Flipper's 62-bit form twice), or bare halves in order
(80/128 bits). ``decode_half`` reads one packet.
"""

from __future__ import annotations

import numpy as np

from keyguard.protocols.codecs.base import Codec
from keyguard.protocols.codecs.bitpack import as_bits, field, msb_bits, msb_int

PREAMBLE = np.array([0] * 16 + [1] * 4, dtype=np.uint8)

# indicator digit pair (as 4 bits) -> which part goes to payload slots 0, 1, 2
_ORDER = {0b0000: (0, 2, 1), 0b0001: (2, 0, 1), 0b0010: (0, 1, 2),
          0b0100: (1, 2, 0), 0b0101: (1, 0, 2), 0b0110: (2, 1, 0),
          0b1000: (1, 2, 0), 0b1001: (2, 1, 0), 0b1010: (0, 1, 2)}
# indicator digit pair -> whether payload slots 0, 1, 2 are inverted
_INVERT = {0b0000: (1, 1, 0), 0b0001: (0, 1, 0), 0b0010: (0, 0, 1),
           0b0100: (1, 1, 1), 0b0101: (1, 0, 1), 0b0110: (0, 1, 1),
           0b1000: (1, 0, 0), 0b1001: (0, 0, 0), 0b1010: (1, 0, 1)}


def _rev28(v: int) -> int:
    return int(f"{v:028b}"[::-1], 2)


def _digits_to_bits(digits: list[int]) -> list[int]:
    return [b for d in digits for b in ((d >> 1) & 1, d & 1)]


def decode_half(half: np.ndarray) -> dict | None:
    """One 40/64-bit half: packet type, rolling digits (9), fixed bits (20), data bits (16)."""
    h = as_bits(half)
    if h is None or h.size not in (40, 64):
        return None
    ptype = int(h[0]) * 2 + int(h[1])
    if (ptype, h.size) not in ((0, 40), (1, 64)):
        return None
    ind = h[2:10]
    key_o, key_i = msb_int(ind[:4]), msb_int(ind[4:])
    if key_o not in _ORDER or key_i not in _INVERT:
        return None
    payload = h[10:]
    order, invert = _ORDER[key_o], _INVERT[key_i]
    parts: list[np.ndarray] = [np.empty(0, np.uint8)] * 3
    for slot in range(3):
        p = payload[slot::3]
        parts[order[slot]] = p ^ 1 if invert[slot] else p
    bits = ind.tolist() + parts[2].tolist()
    digits = [bits[i] * 2 + bits[i + 1] for i in range(0, len(bits), 2)]
    if 3 in digits:
        return None
    data = None
    if ptype == 1:
        if digits[:4] != digits[-4:]:
            return None
        digits = digits[:-4]
        data = parts[0][10:].tolist() + parts[1][10:].tolist()
    return {"ptype": ptype, "digits": digits, "fixed": parts[0][:10].tolist() + parts[1][:10].tolist(),
            "data": data}


def _encode_half(digits: list[int], fixed_bits: list[int], data_bits: list[int] | None) -> list[int]:
    ind = _digits_to_bits(digits[:4])
    parts = [list(fixed_bits[:10]), list(fixed_bits[10:]), _digits_to_bits(digits[4:])]
    if data_bits is not None:
        parts[0] += data_bits[:8]
        parts[1] += data_bits[8:]
        parts[2] += ind
    order = _ORDER[msb_int(np.array(ind[:4]))]
    invert = _INVERT[msb_int(np.array(ind[4:]))]
    slots = [[b ^ invert[s] for b in parts[order[s]]] for s in range(3)]
    payload = [slots[s][i] for i in range(len(slots[0])) for s in range(3)]
    ptype = [0, 0] if data_bits is None else [0, 1]
    return ptype + ind + payload


def _data_parity_ok(fixed: int, data: int) -> bool:
    p = (fixed >> 32) & 0xF
    for sh in range(0, 32, 4):
        p ^= (data >> sh) & 0xF
    return p == 0


def _split(b: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The two halves in packet order from any accepted layout."""
    n = b.size
    if n in (80, 128):
        return b[: n // 2], b[n // 2:]
    if n in (124, 172):
        a, c = b[: n // 2], b[n // 2:]
        if not (np.array_equal(a[:20], PREAMBLE) and np.array_equal(c[:20], PREAMBLE)):
            return None
        a, c = a[20:], c[20:]
    elif n in (84, 132):
        a, c = b[: n // 2], b[n // 2:]
    else:
        return None
    ids = (int(a[0]) * 2 + int(a[1]), int(c[0]) * 2 + int(c[1]))
    if ids == (0, 1):
        return a[2:], c[2:]
    if ids == (1, 0):
        return c[2:], a[2:]
    return None


class SecplusV2Codec(Codec):
    name = "secplus_v2"
    check_bits = 4  # the 4-bit parity of the data nibbles
    description = "Security+ 2.0, two packets: 28-bit rolling (ternary, scrambled) + 40-bit fixed"
    bit_counts = (80, 84, 124, 128, 132, 172)

    def decode(self, bits: np.ndarray, **ctx) -> dict | None:
        b = as_bits(bits)
        if b is None:
            return None
        halves = _split(b)
        if halves is None:
            return None
        h1, h2 = decode_half(halves[0]), decode_half(halves[1])
        if h1 is None or h2 is None or h1["ptype"] != h2["ptype"]:
            return None
        r1, r2 = h1["digits"], h2["digits"]
        digits = r2[8:] + r1[8:] + r2[4:8] + r1[4:8] + r2[:4] + r1[:4]
        v = 0
        for d in digits:
            v = v * 3 + d
        if v >> 28:
            return None
        rolling = _rev28(v)
        fixed = msb_int(np.array(h1["fixed"] + h2["fixed"], dtype=np.uint8))
        f = {"rolling": rolling, "fixed": fixed, "counter": rolling,
             "button": fixed >> 32, "serial": fixed & 0xFFFFFFFF}
        if h1["data"] is not None:
            data = msb_int(np.array(h1["data"] + h2["data"], dtype=np.uint8))
            f["data"] = data
            if not _data_parity_ok(fixed, data):
                if ctx.get("check", True):
                    return None
                f["integrity"] = "bad"
                return f
            f["integrity"] = "ok"
        else:
            f["integrity"] = "none"
        return f

    def encode(self, fields: dict) -> np.ndarray:
        """Both packets as sent: preamble | frame id | half, twice (124 bits, 172 with data)."""
        rolling = field(fields, "rolling", 28, fields.get("counter"))
        if "fixed" in fields:
            fixed = field(fields, "fixed", 40)
        else:
            fixed = (field(fields, "button", 8) << 32) | field(fields, "serial", 32)
        v = _rev28(rolling)
        d = [(v // 3 ** (17 - i)) % 3 for i in range(18)]
        r1 = d[14:18] + d[6:10] + d[1:2]
        r2 = d[10:14] + d[2:6] + d[0:1]
        fb = msb_bits(fixed, 40).tolist()
        data_bits: list[list[int] | None] = [None, None]
        if fields.get("data") is not None:
            data = field(fields, "data", 32) & 0xFFFF0FFF
            p = (fixed >> 32) & 0xF
            for sh in range(0, 32, 4):
                p ^= (data >> sh) & 0xF
            db = msb_bits(data | (p << 12), 32).tolist()
            data_bits = [db[:16], db[16:]]
        out = []
        for fid, (r, fx, dbits) in enumerate(((r1, fb[:20], data_bits[0]), (r2, fb[20:], data_bits[1]))):
            out += PREAMBLE.tolist() + [0, fid] + _encode_half(r, fx, dbits)
        return np.array(out, dtype=np.uint8)


def split_packets(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two on-air packets of :meth:`SecplusV2Codec.encode`'s output (for rendering bursts)."""
    b = np.asarray(bits, dtype=np.uint8)
    return b[: b.size // 2].copy(), b[b.size // 2:].copy()


CODECS = [SecplusV2Codec()]
