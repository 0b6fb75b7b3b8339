"""Microchip KeeLoq HCS frames: HCS200/300/301 (66 bits) and HCS361/362 (with a 2-bit CRC).

On air, LSB first (bit numbers are transmission order):

======  =====================================================================
bits    field
======  =====================================================================
0–31    encrypted hop (bit 0 = hop LSB). Decrypted: button 4 | overflow 2 |
        discriminator 10 | counter 16, MSB → LSB
32–59   serial number, 28 bits
60–63   button status S3, S0, S1, S2 (``button`` = S2<<3 | S1<<2 | S0<<1 | S3, the same
        nibble as the decrypted hop's top 4 bits, and the value Flipper shows as Btn)
64      VLOW (battery low)
65      RPT (repeat) on HCS200/300/301
======  =====================================================================

HCS361: 0–64 as above, then CRC0, CRC1 (67 bits). HCS362: 0–64, two queue bits QUE0, QUE1,
then CRC0, CRC1 (69 bits). The CRC runs over every bit before it in transmission order
(CRC1' = CRC0 ⊕ D, CRC0' = CRC0 ⊕ D ⊕ CRC1). Receivers often miss the last bit or two (the
frame ends in the guard time), so the HCS200 codec accepts 64–66 bits; ``vlow`` and ``repeat``
are absent when their bits are; ``encode`` writes 64 bits plus those of ``vlow``/``repeat``
when given (or ``bits`` = 64/65/66).

With ``manufacturer_keys`` (and ``seed`` for seeded schemes) in ctx, the hop is decrypted and
``counter``, ``discriminator``, ``overflow``, ``key_name`` and ``learning`` are added when a key
gives a plausible hop (button matches, discriminator low bits match the serial).
"""

from __future__ import annotations

import numpy as np

from keyguard.protocols import keeloq
from keyguard.protocols.codecs.base import Codec, checked
from keyguard.protocols.codecs.bitpack import as_bits, field, lsb_bits, lsb_int
from keyguard.protocols.crc import hcs36x_crc


def try_decrypt(fields: dict, hop: int, serial: int, button: int, ctx: dict) -> None:
    """Add decrypted-hop fields when ctx holds manufacturer keys and one fits (in place)."""
    keys = ctx.get("manufacturer_keys")
    if not keys:
        return
    res = keeloq.decrypt_hop(hop, serial, button, keys, seed=ctx.get("seed"),
                             disc_bits=int(ctx.get("disc_bits", 10)))
    if res is None:
        fields["decrypted"] = False
        return
    fields.update(decrypted=True, counter=res.counter, discriminator=res.discriminator,
                  overflow=res.overflow, key_name=res.key_name, learning=res.learning)


def hop_from_fields(fields: dict, serial: int, button: int) -> int:
    """The 32-bit hop: ``encrypted`` as given, or encrypted from ``counter`` + ``device_key``."""
    if "encrypted" in fields:
        return field(fields, "encrypted", 32)
    if "counter" in fields and "device_key" in fields:
        h = keeloq.Hop(button=button, overflow=field(fields, "overflow", 2, 0),
                       discriminator=field(fields, "discriminator", 10, serial & 0x3FF),
                       counter=field(fields, "counter", 16))
        return keeloq.encrypt(h.pack(), int(fields["device_key"]))
    raise ValueError("need 'encrypted', or 'counter' and 'device_key', to build a KeeLoq hop")


def _head(b: np.ndarray) -> dict:
    return {"encrypted": lsb_int(b[0:32]), "serial": lsb_int(b[32:60]),
            "button": lsb_int(b[60:64])}


def _head_bits(fields: dict) -> np.ndarray:
    serial = field(fields, "serial", 28)
    button = field(fields, "button", 4)
    hop = hop_from_fields(fields, serial, button)
    return np.concatenate([lsb_bits(hop, 32), lsb_bits(serial, 28), lsb_bits(button, 4)])


class KeeLoqCodec(Codec):
    """HCS200/300/301: 32-bit hop, 28-bit serial, 4 buttons, VLOW, RPT; no CRC."""

    name = "keeloq"
    description = "Microchip KeeLoq HCS200/300/301, 66 bits LSB first (hop | serial | buttons | VLOW | RPT)"
    bit_counts = (64, 65, 66)

    def decode(self, bits: np.ndarray, **ctx) -> dict | None:
        b = as_bits(bits)
        if b is None or b.size not in self.bit_counts:
            return None
        f = _head(b)
        if b.size > 64:
            f["vlow"] = int(b[64])
        if b.size > 65:
            f["repeat"] = int(b[65])
        try_decrypt(f, f["encrypted"], f["serial"], f["button"], ctx)
        # no check bits: a decrypt that fits is the only plausibility test
        f["integrity"] = "ok" if f.get("decrypted") else "none"
        return f

    def encode(self, fields: dict) -> np.ndarray:
        # length: explicit "bits", else as many as the fields given (vlow, repeat) need
        nbits = int(fields.get("bits", 64 + ("vlow" in fields or "repeat" in fields) + ("repeat" in fields)))
        if nbits not in self.bit_counts:
            raise ValueError(f"KeeLoq frames have 64-66 bits, not {nbits}")
        tail = [field(fields, "vlow", 1, 0), field(fields, "repeat", 1, 0)][: nbits - 64]
        return np.concatenate([_head_bits(fields), np.array(tail, dtype=np.uint8)])


class Hcs36xCodec(Codec):
    """HCS361 (67 bits) / HCS362 (69 bits, two queue bits): HCS layout plus a 2-bit CRC."""

    check_bits = 2  # the 2-bit CRC: one wrong frame in four passes it

    def __init__(self, name: str, queue: bool):
        self.name = name
        self.queue = queue
        n = 69 if queue else 67
        self.bit_counts = (n,)
        self.description = (f"Microchip KeeLoq {name.upper()}, {n} bits LSB first "
                            "(hop | serial | buttons | VLOW" + (" | QUE" if queue else "") + " | CRC)")

    def decode(self, bits: np.ndarray, **ctx) -> dict | None:
        b = as_bits(bits)
        if b is None or b.size != self.bit_counts[0]:
            return None
        f = _head(b)
        f["vlow"] = int(b[64])
        if self.queue:
            f["queue"] = lsb_int(b[65:67])
        crc = lsb_int(b[-2:])
        f["crc"] = crc
        ok = hcs36x_crc(b[:-2]) == crc
        out = checked(f, ok, ctx)
        if out is not None:
            try_decrypt(out, out["encrypted"], out["serial"], out["button"], ctx)
        return out

    def encode(self, fields: dict) -> np.ndarray:
        parts = [_head_bits(fields), np.array([field(fields, "vlow", 1, 0)], dtype=np.uint8)]
        if self.queue:
            parts.append(lsb_bits(field(fields, "queue", 2, 0), 2))
        body = np.concatenate(parts)
        return np.concatenate([body, lsb_bits(hcs36x_crc(body), 2)])


CODECS = [KeeLoqCodec(), Hcs36xCodec("hcs361", queue=False), Hcs36xCodec("hcs362", queue=True)]
