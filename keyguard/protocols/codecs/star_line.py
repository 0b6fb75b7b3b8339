"""Star Line car alarms: 64-bit KeeLoq frames with an 8-bit button and 24-bit serial.

On air, LSB first: bits 0–31 the encrypted hop, bits 32–63 the fixed part
``fix = button 8 | serial 24`` (MSB → LSB). Decrypted hop: button 8 | serial low 8 | counter 16.
Keys are tried as the manufacturer key itself (simple) and through the normal learning scheme
applied to the fixed part's low 28 bits.
"""

from __future__ import annotations

import numpy as np

from keyguard.protocols import keeloq
from keyguard.protocols.codecs.base import Codec
from keyguard.protocols.codecs.bitpack import as_bits, field, lsb_bits, lsb_int


def _plausible(plain: int, fix: int) -> bool:
    return (plain >> 24) == (fix >> 24) and ((plain >> 16) & 0xFF) == (fix & 0xFF)


class StarLineCodec(Codec):
    name = "star_line"
    description = "Star Line alarm, 64 bits LSB first: KeeLoq hop | button 8 | serial 24"
    bit_counts = (64,)

    def decode(self, bits: np.ndarray, **ctx) -> dict | None:
        b = as_bits(bits)
        if b is None or b.size != 64:
            return None
        hop, fix = lsb_int(b[:32]), lsb_int(b[32:])
        f = {"encrypted": hop, "fix": fix, "serial": fix & 0xFFFFFF, "button": fix >> 24}
        keys = ctx.get("manufacturer_keys")
        if keys:
            f["decrypted"] = False
            for mk in keys:
                learnings = ("simple", "normal") if mk.learning not in ("simple", "normal") \
                    else (mk.learning,)
                for learning in learnings:
                    dk = keeloq.device_key(learning, mk.key, serial=fix & 0x0FFFFFFF)
                    plain = keeloq.decrypt(hop, dk)
                    if _plausible(plain, fix):
                        f.update(decrypted=True, counter=plain & 0xFFFF, key_name=mk.name,
                                 learning=learning)
                        break
                if f["decrypted"]:
                    break
        f["integrity"] = "ok" if f.get("decrypted") else "none"
        return f

    def encode(self, fields: dict) -> np.ndarray:
        serial = field(fields, "serial", 24)
        button = field(fields, "button", 8)
        fix = (button << 24) | serial
        if "encrypted" in fields:
            hop = field(fields, "encrypted", 32)
        elif "counter" in fields and "device_key" in fields:
            plain = (button << 24) | ((serial & 0xFF) << 16) | field(fields, "counter", 16)
            hop = keeloq.encrypt(plain, int(fields["device_key"]))
        else:
            raise ValueError("need 'encrypted', or 'counter' and 'device_key'")
        return np.concatenate([lsb_bits(hop, 32), lsb_bits(fix, 32)])


CODECS = [StarLineCodec()]
