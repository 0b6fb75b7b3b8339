"""KIA Seed (Hyundai/Kia fobs, 2-FSK): counter in clear, CRC-8.

The 64-bit word, MSB first: 0x0F | counter 16 | serial 28 | button 4 | CRC-8. The CRC (poly
0x7F, init 0x00) runs over the six bytes after the 0x0F prefix. On air the frame follows a
preamble of short pulse-length pairs, which slice as 0 bits, so the prefix's four leading zeros
cannot be told from the preamble: the frame starts at the start pair (a long pair, bit 1) and
the codec takes the last 60 bits (1111 + 56 bits); any bits before them must be 0.
"""

from __future__ import annotations

import numpy as np

from keyguard.protocols.codecs.base import Codec, checked
from keyguard.protocols.codecs.bitpack import as_bits, field, msb_bits, msb_int
from keyguard.protocols.crc import KIA_SEED_CRC8


class KiaSeedCodec(Codec):
    name = "kia_seed"
    check_bits = 8  # CRC-8
    description = "KIA Seed, 60 bits MSB first after the preamble: 0xF | counter 16 | serial 28 | button 4 | CRC-8"
    bit_counts = tuple(range(60, 65))

    def decode(self, bits: np.ndarray, **ctx) -> dict | None:
        b = as_bits(bits)
        if b is None or not 60 <= b.size <= 64 or b[: b.size - 60].any():
            return None
        word = msb_int(b[-60:])
        if word >> 56 != 0xF:
            return None
        payload = ((word >> 8) & 0xFFFFFFFFFFFF).to_bytes(6, "big")
        crc = word & 0xFF
        f = {"counter": (word >> 40) & 0xFFFF, "serial": (word >> 12) & 0x0FFFFFFF,
             "button": (word >> 8) & 0xF, "crc": crc}
        return checked(f, KIA_SEED_CRC8.compute(payload) == crc, ctx)

    def encode(self, fields: dict) -> np.ndarray:
        body = (field(fields, "counter", 16) << 32) | (field(fields, "serial", 28) << 4) \
            | field(fields, "button", 4)
        crc = KIA_SEED_CRC8.compute(body.to_bytes(6, "big"))
        return msb_bits((0xF << 56) | (body << 8) | crc, 60)


CODECS = [KiaSeedCodec()]
