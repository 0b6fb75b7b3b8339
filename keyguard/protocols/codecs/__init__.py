"""Per-family frame codecs: protocol fields from sliced bits and back.

Firmware profiles name a codec (``codec = "keeloq"``); the profile engine slices a pulse train
into bits and hands them here. The contract (bit order, return values, ctx keys) is in
:mod:`keyguard.protocols.codecs.base`.

Families: keeloq (HCS200/300/301), hcs361, hcs362, star_line, kia_seed, faac_slh, somfy_rts,
secplus_v1, secplus_v2, honda_kr5v, scher_khan, cardin_s466. Not implemented: Nice FloR-S and CAME Atomo
(their scramble uses lookup tables that are not publicly documented) and Ford V0 (its CRC and
obfuscation are only known from GPL source, with no capture here to check them).
"""

from __future__ import annotations

from keyguard.protocols.codecs import (cardin, faac_slh, honda_kr5v, keeloq_hcs, kia_seed,
                                       scher_khan, secplus_v1, secplus_v2, somfy_rts, star_line)
from keyguard.protocols.codecs.base import Codec

_MODULES = (keeloq_hcs, star_line, kia_seed, faac_slh, somfy_rts, secplus_v1, secplus_v2,
            honda_kr5v, scher_khan, cardin)
_REGISTRY: dict[str, Codec] = {c.name: c for m in _MODULES for c in m.CODECS}


def get_codec(name: str) -> Codec:
    """The codec registered under ``name``; KeyError names the known codecs."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown codec {name!r}; known: {', '.join(available_codecs())}") from None


def available_codecs() -> list[str]:
    """Names of all registered codecs, sorted."""
    return sorted(_REGISTRY)


__all__ = ["Codec", "get_codec", "available_codecs"]
