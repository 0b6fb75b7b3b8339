"""Scoring alerts against ground truth, and labelling bursts with truth events."""

from __future__ import annotations

import pytest

from keyguard.detect.scoring import score_alerts
from keyguard.events import Alert
from keyguard.models.dataset import event_label, label_burst


def alert(kind, t, t_end):
    return Alert(kind=kind, capture="c", t=t, t_end=t_end, severity="high", confidence=0.9,
                 summary=f"{kind} at {t}")


EVENTS = [
    {"kind": "press", "t": 1.0, "t_end": 1.3, "source": "owner", "params": {}},
    {"kind": "jamming", "t": 5.0, "t_end": 10.0, "source": "jam", "params": {}},
    {"kind": "rolljam", "t": 11.0, "t_end": 11.3, "source": "rj", "params": {}},
    {"kind": "replay", "t": 40.0, "t_end": 40.3, "source": "rp", "params": {}},
]


def test_detected_missed_and_false_alarms():
    alerts = [alert("jamming", 5.0, 10.0), alert("rolljam", 11.0, 11.3),
              alert("replay", 11.0, 11.3),      # right time, wrong kind: a false alarm
              alert("jamming", 60.0, 61.0)]     # nothing there
    sc = score_alerts(alerts, EVENTS, duration_s=100.0, slack_s=0.5)
    k = sc.kinds
    assert (k["jamming"].events, k["jamming"].detected, k["jamming"].false_alarms) == (1, 1, 1)
    assert k["rolljam"].detection_rate == 1.0
    assert (k["replay"].events, k["replay"].detected, k["replay"].false_alarms) == (1, 0, 1)
    assert [m["kind"] for m in sc.missed] == ["replay"]
    assert sc.benign_s == pytest.approx(100.0 - 5.0 - 0.3 - 0.3)
    d = sc.to_dict()
    assert d["false_alarms"] == 2
    assert d["false_alarms_per_hour"] == pytest.approx(2 / (sc.benign_s / 3600))


def test_scores_add_up_over_captures():
    a = score_alerts([alert("jamming", 5.0, 10.0)], EVENTS, 100.0)
    b = score_alerts([], EVENTS, 100.0)
    tot = a.add(b)
    assert tot.kinds["jamming"].events == 2 and tot.kinds["jamming"].detected == 1
    assert tot.benign_s == pytest.approx(2 * (100.0 - 5.6))


class Ev:
    def __init__(self, kind, t, t_end, **params):
        self.kind, self.t, self.t_end, self.params, self.source = kind, t, t_end, params, kind


def test_burst_labels_follow_the_nearest_event_attacks_first():
    truth = [Ev("press", 1.0, 1.3, baseband_offset_hz=-11e3),
             Ev("jamming", 0.5, 3.0, baseband_offset_hz=-80e3, bandwidth_hz=5e3),
             Ev("relay", 1.0, 1.3, mode="af"),
             Ev("replay", 5.0, 5.3, baseband_offset_hz=-9e3, replayer="hackrf"),
             Ev("benign", 7.0, 7.5, baseband_offset_hz=30e3)]
    assert label_burst(1.0, 1.3, -11e3, truth, 433.92e6)[0] == "relayed"
    assert label_burst(0.5, 3.0, -80e3, truth, 433.92e6)[0] == "jammer"
    assert label_burst(2.0, 2.1, 150e3, truth, 433.92e6)[0] == "jammer"  # splatter of it
    assert label_burst(5.0, 5.3, -9e3, truth, 433.92e6)[0] == "raw_replay"
    assert label_burst(7.0, 7.5, 31e3, truth, 433.92e6)[0] == "other"
    assert label_burst(20.0, 20.1, 0.0, truth, 433.92e6) == ("other", None)


def test_event_labels():
    assert event_label("replay", {"replayer": "flipper"}) == "regenerated_replay"
    assert event_label("rolljam", {"replayer": "hackrf"}) == "raw_replay"
    assert event_label("relay", {"mode": "lf", "lf_only": True}) is None
    assert event_label("relay", {"mode": "df"}) == "relayed"
    assert event_label("clone", {"radio": "fob"}) is None
    assert event_label("press", {}) == "genuine"
