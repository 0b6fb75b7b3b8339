"""Enrolment: record the owner's genuine fob fingerprint in the state file.

The owner presses the fob a few times near the receiver; :func:`enroll_capture` finds that
identity's bursts in the capture, groups them into presses, and stores each press's median
feature vector as an *enrolled* fingerprint. Clone and relay detection then compare every later
press of that identity with them, whatever was heard first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from keyguard.detect.fingerprint import press_vector
from keyguard.errors import EnrollmentError
from keyguard.features.vector import FEATURE_NAMES
from keyguard.state import State

#: bursts of one identity this close (s) belong to one press
PRESS_GAP_S = 0.5


@dataclass
class Enrolled:
    identity: str
    label: str | None
    presses: int
    bursts: int


def enroll_capture(state: State, capture: Any, identity: str, label: str | None = None,
                   registry: Any = None, receiver: str | None = None) -> Enrolled:
    """Store the fingerprints of ``identity``'s presses in ``capture`` (a ``keyguard.io``
    Capture with IQ) as enrolled; ``receiver`` labels the radio (as for scans). Raises
    EnrollmentError when there is nothing to enrol."""
    if capture.is_pulse_capture:
        raise EnrollmentError("a pulse capture has no RF fingerprint to enrol", capture.path,
                              "record the fob as IQ (cu8, cs16, SigMF...)")
    from keyguard.pipeline import observe_capture

    groups: list[list] = []
    last_t = None
    seen: dict[str, int] = {}
    for ob in observe_capture(capture, registry):
        ids = {p.identity for p in ob.packets if p.identity is not None}
        for i in ids:
            seen[i] = seen.get(i, 0) + 1
        b = ob.burst
        if identity not in ids or b is None or b.features is None:
            continue
        if last_t is None or b.t - last_t > PRESS_GAP_S:
            groups.append([])
        groups[-1].append(b)
        last_t = b.t_end
    if not groups:
        heard = ", ".join(f"{k} ({v})" for k, v in sorted(seen.items(), key=lambda kv: -kv[1])[:5])
        raise EnrollmentError(f"no burst of {identity} found", capture.path,
                              f"identities heard: {heard}" if heard else
                              "nothing decodable was heard; check the centre frequency")
    vectors = [press_vector(g) for g in groups]
    vectors = [v for v in vectors if v is not None and np.isfinite(v).any()]
    n = state.enroll(identity, label, FEATURE_NAMES, vectors, origin=capture.path,
                     receiver=receiver)
    return Enrolled(identity, label, n, sum(len(g) for g in groups))
