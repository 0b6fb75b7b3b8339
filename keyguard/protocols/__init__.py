"""Protocols: firmware profiles (TOML), the decoding engine, encoding, learning, codecs.

- :mod:`~keyguard.protocols.profile`: the profile schema, loading and validation;
- :mod:`~keyguard.protocols.registry`: shipped + user profiles by name;
- :mod:`~keyguard.protocols.engine`: pulse train -> frames -> fields -> :class:`Packet`;
- :mod:`~keyguard.protocols.encode`: profile + fields -> the pulse trains of one press;
- :mod:`~keyguard.protocols.learn`: profiles for undescribed fobs, labels for unknown packets;
- :mod:`~keyguard.protocols.codecs`, :mod:`~keyguard.protocols.keeloq`,
  :mod:`~keyguard.protocols.crc`: per-family field codecs, the KeeLoq cipher, checks.
"""

from __future__ import annotations

from keyguard.protocols.encode import encode, press_train
from keyguard.protocols.engine import Decoder, decode_capture, decode_pulse_train
from keyguard.protocols.profile import Profile, load_profile_dir, load_profile_file
from keyguard.protocols.registry import Registry, load_registry

__all__ = ["Profile", "Registry", "load_registry", "load_profile_dir", "load_profile_file",
           "Decoder", "decode_capture", "decode_pulse_train", "encode", "press_train"]
