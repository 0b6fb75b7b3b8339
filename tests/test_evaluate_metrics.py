"""Evaluation counts on hand-made truth and scan output: decode matching, accused presses,
truth files and annotations."""

from __future__ import annotations

import json

import pytest

from keyguard.evaluate import Truth, TruthError, TruthEvent, score_capture, truth_from_json
from keyguard.evaluate.metrics import CARRIER_TOLERANCE_HZ, decode_tally, press_tally
from keyguard.evaluate.truth import truth_from_annotations
from keyguard.events import Alert, Packet

CF = 433.92e6
PRESS = TruthEvent("press", 1.0, 1.3, "keeloq:0A3C5E71", "owner",
                   {"protocol": "keeloq", "code": "keeloq:0A3C5E71:AAAA0001",
                    "baseband_offset_hz": -5000.0})
REPLAY = TruthEvent("replay", 5.0, 5.3, "keeloq:0A3C5E71", "replay",
                    {"code": "keeloq:0A3C5E71:AAAA0001", "replayer": "flipper",
                     "baseband_offset_hz": 12000.0})
FIXED = TruthEvent("press", 8.0, 8.2, "pt2262:00005F0C", "gate",
                   {"protocol": "pt2262", "code": None, "baseband_offset_hz": 0.0})


def _packet(t: float, code: str | None, offset_hz: float, protocol: str = "keeloq",
            identity: str = "keeloq:0A3C5E71") -> Packet:
    return Packet(capture="c.cu8", t=t, t_end=t + 0.09, modulation="OOK", protocol=protocol,
                  bits=66, data="00", identity=identity, code=code, freq_hz=CF + offset_hz)


def _alert(kind: str, t: float, t_end: float) -> Alert:
    return Alert(kind=kind, capture="c.cu8", t=t, t_end=t_end, severity="high", confidence=0.9,
                 summary=f"{kind} here")


def test_decode_needs_protocol_identity_code_time_and_carrier():
    truth = Truth("c.cu8", [PRESS, REPLAY, FIXED], "truth.json", center_freq=CF)
    good = _packet(1.1, "keeloq:0A3C5E71:AAAA0001", -4000.0)
    assert decode_tally(truth, [good]).to_dict()["keeloq"]["presses_decoded"] == 1
    wrong = [_packet(1.1, "keeloq:0A3C5E71:BBBB0002", -4000.0),            # another code
             _packet(3.0, "keeloq:0A3C5E71:AAAA0001", -4000.0),            # another time
             _packet(1.1, "keeloq:0A3C5E71:AAAA0001", -5000.0 + 2 * CARRIER_TOLERANCE_HZ),
             _packet(1.1, "keeloq:0A3C5E71:AAAA0001", -4000.0, "unknown", None)]
    for p in wrong:
        assert decode_tally(truth, [p]).to_dict()["keeloq"]["presses_decoded"] == 0, p
    # the replayer's frames carry the victim's code on the replayer's carrier
    replayed = _packet(5.1, "keeloq:0A3C5E71:AAAA0001", 12500.0)
    d = decode_tally(truth, [good, replayed]).to_dict()
    assert d["keeloq"] == {"presses": 1, "presses_decoded": 1, "attack_frames": 1,
                           "attack_frames_decoded": 1, "transmissions": 2, "decoded": 2,
                           "decode_rate": 1.0}
    # a fixed-code press has no code in the truth: protocol and identity decide
    gate = _packet(8.05, None, 300.0, "pt2262", "pt2262:00005F0C")
    assert decode_tally(truth, [gate]).to_dict()["pt2262"]["decode_rate"] == 1.0


