"""What evaluation counts besides alerts per kind (that is :mod:`keyguard.detect.scoring`).

- **Decode rate per protocol**: each truth transmission of a known identity — a press, or the
  frames a replay/RollJam/RollBack/clone radio sends — is decoded when a packet of its protocol
  and identity (and its code, when the truth states it) overlaps it in time and lies within
  :data:`CARRIER_TOLERANCE_HZ` of its carrier.
- **False positives per genuine press**: genuine presses (not relayed) that a false alarm of an
  attack kind overlaps, per kind, over all genuine presses: the rate at which a user's own fob
  is called a replay or a clone.
- **Burst classifier ROC AUC**: every burst the scan measured features of, labelled from the
  truth (:func:`keyguard.models.dataset.label_burst`) and scored with the classifier's
  probabilities, one class against the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from keyguard.evaluate.truth import Truth, event_offset_hz
from keyguard.events import Alert, Packet

#: A packet's carrier must lie this close (Hz) to its transmission's (tuner and fob errors are
#: in the truth's baseband offset already; this is the estimate's spread plus FSK deviation).
CARRIER_TOLERANCE_HZ = 25e3
#: Truth spans are exact; a packet may start or end this much (s) outside its transmission.
DECODE_SLACK_S = 0.05
#: Alert kinds that accuse a single press (jamming and brute force are about the channel).
PRESS_ALERT_KINDS = ("replay", "rolljam", "rollback", "clone", "relay")
#: Truth events whose frames carry the victim's protocol (besides genuine presses).
RETRANSMISSION_KINDS = ("replay", "rolljam", "rollback", "clone")


def _overlaps(t0: float, t1: float, u0: float, u1: float, slack: float = 0.0) -> bool:
    return t0 <= u1 + slack and t1 >= u0 - slack


# ---------------------------------------------------------------------------------------------
@dataclass
class DecodeTally:
    """Per protocol: transmissions and decoded ones, for genuine presses and attack frames."""

    counts: dict = field(default_factory=dict)  # protocol -> [presses, decoded, attacks, decoded]

    def add(self, other: "DecodeTally") -> "DecodeTally":
        for proto, c in other.counts.items():
            mine = self.counts.setdefault(proto, [0, 0, 0, 0])
            for i in range(4):
                mine[i] += c[i]
        return self

    def to_dict(self) -> dict:
        out = {}
        for proto in sorted(self.counts):
            p, pd, a, ad = self.counts[proto]
            out[proto] = {"presses": p, "presses_decoded": pd, "attack_frames": a,
                          "attack_frames_decoded": ad, "transmissions": p + a,
                          "decoded": pd + ad, "decode_rate": (pd + ad) / (p + a) if p + a else None}
        return out


def _transmission(ev: Any) -> tuple[str, str, set | None] | None:
    """(protocol, identity, acceptable codes or None) of a truth event that sends frames of a
    known identity, else None."""
    if ev.kind != "press" and ev.kind not in RETRANSMISSION_KINDS:
        return None
    ident = ev.identity
    if not ident:
        return None
    proto = ev.params.get("protocol") or str(ident).split(":", 1)[0]
    codes = ev.params.get("codes") or ([ev.params["code"]] if ev.params.get("code") else None)
    return str(proto), str(ident), (set(codes) if codes else None)


def decode_tally(truth: Truth, packets: Sequence[Packet]) -> DecodeTally:
    """Which of the truth's transmissions the scan decoded (see the module docstring)."""
    tally = DecodeTally()
    cf = truth.center_freq
    for ev in truth.events:
        tx = _transmission(ev)
        if tx is None:
            continue
        proto, ident, codes = tx
        off = event_offset_hz(ev, cf)
        hit = False
        for p in packets:
            if p.protocol != proto or p.identity != ident:
                continue
            if codes is not None and p.code not in codes:
                continue
            if not _overlaps(p.t, p.t_end, ev.t, ev.t_end, DECODE_SLACK_S):
                continue
            if off is not None and p.freq_hz is not None:
                pf = p.freq_hz - cf if cf is not None else p.freq_hz
                if abs(pf - off) > CARRIER_TOLERANCE_HZ:
                    continue
            hit = True
            break
        c = tally.counts.setdefault(proto, [0, 0, 0, 0])
        i = 0 if ev.kind == "press" else 2
        c[i] += 1
        c[i + 1] += int(hit)
    return tally


