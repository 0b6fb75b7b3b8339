"""Honda KR5V1X / KR5V2X key fobs (2-FSK Manchester): id, event, counter, rolling code, CRC-8.

Layout (MSB first), starting at the 24-bit manufacturer code 0xEC0F62 that ends the sync:
manufacturer 24 | packet index 8 (0x08 first copy, 0x0A second) | device id 32 | event 8 |
counter 24 | rolling code 32 | CRC-8. The CRC (poly 0x2F, init 0x00) covers the manufacturer
code's last byte through the rolling code (14 bytes). ``decode`` finds the manufacturer code
anywhere in the bits (a receiver's frame includes the 0xFF.. sync before it).
"""

from __future__ import annotations

import numpy as np

from keyguard.protocols.codecs.base import Codec, checked
from keyguard.protocols.codecs.bitpack import as_bits, field, from_bytes, to_bytes
from keyguard.protocols.crc import HONDA_CRC8

MANUFACTURER = bytes([0xEC, 0x0F, 0x62])
FRAME_BITS = 136
EVENTS = {0x21: "lock", 0x22: "unlock", 0x24: "trunk", 0x27: "panic", 0x2D: "remote_start"}


def find_frame(b: np.ndarray) -> int | None:
    """Bit offset of the manufacturer code with a whole frame after it, or None."""
    pat = from_bytes(MANUFACTURER)
    if b.size < FRAME_BITS:
        return None
    win = np.lib.stride_tricks.sliding_window_view(b[: b.size - FRAME_BITS + 24], 24)
    hits = np.flatnonzero((win == pat).all(axis=1))
    return int(hits[0]) if hits.size else None


class HondaKr5vCodec(Codec):
    name = "honda_kr5v"
    check_bits = 8  # CRC-8
    description = "Honda KR5V1X/KR5V2X, 136 bits from 0xEC0F62: index | id 32 | event | counter 24 | rolling 32 | CRC-8 0x2F"
    bit_counts = (FRAME_BITS,)

    def decode(self, bits: np.ndarray, **ctx) -> dict | None:
        b = as_bits(bits)
        if b is None:
            return None
        off = find_frame(b)
        if off is None:
            return None
        by = to_bytes(b[off: off + FRAME_BITS])
        f = {"packet_index": by[3], "serial": int.from_bytes(by[4:8], "big"), "event": by[8],
             "button": by[8], "counter": int.from_bytes(by[9:12], "big"),
             "encrypted": int.from_bytes(by[12:16], "big"), "crc": by[16], "offset": off}
        return checked(f, HONDA_CRC8.compute(by[2:16]) == by[16], ctx)

    def encode(self, fields: dict) -> np.ndarray:
        body = MANUFACTURER + bytes([field(fields, "packet_index", 8, 0x08)]) \
            + field(fields, "serial", 32).to_bytes(4, "big") \
            + bytes([field(fields, "event", 8, fields.get("button"))]) \
            + field(fields, "counter", 24).to_bytes(3, "big") \
            + field(fields, "encrypted", 32).to_bytes(4, "big")
        return from_bytes(body + bytes([HONDA_CRC8.compute(body[2:])]))


CODECS = [HondaKr5vCodec()]