def test_accused_presses_count_false_alarms_only():
    relay = TruthEvent("relay", 12.0, 12.3, "keeloq:0A3C5E71", "relay", {"mode": "af"})
    relayed = TruthEvent("press", 12.0, 12.3, "keeloq:0A3C5E71", "owner", {"by": "relay"})
    truth = Truth("c.cu8", [PRESS, REPLAY, relayed, relay], "truth.json", center_freq=CF)
    alerts = [_alert("clone", 1.0, 1.3),      # accuses the genuine press
              _alert("replay", 5.0, 5.3),     # the real replay: not a false alarm
              _alert("relay", 12.0, 12.3)]    # the real relay
    res = score_capture(truth, 20.0, alerts, [], slack_s=1.0)
    assert res.score.kinds["clone"].false_alarms == 1
    assert res.score.kinds["replay"].detected == 1 and res.score.kinds["relay"].detected == 1
    p = res.presses.to_dict()
    assert p["genuine_presses"] == 1  # the relayed press is the relay's, not a genuine one
    assert p["flagged"]["clone"] == 1 and p["flagged"]["replay"] == 0
    assert p["fp_per_press"]["clone"] == 1.0
    assert press_tally(truth, [], 1.0).flagged["clone"] == 0


def test_truth_json_is_checked(tmp_path):
    p = tmp_path / "truth.json"
    p.write_text(json.dumps({"capture": "x.cu8", "center_freq": CF, "seed": 4,
                             "events": [PRESS.to_dict(), REPLAY.to_dict()]}))
    t = truth_from_json(p)
    assert t.capture == str(tmp_path / "x.cu8") and t.seed == 4 and t.events == [PRESS, REPLAY]
    p.write_text(json.dumps({"capture": "x.cu8", "events": [{"kind": "burglary", "t": 0,
                                                             "t_end": 1}]}))
    with pytest.raises(TruthError, match="unknown kind 'burglary'"):
        truth_from_json(p)
    p.write_text(json.dumps({"events": []}))
    with pytest.raises(TruthError, match="does not name its capture"):
        truth_from_json(p)


def test_foreign_sigmf_labels_count_when_they_are_truth_kinds():
    from keyguard.io.capture import Capture

    cap = Capture(path="rec.sigmf-meta", format="sigmf", sample_rate=1e6, center_freq=CF,
                  num_samples=5_000_000,
                  annotations=[{"core:sample_start": 1_000_000, "core:sample_count": 500_000,
                                "core:label": "jamming", "core:freq_lower_edge": CF - 60e3,
                                "core:freq_upper_edge": CF - 40e3},
                               {"core:sample_start": 0, "core:sample_count": 10,
                                "core:label": "unrelated note"}])
    t = truth_from_annotations(cap)
    assert [(e.kind, e.t, e.t_end) for e in t.events] == [("jamming", 1.0, 1.5)]
    assert t.events[0].params["freq_hz"] == pytest.approx(CF - 50e3)
    cap.annotations = cap.annotations[1:]
    assert truth_from_annotations(cap) is None


def test_an_escalated_replay_is_not_a_false_alarm_of_its_own():
    from keyguard.detect.scoring import score_alerts
    from keyguard.events import Alert

    def alert(kind, t, t_end, **ev):
        return Alert(capture="a.cu8", t=t, t_end=t_end, time=None, kind=kind, severity="high",
                     confidence=0.9, identity="keeloq:1", summary="s", evidence=ev)

    replay = alert("replay", 60.0, 60.3)
    rollback = alert("rollback", 60.0, 61.0,
                     escalates=[{"capture": "a.cu8", "t": 60.0, "kind": "replay"}])
    truth = [{"kind": "rollback", "t": 59.9, "t_end": 61.1, "source": "attacker"}]
    sc = score_alerts([replay, rollback], truth, duration_s=120.0, slack_s=1.0)
    assert sc.kinds["rollback"].detected == 1
    assert sc.kinds["replay"].false_alarms == 0
    # the same replay alone, not escalated, over a RollBack event is a false alarm
    sc = score_alerts([replay], truth, duration_s=120.0, slack_s=1.0)
    assert sc.kinds["replay"].false_alarms == 1
