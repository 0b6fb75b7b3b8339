"""The default frame source: the firmware-profile encoder of :mod:`keyguard.protocols`.

A scenario device names a profile (``keeloq``, ``pt2262``, ``kia_seed``...) and carries fields;
:class:`ProtocolFrames` asks :func:`keyguard.protocols.encode.encode` for the frames of one press
(KeeLoq hops are encrypted there under the device key with the press's counter), repeats them
while a button is held, and decodes one frame back with the profile to learn the identity and
code string exactly as keyguard's decoder will report them, so ground truth and packets match.
"""

from __future__ import annotations

import math

import numpy as np

from keyguard.errors import InputError, ScenarioError
from keyguard.pulse_train import PulseTrain


class ProtocolFrames:
    """Frame source backed by the shipped (or a given) profile registry."""

    def __init__(self, registry=None):
        self._registry = registry
        self._described: dict = {}

    @property
    def registry(self):
        if self._registry is None:
            from keyguard.protocols.registry import load_registry

            self._registry = load_registry()
        return self._registry

    def profile(self, name: str):
        """The profile called ``name``; ScenarioError listing the known ones otherwise."""
        try:
            return self.registry.get(name)
        except (KeyError, InputError):
            raise ScenarioError(f"unknown protocol {name!r}",
                                hint=f"known: {', '.join(self.registry.names())}") from None

    def __call__(self, req) -> list[PulseTrain]:
        """The frames of one press (t = s from the press), more of them while the button is held."""
        from keyguard.protocols.encode import encode

        p = self.profile(req.protocol)
        fields = self._fields_for(p, req.fields)
        n = req.repeats
        if req.hold_s > 0:
            one = encode(p, fields, frames=1)
            period = one[0].duration_us * 1e-6 + p.repeat.inter_frame_gap_us * 1e-6
            n = max(n or p.repeat.frames_per_press, int(math.ceil(req.hold_s / max(period, 1e-3))))
        try:
            return encode(p, fields, frames=n)
        except ValueError as e:
            raise ScenarioError(f"cannot encode a {req.protocol} press from fields "
                                f"{sorted(fields)}: {e}") from None

    def describe(self, protocol: str, frames: list[PulseTrain]) -> dict:
        """Identity, code and fields of a press as keyguard's decoder reports them ({} if the
        first frame does not decode, which the round-trip tests would catch)."""
        from keyguard.protocols.engine import decode_pulse_train

        if not frames:
            return {}
        profile = self.profile(protocol)
        # one message: a frame, or the parts of a multi-part message joined with their gaps
        f = _joined(frames[: max(1, profile.frame.parts)])
        key = (protocol, f.durations_us.tobytes(), f.levels.tobytes())
        if key not in self._described:
            packets = decode_pulse_train(f, [profile])
            self._described[key] = {} if not packets else {
                "identity": packets[0].identity, "code": packets[0].code,
                "data": packets[0].data, "bits": packets[0].bits}
        return dict(self._described[key])

    def passive_entry_fields(self, protocol: str) -> dict:
        """Fields that make a frame of ``protocol`` a passive-entry answer (the profile's
        ``[passive_entry]``: its first value), {} when the profile has none."""
        pe = self.profile(protocol).passive_entry
        return {} if pe is None else {pe.field: int(pe.values[0])}

    def field_width(self, protocol: str, name: str) -> int | None:
        """Width (bits) of a field of the profile's layout, None when a codec owns the layout."""
        spec = self.profile(protocol).field_spec(name)
        return None if spec is None else int(spec.width)

    @staticmethod
    def _fields_for(p, fields: dict) -> dict:
        """Only the fields the profile knows (a gate remote has no counter or device key)."""
        if p.codec is not None:
            out = dict(fields)
            if p.codec == "keeloq":
                # an HCS200/300/301 always sends its two status bits (66-bit frames)
                out.setdefault("vlow", 0)
                out.setdefault("repeat", 0)
            return out
        known = {f.name for f in p.fields}
        return {k: v for k, v in fields.items() if k in known}


def _joined(frames: list[PulseTrain]) -> PulseTrain:
    """Frames (t in s) as one pulse train, the gaps between them as off runs."""
    if len(frames) == 1:
        return frames[0]
    d, lv = [], []
    end = frames[0].t
    for f in frames:
        gap_us = (f.t - end) * 1e6
        if gap_us > 0:
            d.append(np.array([gap_us]))
            lv.append(np.zeros(1, np.int8))
        d.append(f.durations_us)
        lv.append(f.levels)
        end = f.t_end
    return PulseTrain(np.concatenate(d), np.concatenate(lv), t=frames[0].t,
                      modulation=frames[0].modulation, fsk_deviation_hz=frames[0].fsk_deviation_hz)


#: The default frame source of :meth:`keyguard.sim.scenario.Scenario.plan`.
protocol_frames = ProtocolFrames()
