"""FAAC SLH gate remotes: 64 bits MSB first, fixed part then KeeLoq hop.

``fix = serial 28 | button 4`` (the first 32 bits on air, MSB first), then the 32-bit hop. The
hop decrypts (FAAC seed learning: the fob's 32-bit seed is sent in its programming frames and
must come in ctx as ``seed``) to ``check 12 | counter 20``: for an even counter the check is the
fixed part's nibbles 6, 7, 5 (nibble 0 = most significant), for an odd counter nibbles 2, 3, 4.
"""

from __future__ import annotations

import numpy as np

from keyguard.protocols import keeloq
from keyguard.protocols.codecs.base import Codec
from keyguard.protocols.codecs.bitpack import as_bits, field, msb_bits, msb_int


def _nibble(fix: int, i: int) -> int:
    return (fix >> (28 - 4 * i)) & 0xF


def check_nibbles(fix: int, counter: int) -> int:
    """The 12-bit check a FAAC SLH hop carries above its 20-bit counter."""
    idx = (6, 7, 5) if counter % 2 == 0 else (2, 3, 4)
    return (_nibble(fix, idx[0]) << 8) | (_nibble(fix, idx[1]) << 4) | _nibble(fix, idx[2])


class FaacSlhCodec(Codec):
    name = "faac_slh"
    description = "FAAC SLH, 64 bits MSB first: serial 28 | button 4 | KeeLoq hop (FAAC seed learning)"
    bit_counts = (64,)

    def decode(self, bits: np.ndarray, **ctx) -> dict | None:
        b = as_bits(bits)
        if b is None or b.size != 64:
            return None
        fix, hop = msb_int(b[:32]), msb_int(b[32:])
        f = {"fix": fix, "serial": fix >> 4, "button": fix & 0xF, "encrypted": hop}
        keys, seed = ctx.get("manufacturer_keys"), ctx.get("seed")
        if keys and seed is not None:
            f["decrypted"] = False
            for mk in keys:
                plain = keeloq.decrypt(hop, keeloq.faac_learning_key(seed, mk.key))
                counter = plain & 0xFFFFF
                if plain >> 20 == check_nibbles(fix, counter):
                    f.update(decrypted=True, counter=counter, key_name=mk.name, learning="faac")
                    break
        f["integrity"] = "ok" if f.get("decrypted") else "none"
        return f

    def encode(self, fields: dict) -> np.ndarray:
        fix = (field(fields, "serial", 28) << 4) | field(fields, "button", 4)
        if "encrypted" in fields:
            hop = field(fields, "encrypted", 32)
        elif "counter" in fields and "device_key" in fields:
            counter = field(fields, "counter", 20)
            hop = keeloq.encrypt((check_nibbles(fix, counter) << 20) | counter,
                                 int(fields["device_key"]))
        else:
            raise ValueError("need 'encrypted', or 'counter' and 'device_key'")
        return np.concatenate([msb_bits(fix, 32), msb_bits(hop, 32)])


CODECS = [FaacSlhCodec()]
