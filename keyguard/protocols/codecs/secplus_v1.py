"""Chamberlain/LiftMaster Security+ 1.0: 40 ternary symbols in two 20-symbol frames.

Each frame is preceded by a sync symbol (0 for the first frame, 2 for the second); the codec
takes the 40 payload trits, or 42 with both sync trits in place. Within each frame, symbols
alternate rolling digit r and coded fixed digit c. A running sum (reset per frame) links them:
acc += r; fixed digit = (c − acc) mod 3; acc += fixed digit. The 20 rolling digits, read as a
base-3 number (first digit most significant), give the 32-bit rolling code bit-reversed; the
20 fixed digits give the fixed code (< 3^20).

Fixed-code meaning (ternary digits from the least significant): switch (button), id0, id1,
then for remotes (id1 ≠ 0) the remote id. The rolling code goes up by 3 per press, so the
even part of the rolling code is what the remote sends.
"""

from __future__ import annotations

import numpy as np

from keyguard.protocols.codecs.base import Codec

_ROLL_MAX = 3 ** 20


def _rev32(v: int) -> int:
    return int(f"{v:032b}"[::-1], 2)


def _trits(bits: np.ndarray) -> np.ndarray | None:
    t = np.asarray(bits).ravel()
    if t.size and (t.min() < 0 or t.max() > 2):
        return None
    return t.astype(np.int64)


class SecplusV1Codec(Codec):
    name = "secplus_v1"
    description = "Security+ 1.0, 40 trits (2 frames × 20) interleaving rolling and fixed digits"
    bit_counts = (40, 42)

    def decode(self, bits: np.ndarray, **ctx) -> dict | None:
        t = _trits(bits)
        if t is None or t.size not in self.bit_counts:
            return None
        if t.size == 42:
            if t[0] != 0 or t[21] != 2:
                return None
            t = np.concatenate([t[1:21], t[22:42]])
        rolling_digits, fixed_digits = [], []
        for half in (t[:20], t[20:]):
            acc = 0
            for r, c in zip(half[0::2].tolist(), half[1::2].tolist()):
                acc += r
                d = (c - acc) % 3
                acc += d
                rolling_digits.append(r)
                fixed_digits.append(d)
        rolling_rev = 0
        for d in rolling_digits:
            rolling_rev = rolling_rev * 3 + d
        if rolling_rev >> 32:
            return None
        fixed = 0
        for d in fixed_digits:
            fixed = fixed * 3 + d
        rolling = _rev32(rolling_rev)
        f = {"rolling": rolling, "fixed": fixed, "switch_id": fixed % 3,
             "id0": (fixed // 3) % 3, "id1": (fixed // 9) % 3, "counter": rolling}
        if f["id1"] == 0:  # keypad: pad id and PIN share the fixed code
            f["pad_id"] = (fixed // 27) % 3 ** 7
            f["serial"] = f["pad_id"]
        else:
            f["remote_id"] = fixed // 27
            f["serial"] = f["remote_id"]
        f["button"] = f["switch_id"]
        f["integrity"] = "none"
        return f

    def encode(self, fields: dict) -> np.ndarray:
        """42 trits: sync 0, frame 1 (20), sync 2, frame 2 (20)."""
        rolling = int(fields.get("rolling", fields.get("counter", -1)))
        fixed = int(fields["fixed"]) if "fixed" in fields else None
        if fixed is None or not 0 <= fixed < 3 ** 20:
            raise ValueError("field 'fixed' is required and must be below 3^20")
        if not 0 <= rolling < 2 ** 32 or _rev32(rolling) >= _ROLL_MAX:
            raise ValueError("rolling code does not fit 20 ternary digits once bit-reversed")
        rr = _rev32(rolling)
        rdig = [(rr // 3 ** (19 - i)) % 3 for i in range(20)]
        fdig = [(fixed // 3 ** (19 - i)) % 3 for i in range(20)]
        out = []
        for h in range(2):
            out.append(0 if h == 0 else 2)
            acc = 0
            for i in range(10 * h, 10 * h + 10):
                acc += rdig[i]
                out.append(rdig[i])
                acc += fdig[i]
                out.append(acc % 3)
        return np.array(out, dtype=np.uint8)


CODECS = [SecplusV1Codec()]
