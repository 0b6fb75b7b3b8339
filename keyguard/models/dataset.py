"""Labelled burst features from the simulator's scenarios (training and evaluation data).

A scenario is rendered, run through the same front end as any capture (burst detection,
demodulation, decoding, features), and every burst is labelled with the burst class of the
ground-truth event that produced it: the event overlapping it in time whose carrier is nearest
(attack events before genuine presses before clutter, since an attack radio is the strong signal
when they coincide). A burst lying mostly outside a relay event's frames (the amplifier noise an
amplify-and-forward relay radiates for seconds around them) is not that event's. Bursts that match nothing — splatter and images of strong jammers,
noise — are ``jammer`` when they fall inside a jamming event and ``other`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from keyguard.features.vector import FEATURE_NAMES

#: a burst's carrier must lie this close (Hz) to an event's to be its (plus half a jammer's band)
FREQ_TOLERANCE_HZ = 25e3
_PRIORITY = {"jamming": 0, "replay": 0, "rolljam": 0, "rollback": 0, "clone": 0,
             "bruteforce": 0, "relay": 0, "press": 1, "benign": 2}
_REGENERATING = {"cc1101", "flipper"}


def event_label(kind: str, params: dict) -> str | None:
    """Burst class of a truth event (None: its bursts are left out of training)."""
    if kind == "press":
        return "genuine"
    if kind == "benign":
        return "other"
    if kind == "jamming":
        return "jammer"
    if kind in ("replay", "rolljam", "rollback"):
        return "raw_replay" if params.get("replayer") == "hackrf" else "regenerated_replay"
    if kind in ("clone", "bruteforce"):
        return "regenerated_replay" if params.get("radio", "cc1101") in _REGENERATING else None
    if kind == "relay":
        # an LF-only relay leaves the fob's own waveform: nothing for a burst classifier
        return None if params.get("lf_only") or params.get("mode") == "lf" else "relayed"
    return None


def _event_offset(ev: Any, center_freq: float | None) -> float | None:
    p = ev.params
    if p.get("baseband_offset_hz") is not None:
        return float(p["baseband_offset_hz"])
    if p.get("freq_hz") is not None and center_freq is not None:
        return float(p["freq_hz"]) - center_freq
    return None


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    """Length (s) of the intersection of [a0, a1] and [b0, b1]."""
    return max(0.0, min(a1, b1) - max(a0, b0))


def label_burst(t: float, t_end: float, offset_hz: float, truth: Iterable[Any],
                center_freq: float | None) -> tuple[str | None, Any]:
    """(label, event) for a burst at [t, t_end] s, carrier ``offset_hz`` from the centre."""
    best, best_key = None, None
    in_jam = False
    for ev in truth:
        if ev.t_end < t or ev.t > t_end:
            continue
        off = _event_offset(ev, center_freq)
        tol = FREQ_TOLERANCE_HZ + 0.5 * float(ev.params.get("bandwidth_hz") or 0.0)
        if ev.kind == "jamming":
            in_jam = True
        if off is not None and abs(off - offset_hz) > tol:
            continue
        if ev.kind == "relay" and _overlap(t, t_end, ev.t, ev.t_end) < 0.5 * (t_end - t):
            # an amplify-and-forward relay's amplifier noise, on for seconds around the frames,
            # comes out as long noise bursts: the one that touches the relayed frames is the
            # same noise as those before and after it, not a relayed frame
            continue
        key = (_PRIORITY.get(ev.kind, 3), abs(off - offset_hz) if off is not None else tol)
        if best_key is None or key < best_key:
            best, best_key = ev, key
    if best is None:
        return ("jammer" if in_jam else "other"), None
    return event_label(best.kind, best.params), best


@dataclass
class BurstDataset:
    """Feature matrix (``FEATURE_NAMES`` columns), labels, and per-row metadata."""

    X: np.ndarray = field(default_factory=lambda: np.zeros((0, len(FEATURE_NAMES))))
    y: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    meta: list = field(default_factory=list)

    def extend(self, rows: list[np.ndarray], labels: list[str], meta: list[dict]) -> None:
        if not rows:
            return
        self.X = np.vstack([self.X, np.vstack(rows)])
        self.y = np.concatenate([self.y, np.array(labels, dtype=object)])
        self.meta += meta

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def save(self, path) -> None:
        """As a compressed NumPy archive of plain arrays (no pickle)."""
        import json
        np.savez_compressed(path, X=self.X, y=self.y.astype(str),
                            meta=np.array(json.dumps(self.meta)))

    @classmethod
    def load(cls, path) -> "BurstDataset":
        import json
        with np.load(path, allow_pickle=False) as z:
            return cls(z["X"], z["y"].astype(object), json.loads(str(z["meta"])))


def scenario_dataset(rendering: Any, registry: Any = None) -> tuple[BurstDataset, list]:
    """Labelled bursts of one planned scenario (``keyguard.sim`` Rendering), and the front
    end's observations (``keyguard.pipeline.Observed``: the detectors' view of each burst and
    its packets) for running the detectors on the same output."""
    cap = rendering.capture()
    ds = BurstDataset()
    rows, labels, meta, observed = [], [], [], []
    truth = rendering.truth
    from keyguard.pipeline import observe_capture

    for ob in observe_capture(cap, registry):
        observed.append(ob)
        b = ob.burst
        offset = (b.freq_hz - cap.center_freq) if cap.center_freq is not None else b.freq_hz
        lab, ev = label_burst(b.t, b.t_end, offset, truth, cap.center_freq)
        if lab is None or b.features is None:
            continue
        rows.append(b.features.values)
        labels.append(lab)
        meta.append({"scenario": rendering.scenario.name, "seed": rendering.seed, "t": b.t,
                     "t_end": b.t_end, "offset_hz": offset, "snr_db": b.snr_db,
                     "event": None if ev is None else ev.kind,
                     "source": None if ev is None else ev.source,
                     "decoded": any(p.protocol != "unknown" for p in ob.packets)})
    ds.extend(rows, labels, meta)
    return ds, observed
