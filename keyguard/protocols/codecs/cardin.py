"""Cardin S466 fixed-code remotes: nine three-position DIP switches and a button pattern.

24 bits, bytes b0 b1 b2 in on-air order (MSB first). The DIP switches are spread over two
bytes: for switch k its bit in b0 says "not off" and the same bit in b1 "on", so the pair
(0, x) is ``-``, (1, 0) is ``o`` and (1, 1) is ``+``. Switches 1–5 use bit masks 0x08, 0x10,
0x20, 0x40, 0x80 of b0/b1, switches 7–9 masks 0x01, 0x02, 0x04; switch 6 sits in b2 (0x80
"not off", 0x40 "on"). b2's bits 0x30 are always 0 and its low nibble tells which right-button
contacts are closed: 3 → ``11R``, 6 → ``10R``, 9 → ``01R``, 12 → ``00L?`` (the left button, or
a right button wired like it). Layout as published with rtl_433's test captures, re-implemented.
"""

from __future__ import annotations

import numpy as np

from keyguard.protocols.codecs.base import Codec
from keyguard.protocols.codecs.bitpack import as_bits, msb_bits, msb_int

#: (byte-pair mask of b0/b1, or None for switch 6 in b2) per DIP switch 1..9
_DIP_MASKS = (0x08, 0x10, 0x20, 0x40, 0x80, None, 0x01, 0x02, 0x04)
#: right-button contact patterns by b2's low nibble
BUTTONS = {3: "11R", 6: "10R", 9: "01R", 12: "00L?"}


class CardinS466Codec(Codec):
    name = "cardin_s466"
    description = "Cardin S466: 9 tri-state DIP switches (two bits each) + right-button pattern"
    bit_counts = (24,)
    check_bits = 4  # two always-zero bits and 4 of 16 button nibbles are valid

    def decode(self, bits: np.ndarray, **ctx) -> dict | None:
        b = as_bits(bits)
        if b is None or b.size != 24:
            return None
        v = msb_int(b)
        b0, b1, b2 = v >> 16, (v >> 8) & 0xFF, v & 0xFF
        if b2 & 0x30 or (b2 & 0x0F) not in BUTTONS:
            return None
        dips = []
        for mask in _DIP_MASKS:
            off, on = ((b0 & mask, b1 & mask) if mask is not None else (b2 & 0x80, b2 & 0x40))
            dips.append("-" if not off else ("+" if on else "o"))
        return {"dipswitch": "".join(dips), "rbutton": BUTTONS[b2 & 0x0F],
                "button": b2 & 0x0F, "dip_code": (v >> 6) & 0x3FFFF, "integrity": "none"}

    def encode(self, fields: dict) -> np.ndarray:
        button = int(fields.get("button", 12))
        if button not in BUTTONS:
            raise ValueError(f"button must be one of {sorted(BUTTONS)}")
        if "dip_code" in fields:
            code = int(fields["dip_code"])
            if code >> 18:
                raise ValueError("dip_code must fit 18 bits")
            return msb_bits((code << 6) | button, 24)
        sw = str(fields["dipswitch"])
        if len(sw) != 9 or set(sw) - set("+o-"):
            raise ValueError("dipswitch must be 9 of '+', 'o', '-'")
        b0 = b1 = b2 = 0
        for s, mask in zip(sw, _DIP_MASKS):
            off, on = s != "-", s == "+"
            if mask is None:
                b2 |= 0x80 * off | 0x40 * on
            else:
                b0 |= mask * off
                b1 |= mask * on
        return msb_bits((b0 << 16) | (b1 << 8) | b2 | button, 24)


CODECS = [CardinS466Codec()]
