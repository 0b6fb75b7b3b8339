"""The front half of a scan: a capture's bursts with their packets and features.

:func:`observe_capture` runs the stages before detection — burst detection and channelisation
(``keyguard.dsp``), demodulation, decoding (``keyguard.protocols``), RF-fingerprint features
(``keyguard.features``) — and yields one :class:`Observed` per burst, ready for
:meth:`keyguard.detect.DetectionEngine.observe`::

    for ob in observe_capture(capture, registry):
        alerts = engine.observe(ob.info, ob.packets)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from keyguard.detect.observation import BurstInfo
from keyguard.events import Packet
from keyguard.features.extract import features_from_burst
from keyguard.features.vector import FeatureVector


@dataclass
class Observed:
    """One burst through the front end: the detectors' view of it (``info``), its packets,
    its features (None for pulse captures, which have no IQ) and the dsp burst itself."""

    info: BurstInfo
    packets: list[Packet]
    features: FeatureVector | None
    burst: Any = None


def observe_capture(capture: Any, registry: Any = None, decoder: Any = None,
                    **detector_kw) -> Iterator[Observed]:
    """Every burst of a capture with its decoded packets and features, in time order: the
    front half of a scan (dsp → protocols → features), bounded memory. Pulse captures
    (Flipper ``.sub``, rtl_433 ``.ook``) give their recorded trains, without features."""
    from keyguard.protocols.engine import Decoder

    if decoder is None:
        decoder = Decoder(registry, strict_modulation=not capture.is_pulse_capture)
    decoder.reset()
    reg = decoder.registry
    if capture.is_pulse_capture:
        for pt in capture.pulse_trains:
            packets = decoder.decode(pt, capture.path, capture.start_time)
            yield Observed(BurstInfo.from_pulse_train(pt), packets, None)
        return
    from keyguard.dsp.bursts import BurstDetector
    from keyguard.dsp.demod import demodulate

    det = BurstDetector(capture.sample_rate, capture.center_freq, **detector_kw)
    for b in det.iter_bursts(capture):
        packets: list[Packet] = []
        for pt in demodulate(b):
            packets += decoder.decode(pt, capture.path, capture.start_time)
        prof = next((reg.get(p.protocol) for p in packets if p.protocol in reg), None)
        fv = features_from_burst(b, prof)
        yield Observed(BurstInfo.from_burst(b, fv), packets, fv, b)