# ---------------------------------------------------------------------------------------------
@dataclass
class PressTally:
    """Genuine presses, and how many of them a false alarm of each kind accused."""

    presses: int = 0
    flagged: dict = field(default_factory=lambda: {k: 0 for k in PRESS_ALERT_KINDS})

    def add(self, other: "PressTally") -> "PressTally":
        self.presses += other.presses
        for k, n in other.flagged.items():
            self.flagged[k] = self.flagged.get(k, 0) + n
        return self

    def to_dict(self) -> dict:
        return {"genuine_presses": self.presses,
                "flagged": {k: self.flagged[k] for k in PRESS_ALERT_KINDS},
                "fp_per_press": {k: (self.flagged[k] / self.presses if self.presses else None)
                                 for k in PRESS_ALERT_KINDS}}


def press_tally(truth: Truth, false_alarms: Iterable[Alert], slack_s: float) -> PressTally:
    """Genuine presses (presses that no relay forwarded) and those a false alarm overlaps."""
    relays = [e for e in truth.events if e.kind == "relay"]
    presses = [e for e in truth.events if e.kind == "press"
               and not any(_overlaps(e.t, e.t_end, r.t, r.t_end) for r in relays)]
    out = PressTally(presses=len(presses))
    fas = [a for a in false_alarms if a.kind in PRESS_ALERT_KINDS]
    for kind in PRESS_ALERT_KINDS:
        out.flagged[kind] = sum(
            any(a.kind == kind and _overlaps(a.t, a.t_end, e.t, e.t_end, slack_s) for a in fas)
            for e in presses)
    return out


# ---------------------------------------------------------------------------------------------
@dataclass
class ClassifierTally:
    """Truth labels and the classifier's probabilities of every labelled burst."""

    classes: list = field(default_factory=list)
    labels: list = field(default_factory=list)
    proba: list = field(default_factory=list)  # one (n, len(classes)) array per capture

    def add_bursts(self, model: Any, truth: Truth, bursts: Sequence[Any]) -> None:
        """Label ``bursts`` (``BurstInfo`` with features) from ``truth``, score them with
        ``model`` (a burst classifier) and keep both."""
        from keyguard.models.dataset import label_burst

        if model is None or truth.benign_only:
            return  # a benign-only capture says nothing about which class a burst is
        classes = [str(c) for c in model.classes_]
        if self.classes and classes != self.classes:
            raise ValueError("one evaluation must use one classifier")
        self.classes = classes
        rows, labels = [], []
        cf = truth.center_freq
        for b in bursts:
            if b is None or b.features is None:
                continue
            off = b.freq_hz - cf if (cf is not None and b.freq_hz is not None) else (b.freq_hz or 0.0)
            lab, _ = label_burst(b.t, b.t_end, off, truth.events, cf)
            if lab is None:
                continue
            rows.append(b.features.values)
            labels.append(lab)
        if rows:
            self.proba.append(np.asarray(model.predict_proba(np.vstack(rows)), dtype=float))
            self.labels += labels

    def add(self, other: "ClassifierTally") -> "ClassifierTally":
        if other.classes:
            if self.classes and other.classes != self.classes:
                raise ValueError("one evaluation must use one classifier")
            self.classes = list(other.classes)
        self.labels += other.labels
        self.proba += other.proba
        return self

    def metrics(self) -> dict:
        """Per class: bursts of that class, one-vs-rest ROC AUC (None when only one side is
        present), recall; and overall accuracy."""
        from sklearn.metrics import roc_auc_score

        if not self.labels:
            return {}
        y = np.array(self.labels, dtype=object)
        P = np.vstack(self.proba)
        pred = np.array(self.classes, dtype=object)[np.argmax(P, axis=1)]
        per = {}
        for i, c in enumerate(self.classes):
            pos = y == c
            auc = float(roc_auc_score(pos, P[:, i])) if pos.any() and (~pos).any() else None
            per[c] = {"bursts": int(pos.sum()), "auc": auc,
                      "recall": float(np.mean(pred[pos] == c)) if pos.any() else None}
        return {"bursts": int(y.size), "accuracy": float(np.mean(pred == y)), "classes": per}
