"""Somfy RTS (Telis remotes and shades): 7 bytes, XOR-chained, checksum nibble.

After Manchester decoding (a rising edge is 1) a frame is 56 bits, MSB first, byte i sent as
``obf[i] = clear[i] ⊕ obf[i-1]`` (byte 0 as is). The clear bytes are:
key 8 | control 4 | checksum 4 | rolling counter 16 (big-endian) | address 24 (little-endian).
The checksum makes the XOR of all 14 nibbles zero. It cannot see a single flipped on-air bit
outside the last byte: through the XOR chain that flip changes the same bit of two clear
bytes, and the two nibble changes cancel.

``button`` is the control nibble, except for remotes that send control 0xF and put the button
code in the key byte's low nibble (the TEL-FIX quirk seen in rtl_433's Somfy test codes).
The 80-bit Keytis variant is not handled.
"""

from __future__ import annotations

import numpy as np

from keyguard.protocols.codecs.base import Codec, checked
from keyguard.protocols.codecs.bitpack import as_bits, field, from_bytes, to_bytes
from keyguard.protocols.crc import nibble_xor


def deobfuscate(frame: bytes) -> bytes:
    """Clear bytes from the XOR-chained bytes sent on air."""
    return bytes([frame[0]] + [frame[i] ^ frame[i - 1] for i in range(1, len(frame))])


def obfuscate(clear: bytes) -> bytes:
    """On-air bytes from clear bytes (inverse of :func:`deobfuscate`)."""
    out = bytearray(clear[:1])
    for b in clear[1:]:
        out.append(b ^ out[-1])
    return bytes(out)


class SomfyRtsCodec(Codec):
    name = "somfy_rts"
    check_bits = 4  # the nibble checksum
    description = "Somfy RTS, 56 bits MSB first: XOR-chained key | control | checksum | counter 16 | address 24 LE"
    bit_counts = (56,)

    def decode(self, bits: np.ndarray, **ctx) -> dict | None:
        b = as_bits(bits)
        if b is None or b.size != 56:
            return None
        c = deobfuscate(to_bytes(b))
        control = c[1] >> 4
        f = {"key": c[0], "control": control, "checksum": c[1] & 0xF,
             "counter": int.from_bytes(c[2:4], "big"),
             "address": int.from_bytes(c[4:7], "little")}
        f["serial"] = f["address"]
        f["button"] = (c[0] & 0xF) if control == 0xF else control
        return checked(f, nibble_xor(c) == 0, ctx)

    def encode(self, fields: dict) -> np.ndarray:
        key = field(fields, "key", 8)
        control = field(fields, "control", 4)
        counter = field(fields, "counter", 16)
        address = field(fields, "address", 24, fields.get("serial"))
        clear = bytearray([key, control << 4]) + counter.to_bytes(2, "big") \
            + address.to_bytes(3, "little")
        clear[1] |= nibble_xor(clear)
        return from_bytes(obfuscate(bytes(clear)))


CODECS = [SomfyRtsCodec()]
