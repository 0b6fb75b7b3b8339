"""Hand-built packets and bursts for the detector tests (imported by tests/test_detect_*.py)."""

from __future__ import annotations

import numpy as np

from keyguard.detect import BurstInfo, DetectionEngine
from keyguard.detect.profiles import ProtocolFacts
from keyguard.events import Packet
from keyguard.features.vector import FeatureVector

FOB_F = 433.92e6
FRAME_S = 0.09          # a KeeLoq frame with preamble and header ≈ 90 ms
GUARD_S = 0.016         # KeeLoq guard time between repeated frames
PROFILES = {
    "keeloq": ProtocolFacts(inter_frame_gap_s=GUARD_S, fixed_code=False, te_us=400.0),
    "ev1527": ProtocolFacts(inter_frame_gap_s=0.009, fixed_code=True, te_us=300.0),
    "acurite": ProtocolFacts(inter_frame_gap_s=0.002, fixed_code=None),
}


def keeloq(t: float, hop: int, serial: int = 0x0D36C681, *, counter: int | None = None,
           capture: str = "a.cu8", freq: float = FOB_F, rssi: float = -30.0,
           integrity: str = "none") -> Packet:
    """One KeeLoq frame: code = hop + serial, identity keeloq:SERIAL."""
    fields = {"serial": f"{serial:07X}", "button": 2}
    if counter is not None:
        fields["counter"] = counter
    return Packet(capture=capture, t=t, t_end=t + FRAME_S, modulation="OOK", protocol="keeloq",
                  bits=66, data=f"{hop:08X}{serial:07X}20", identity=f"keeloq:{serial:08X}",
                  code=f"{hop:08X}:{serial:07X}", fields=fields, integrity=integrity,
                  rssi_db=rssi, snr_db=rssi + 60, freq_hz=freq)


def press(t: float, hop: int, frames: int = 4, **kw) -> list[Packet]:
    """A press held for ``frames`` repeats, guard time apart."""
    return [keeloq(t + i * (FRAME_S + GUARD_S), hop, **kw) for i in range(frames)]


def ev1527(t: float, ident: int, button: int = 1, capture: str = "a.cu8",
           freq: float = FOB_F) -> Packet:
    return Packet(capture=capture, t=t, t_end=t + 0.03, modulation="OOK", protocol="ev1527",
                  bits=24, data=f"{ident:05X}{button:X}", identity=f"ev1527:{ident:05X}",
                  code=None, fields={"id": ident, "button": button}, integrity="none",
                  rssi_db=-35.0, freq_hz=freq)


def burst_of(pkts: list[Packet], **kw) -> BurstInfo:
    """The burst a packet (or a held press) came in, with optional features."""
    t, t_end = min(p.t for p in pkts), max(p.t_end for p in pkts)
    return BurstInfo(t=t, t_end=t_end, freq_hz=pkts[0].freq_hz, rssi_db=pkts[0].rssi_db,
                     on_fraction=0.5, **kw)


def feed(engine: DetectionEngine, packets: list[Packet], features=None, **burst) -> list:
    """Each packet in its own burst (a dsp front end splits frames at the guard time);
    ``burst``: more BurstInfo fields for every burst."""
    out = []
    for p in sorted(packets, key=lambda p: p.t):
        f = features(p) if callable(features) else features
        out += engine.observe(burst_of([p], features=f, **burst), [p])
    return out


def fv(**values) -> FeatureVector:
    """A feature vector with the given values (others NaN)."""
    return FeatureVector.from_dict(values)


def fob_features(rng: np.random.Generator, cfo_ppm: float = 10.0, te: float = 412.0,
                 rise: float = 12.0, droop: float = 1.0, rssi: float = -30.0, **extra
                 ) -> FeatureVector:
    """A genuine fob's burst: its fingerprint plus measurement noise at ≈ 20 dB SNR."""
    return fv(cfo_ppm=cfo_ppm + rng.normal(0, 0.1), te_us=te * (1 + rng.normal(0, 0.0005)),
              rise_time_us=rise + rng.normal(0, 0.6), fall_time_us=6 + rng.normal(0, 0.6),
              droop_db=droop + rng.normal(0, 0.05), chirp_hz=-900 + rng.normal(0, 150),
              timing_jitter_us=5.0 + abs(rng.normal(0, 0.5)),
              rssi_db=rssi + rng.normal(0, 1.0), noise_excess_db=rng.normal(0, 0.3),
              echo_ratio=abs(rng.normal(0, 0.01)), **extra)


def engine(**kw) -> DetectionEngine:
    e = DetectionEngine(profiles=PROFILES, **kw)
    e.begin_capture("a.cu8")
    return e


def kinds(alerts) -> list[str]:
    return [a.kind for a in alerts]
