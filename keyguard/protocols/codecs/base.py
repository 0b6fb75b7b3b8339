"""The codec interface: fields from a frame's bits and back.

A codec turns the bits of one frame, as a slicer produced them, into protocol fields, and
fields back into bits:

- ``bits`` are a 1-D uint8 array of 0/1 in **on-air order**: ``bits[0]`` is the first bit
  received. No reversal or inversion has been applied; each codec knows its family's bit order
  (KeeLoq sends LSB first, KIA Seed MSB first, Ford inverted...) and handles it itself, so a
  profile never has to describe it twice. Security+ 1.0 is ternary: its "bits" are trits 0/1/2.
- ``decode(bits, **ctx)`` returns a dict of fields (integers; ``serial``, ``button``,
  ``counter``, ``encrypted``... as the family has them) plus the reserved key ``integrity``
  (``"ok"`` when a CRC/checksum/plausibility check passed, ``"none"`` when the family has
  none). It returns None when the bits cannot be this family's frame (wrong length, bad
  prefix, failed check). With ``check=False`` in ctx a frame whose check fails is returned
  anyway with ``integrity="bad"``.
- ``encode(fields)`` is the exact inverse: ``decode(encode(f))`` gives back ``f``'s fields.
  Missing required fields or values that do not fit raise ValueError.

Common ctx keys: ``manufacturer_keys`` (list of
:class:`keyguard.protocols.keeloq.ManufacturerKey`) and ``seed`` (int) for KeeLoq families.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class Codec(ABC):
    """One protocol family's frame codec (see the module docstring for the contract)."""

    #: registry name, used by profiles as ``codec = "NAME"``
    name: str = ""
    #: one line: what the family is and where its layout comes from
    description: str = ""
    #: frame lengths (in bits, or trits) that ``decode`` accepts
    bit_counts: tuple[int, ...] = ()
    #: redundancy behind ``integrity="ok"`` (bits): a wrong frame passes the check with
    #: probability ≈ 2^-check_bits. The decoder's margin gate still judges frames whose check
    #: is weaker than ``engine.MIN_CHECK_BITS``. A successful KeeLoq decryption (``decrypted``
    #: in the fields) counts as strong whatever this says.
    check_bits: int = 0

    @abstractmethod
    def decode(self, bits: np.ndarray, **ctx) -> dict | None:
        """Fields of one frame, or None when the bits are not a valid frame of this family."""

    @abstractmethod
    def encode(self, fields: dict) -> np.ndarray:
        """Bits (on-air order, uint8) of a frame with these fields."""

    def __repr__(self) -> str:
        return f"<Codec {self.name}>"


def checked(fields: dict, ok: bool, ctx: dict) -> dict | None:
    """Apply the ``check`` ctx rule: fields with integrity ok/bad, or None for a failed check."""
    if ok:
        fields["integrity"] = "ok"
        return fields
    if ctx.get("check", True):
        return None
    fields["integrity"] = "bad"
    return fields
