"""Scher-Khan Magicar / Magic Code car alarms: the variant follows from the bit count.

Bits are those after the start pair, MSB first; Flipper counts one more (its count includes the
start pair), so Flipper's "51 bit" variant is 50 bits here. Known variants (Flipper's count):
35 Magic Code static, 51 Magic Code dynamic, 57 Magic Code PRO/PRO2, 63 Magic Code response,
64 Magicar response, 81/82 Magic Code PRO response.

Only the 51-bit dynamic variant has a public field layout: serial 28 | button 4 | serial low
nibble | ~button | counter 16 (serial = value bits 51–28 (top nibble masked) with bits 23–20 as
its low nibble). The inverted-button nibble is its check. Other variants give the raw value.
"""

from __future__ import annotations

import numpy as np

from keyguard.protocols.codecs.base import Codec, checked
from keyguard.protocols.codecs.bitpack import as_bits, msb_bits, msb_int

VARIANTS = {34: "magic_code_static", 50: "magic_code_dynamic", 56: "magic_code_pro",
            62: "magic_code_response", 63: "magicar_response", 80: "magic_code_pro_response",
            81: "magic_code_pro_response"}


class ScherKhanCodec(Codec):
    name = "scher_khan"
    check_bits = 4  # the inverted button nibble
    description = "Scher-Khan Magicar/Magic Code: variant by bit count; 51-bit dynamic has serial/button/counter"
    bit_counts = tuple(sorted(VARIANTS))

    def decode(self, bits: np.ndarray, **ctx) -> dict | None:
        b = as_bits(bits)
        if b is None or b.size not in VARIANTS:
            return None
        v = msb_int(b)
        f: dict = {"variant": VARIANTS[b.size], "value": v}
        if b.size != 50:
            f["integrity"] = "none"
            return f
        button = (v >> 24) & 0xF
        f.update(serial=((v >> 24) & 0xFFFFFF0) | ((v >> 20) & 0xF), button=button,
                 counter=v & 0xFFFF)
        return checked(f, ((v >> 16) & 0xF) == (~button & 0xF), ctx)

    def encode(self, fields: dict) -> np.ndarray:
        variant = fields.get("variant", "magic_code_dynamic")
        n = {name: k for k, name in VARIANTS.items()}.get(variant)
        if n is None:
            raise ValueError(f"unknown Scher-Khan variant {variant!r}")
        if n != 50:
            return msb_bits(int(fields["value"]), n)
        serial, button, counter = int(fields["serial"]), int(fields["button"]), int(fields["counter"])
        if serial >> 26 or button >> 4 or counter >> 16:
            raise ValueError("serial must fit 26 bits, button 4, counter 16")
        v = ((serial & 0xFFFFFF0) << 24) | (button << 24) | ((serial & 0xF) << 20) \
            | ((~button & 0xF) << 16) | counter
        return msb_bits(v, 50)


CODECS = [ScherKhanCodec()]
