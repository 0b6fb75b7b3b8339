"""RollJam and relay when the attacker's transmissions do not decode, and presses heard through a
jammer (their RF evidence is the jammer's): hand-built bursts and a stand-in burst classifier."""

from __future__ import annotations

import numpy as np
import pytest

from detect_fakes import BurstInfo, engine, feed, fv, kinds, press
from keyguard.detect import DetectConfig
from keyguard.features.vector import FEATURE_NAMES

_TE = FEATURE_NAMES.index("te_us")
CLASSES = np.array(["genuine", "jammer", "other", "raw_replay", "regenerated_replay", "relayed"])


class StandInClassifier:
    """A burst classifier that answers by the burst's te_us (µs): ``verdicts[te]`` is a
    class → probability table; any other burst is genuine."""

    classes_ = CLASSES

    def __init__(self, verdicts: dict[float, dict[str, float]]):
        self.verdicts = verdicts

    def predict_proba(self, X):
        out = np.zeros((len(X), len(CLASSES)))
        for i, te in enumerate(np.asarray(X)[:, _TE]):
            v = self.verdicts.get(float(te), {"genuine": 1.0})
            out[i] = [v.get(c, 0.0) for c in CLASSES]
        return out


def _jam(t, t_end, freq=433.85e6):
    return BurstInfo(t=t, t_end=t_end, freq_hz=freq, rssi_db=-10.0, on_fraction=1.0,
                     bandwidth_hz=5e3)


def _keyed(t, cfo, dur=0.09):
    return BurstInfo(t=t, t_end=t + dur, freq_hz=433.92e6, rssi_db=-40.0, on_fraction=0.45,
                     features=fv(cfo_ppm=cfo, on_fraction=0.45, te_us=13.0))


def _undecoded(t, cfo, dur=0.3, te=400.0, freq=None):
    """A frame-length burst nothing decoded (a clipped replayer, a regenerated frame); its
    carrier is where its oscillator puts it unless ``freq`` (Hz) says otherwise."""
    freq = 433.92e6 * (1 + cfo * 1e-6) if freq is None else freq
    return BurstInfo(t=t, t_end=t + dur, freq_hz=freq, rssi_db=-5.0, on_fraction=0.5,
                     features=fv(cfo_ppm=cfo, on_fraction=0.5, te_us=te))


OWNER = fv(cfo_ppm=-42.8, on_fraction=0.48, te_us=411.0)


def _rolljam_start(e, keyed=True):
    """The owner's press, then two presses under a jammer 70 kHz below the fob channel."""
    out = feed(e, press(0.2, 0x1111, frames=3), OWNER)
    out += e.observe(_jam(1.0, 4.0), [])
    if keyed:
        for t in (2.2, 2.31, 2.42, 3.6, 3.71, 3.82):
            out += e.observe(_keyed(t, -43.5), [])
    return out


@pytest.mark.parametrize("keyed", [True, False])
def test_an_undecoded_foreign_burst_right_after_jamming_is_rolljam(keyed):
    e = engine()
    out = _rolljam_start(e, keyed)
    out += e.observe(_undecoded(5.0, -36.7), [])
    out += e.finish()
    assert sorted(kinds(out)) == ["jamming", "rolljam"]
    a = [x for x in out if x.kind == "rolljam"][0]
    assert a.t == pytest.approx(5.0) and a.identity == "keeloq:0D36C681"
    ev = a.evidence
    assert ev["decoded"] is False
    assert ev["method"] == ("bursts_under_jamming" if keyed else "key_heard_before")
    assert ev["cfo_shift_ppm"] == pytest.approx(-36.7 - (-43.5 if keyed else -42.8))


@pytest.mark.parametrize("burst", [
    _undecoded(5.0, -42.9),            # the owner's own oscillator: the fob pressed again
    _undecoded(5.0, -36.7, dur=0.45),  # longer than the key's press: not its frames
    _undecoded(12.0, -36.7),           # 8 s after the jamming: nothing ties it to it
    _undecoded(5.0, -36.7, freq=433.80e6),  # another channel
])
def test_undecoded_bursts_that_are_not_the_replay(burst):
    e = engine()
    out = _rolljam_start(e)
    out += e.observe(burst, [])
    out += e.finish()
    assert kinds(out) == ["jamming"]


def test_a_raw_iq_replay_with_the_fobs_own_carrier_is_rolljam_by_the_classifier():
    model = StandInClassifier({777.0: {"raw_replay": 0.95, "other": 0.05}})
    e = engine(models={"burst": model})
    out = _rolljam_start(e)
    # a HackRF sends back the recorded IQ: the fob's carrier offset, but a replayer's burst
    out += e.observe(_undecoded(5.0, -42.9, te=777.0), [])
    out += e.finish()
    assert sorted(kinds(out)) == ["jamming", "rolljam"]
    a = [x for x in out if x.kind == "rolljam"][0]
    assert a.evidence["classifier_says_replayer"] is True


def test_the_kept_code_sent_later_by_the_replayer_is_rolljam_even_undecoded():
    e = engine()
    out = _rolljam_start(e)
    out += e.observe(_undecoded(5.0, -36.7), [])        # code 1, right after the jamming
    out += e.observe(_undecoded(5.4, -36.7, dur=0.09), [])  # a trailing frame: same replay
    out += e.observe(_undecoded(60.0, -20.0), [])       # another radio later: nothing
    out += e.observe(_undecoded(300.0, -36.9, dur=0.31), [])  # code 2 from the same radio
    out += e.finish()
    assert kinds(out) == ["jamming", "rolljam", "rolljam"]
    assert out[2].t == pytest.approx(300.0)
    assert out[2].evidence["reason"] == "same_radio_as_earlier_rolljam_replay"
    assert out[2].evidence["first_replay"]["t"] == pytest.approx(5.0)


def test_a_decoded_replay_then_the_kept_code_undecoded():
    e = engine()
    out = _rolljam_start(e)
    att = fv(cfo_ppm=-36.7, on_fraction=0.48, te_us=400.0)
    out += feed(e, press(5.0, 0x2222, frames=3), att)
    n = len(press(5.0, 0x2222, frames=3))
    dur = 0.09 * n + 0.016 * (n - 1)
    out += e.observe(_undecoded(300.0, -36.8, dur=dur), [])
    out += e.finish()
    assert kinds(out) == ["jamming", "rolljam", "rolljam"]
    assert out[2].evidence["decoded"] is False


@pytest.mark.parametrize("cfo, expect", [(-36.8, ["jamming", "rolljam", "rolljam"]),
                                         (-20.0, ["jamming", "rolljam"])])
def test_the_kept_code_decoded_without_a_fingerprint_is_tied_to_the_replayer_by_its_carrier(
        cfo, expect):
    # the kept code replayed, clipped: one of its three frames decodes, in a burst it fills a
    # third of (the others framed as unknown), so the press has no fingerprint (rolljam
    # development seed 414 at 250 ksps, once the demodulator dropped a neighbour's glitches);
    # the burst's carrier offset still says whether the RollJam replayer sent it. Another
    # radio's is left to the detectors that judge fingerprints.
    e = engine()
    out = _rolljam_start(e)
    out += feed(e, press(5.0, 0x2222, frames=3), fv(cfo_ppm=-36.7, on_fraction=0.48, te_us=400.0))
    (kept,) = press(300.2, 0x3333, frames=1)
    burst = BurstInfo(t=300.0, t_end=300.31, freq_hz=kept.freq_hz, rssi_db=kept.rssi_db,
                      on_fraction=0.5, features=fv(cfo_ppm=cfo, on_fraction=0.48, te_us=400.0))
    out += e.observe(burst, [kept])
    out += e.finish()
    assert kinds(out) == expect
    if len(expect) == 3:
        assert out[2].evidence["reason"] == "same_radio_as_earlier_rolljam_replay"
        assert out[2].evidence["press_cfo_ppm"] == pytest.approx(cfo)


RELAYED = {555.0: {"relayed": 0.97, "other": 0.03}, 556.0: {"relayed": 0.6, "genuine": 0.4}}


def test_an_undecoded_burst_the_classifier_calls_relayed_is_one_relay_alert():
    e = engine(models={"burst": StandInClassifier(RELAYED)})
    out = feed(e, press(0.2, 0x1111, frames=3), OWNER)
    for t in (8.0, 8.11, 8.22):  # a DF relay's regenerated frames, none decoded
        out += e.observe(_undecoded(t, -30.0, dur=0.09, te=555.0), [])
    out += e.finish()
    assert kinds(out) == ["relay"]
    a = out[0]
    assert a.identity is None and a.t == pytest.approx(8.0)
    assert a.evidence["reason"] == "undecoded_relayed_burst"
    assert a.evidence["score"] == pytest.approx(0.97)


@pytest.mark.parametrize("te,jammed,expect", [
    (556.0, False, []),          # below relay_burst_probability
    (555.0, True, []),           # under a jammer: the features are the jammer's
    (555.0, False, ["relay"]),
])
def test_undecoded_relay_rule_threshold_and_jamming(te, jammed, expect):
    e = engine(models={"burst": StandInClassifier(RELAYED)})
    out = []
    if jammed:
        out += e.observe(_jam(7.0, 10.0), [])
    out += e.observe(_undecoded(8.0, -30.0, dur=0.09, te=te), [])
    out += e.finish()
    assert [k for k in kinds(out) if k != "jamming"] == expect


def test_relay_probability_threshold_is_configurable():
    cfg = DetectConfig.from_dict({"fingerprint": {"relay_burst_probability": 0.5}})
    e = engine(models={"burst": StandInClassifier(RELAYED)}, config=cfg)
    out = e.observe(_undecoded(8.0, -30.0, dur=0.09, te=556.0), []) + e.finish()
    assert kinds(out) == ["relay"]


def test_a_press_heard_through_a_jammer_is_neither_clone_nor_relay_nor_reference():
    e = engine()
    rng = np.random.default_rng(3)
    out = []
    for k, t in enumerate((0.2, 30.0, 60.0)):
        out += feed(e, press(t, 0x100 + k, frames=3), fv(cfo_ppm=-42.8 + rng.normal(0, 0.1),
                                                         te_us=411.0, on_fraction=0.48))
    out += e.observe(_jam(89.0, 93.0), [])
    # under the jammer the carrier is pulled 50 ppm and the gaps fill with the jammer
    pulled = fv(cfo_ppm=10.0, te_us=411.0, on_fraction=0.48, noise_excess_db=9.0,
                echo_ratio=0.5)
    out += feed(e, press(90.0, 0x200, frames=3), pulled)
    # the owner again, after the jamming: its reference was not polluted
    out += feed(e, press(120.0, 0x201, frames=3), fv(cfo_ppm=-42.7, te_us=411.0,
                                                     on_fraction=0.48))
    out += e.finish()
    assert kinds(out) == ["jamming"]


def test_a_decoded_raw_iq_replay_of_a_fresh_code_right_after_jamming_is_rolljam():
    # a HackRF replays the jammed press: the fob's own carrier offset, a replayer's waveform
    model = StandInClassifier({777.0: {"raw_replay": 0.97, "genuine": 0.03}})
    e = engine(models={"burst": model})
    out = _rolljam_start(e)
    raw = fv(cfo_ppm=-43.3, on_fraction=0.48, te_us=777.0)
    out += feed(e, press(5.0, 0x2222, frames=3), raw)
    out += e.finish()
    assert sorted(kinds(out)) == ["jamming", "rolljam"]
    a = [x for x in out if x.kind == "rolljam"][0]
    assert a.evidence["classifier_says_replayer"] is True
    # without the classifier's word the same press is the owner pressing again
    e = engine()
    out = _rolljam_start(e) + feed(e, press(5.0, 0x2222, frames=3), raw) + e.finish()
    assert kinds(out) == ["jamming"]


def test_a_clipped_replayers_carrier_ties_the_kept_code_to_it():
    from keyguard.detect.rolljam import same_oscillator
    f = 433.92e6
    # fine CFO pulled 6 ppm by clipping, burst carriers 20 Hz apart: one radio when clipped
    assert same_oscillator(31.9, f + 16641, 38.3, f + 16618, 2.5, clipped=True)
    assert not same_oscillator(31.9, f + 16641, 38.3, f + 16618, 2.5, clipped=False)
    assert not same_oscillator(31.9, f + 16641, 38.3, f + 18000, 2.5, clipped=True)
    assert same_oscillator(38.0, None, 38.3, None, 2.5)


def test_a_press_under_a_jammer_still_on_is_not_after_jamming():
    """The jammer is cut into segments and goes on past the press; a short by-product of it
    (an image, 0.75 s) happened to end just as the press began. The press was sent under the
    jammer: it is not "a foreign radio right after jamming", whatever its carrier."""
    e = engine()
    out = feed(e, press(0.2, 0x1111, frames=3), OWNER)
    for t in (1.0, 2.0, 3.0):            # the jammer, in 1 s segments, on until 4.0
        out += e.observe(_jam(t, t + 1.0), [])
    out += e.observe(_jam(1.26, 2.017, freq=434.29e6), [])   # its image, ends at 2.017
    for t in (1.5, 1.61, 1.72):
        out += e.observe(_keyed(t, -43.5), [])
    foreign = fv(cfo_ppm=-10.0, on_fraction=0.48, te_us=411.0)
    out += feed(e, press(2.0, 0x2222, frames=3), foreign)
    out += e.finish()
    assert "rolljam" not in kinds(out)
    # the same press once the jammer has gone quiet is judged as before
    e = engine()
    out = feed(e, press(0.2, 0x1111, frames=3), OWNER)
    for t in (1.0,):
        out += e.observe(_jam(t, t + 1.0), [])
    for t in (1.5, 1.61, 1.72):
        out += e.observe(_keyed(t, -43.5), [])
    out += feed(e, press(2.4, 0x2222, frames=3), foreign) + e.finish()
    assert "rolljam" in kinds(out)


def test_the_kept_code_from_a_radio_other_than_the_key_is_rolljam_not_clone():
    # the first replay was measured on another carrier than the one its radio sends the kept
    # code on (it decoded only on a receiver image): the kept code is still not the key's
    e = engine()
    out = _rolljam_start(e)
    out += feed(e, press(5.0, 0x2222, frames=3), fv(cfo_ppm=-36.7, on_fraction=0.48,
                                                   te_us=400.0))
    out += feed(e, press(40.0, 0x3333, frames=3), OWNER)          # the owner later: nothing
    out += feed(e, press(300.0, 0x4444, frames=3), fv(cfo_ppm=-20.0, on_fraction=0.48,
                                                     te_us=400.0))
    out += e.finish()
    assert kinds(out) == ["jamming", "rolljam", "rolljam"]
    a = out[2]
    assert a.t == pytest.approx(300.0)
    assert a.evidence["reason"] == "foreign_radio_after_earlier_rolljam_replay"
    assert a.evidence["first_replay"]["t"] == pytest.approx(5.0)


@pytest.mark.parametrize("replay_offset_hz,expect", [
    (-4.4e3, ["rolljam"]),   # 10 ppm off the key's carrier: another oscillator
    (200.0, []),             # the key's own carrier: the owner pressing again
])
def test_clipped_presses_after_jamming_are_told_apart_by_their_carrier(replay_offset_hz, expect):
    # key and replayer both clip the receiver: their fine carrier offsets are pulled (2 ppm
    # apart here), while the burst carriers stay where the oscillators put them
    e = engine()
    f0 = 433.8964e6
    clip = {"clip_fraction": 0.05, "on_fraction": 0.48, "te_us": 404.0}
    out = feed(e, press(0.2, 0x1111, frames=3, freq=f0), fv(cfo_ppm=-62.4, **clip))
    out += e.observe(_jam(1.0, 4.0), [])        # a jammer that left no keyed bursts
    out += feed(e, press(5.0, 0x2222, frames=3, freq=f0 + replay_offset_hz),
                fv(cfo_ppm=-64.5, **clip))
    out += e.finish()
    assert kinds(out) == ["jamming"] + expect
    if expect:
        ev = out[1].evidence
        assert ev["method"] == "key_heard_before" and ev["clipped"] is True


def _raw_replay(t, with_frames=True, frame_te=405.0):
    """A raw-IQ replay of the jammed press: the recording's noise is transmitted between the
    pulses (carrier on all through, run widths of noise), its frames framed by the decoder as
    unknown frames at the key's base unit, inside a burst longer than the press."""
    from keyguard.events import Packet
    f = 433.92e6 * (1 - 36.7e-6)
    b = BurstInfo(t=t, t_end=t + 0.35, freq_hz=f, rssi_db=-2.0, on_fraction=1.0,
                  features=fv(cfo_ppm=-36.7, on_fraction=1.0, te_us=14.0,
                              noise_excess_db=30.0))
    pks = [Packet(capture="a.cu8", t=t + 0.03 + 0.106 * i, t_end=t + 0.12 + 0.106 * i,
                  modulation="OOK", protocol="unknown", bits=60, data="A5" * 7 + "A",
                  fields={"te_short_us": frame_te, "line_code": "pcm"}, integrity="none",
                  freq_hz=f) for i in range(3)] if with_frames else []
    return b, pks


@pytest.mark.parametrize("with_frames,frame_te,expect", [
    (True, 405.0, ["rolljam"]),
    (False, 405.0, []),          # nothing framed: noise run widths say no line code
    (True, 800.0, []),           # frames of another base unit than the key's
])
def test_a_raw_iq_replay_whose_frames_only_frame_as_unknown_is_rolljam(with_frames, frame_te,
                                                                       expect):
    # the classifier takes the transmitted noise floor for a jammer
    model = StandInClassifier({14.0: {"jammer": 0.7, "raw_replay": 0.3}})
    e = engine(models={"burst": model})
    out = _rolljam_start(e)
    out += e.observe(*_raw_replay(5.0, with_frames, frame_te))
    out += e.finish()
    assert kinds(out) == ["jamming"] + expect
    if expect:
        ev = out[1].evidence
        assert ev["framed_te_us"] == pytest.approx(frame_te)
        assert ev["framed_span_s"] == pytest.approx(0.302)


def test_an_undecoded_replay_then_the_kept_code_decoded_from_another_radio_is_rolljam():
    e = engine()
    out = _rolljam_start(e)
    out += e.observe(_undecoded(5.0, -36.7), [])       # code 1: the replayer clipped
    out += feed(e, press(300.0, 0x4444, frames=3), fv(cfo_ppm=-20.0, on_fraction=0.48,
                                                     te_us=400.0))
    out += e.finish()
    assert kinds(out) == ["jamming", "rolljam", "rolljam"]
    assert out[2].evidence["reason"] == "foreign_radio_after_earlier_rolljam_replay"
    assert out[2].evidence["first_replay"]["t"] == pytest.approx(5.0)


@pytest.mark.parametrize("te, clip, heard, expect", [
    (557.0, 0.35, 3, []),         # clipped, P 0.976, no rule, at the key's usual level: the owner
    (557.0, 0.35, 1, ["relay"]),  # ... but this receiver never heard the key's level before
    (557.0, 0.0, 3, ["relay"]),   # the same verdict on an unclipped press
    (558.0, 0.35, 3, []),         # clipped, P 0.9998: no surer (the owner's scored 0.991)
    (558.0, 0.35, 1, ["relay"]),  # ... without a level history it stands
])
def test_a_clipped_answer_at_the_usual_level_is_not_the_classifier_s_alone(te, clip, heard,
                                                                            expect):
    # benign soak seed 4028: the owner's passive-entry answer 25 dB over full scale (+2 dBFS
    # against his presses' -8.6 to -4.7), its fingerprint the key's own, no relay rule firing;
    # the classifier said relayed at 0.976 (seed 10078, the same scene: 0.991)
    verdicts = {557.0: {"relayed": 0.976, "genuine": 0.024},
                558.0: {"relayed": 0.9998, "genuine": 0.0002}}
    e = engine(models={"burst": StandInClassifier(verdicts)})
    out = []
    for k in range(heard):
        out += feed(e, press(0.2 + 5 * k, 0x1111 + k, frames=3),
                    fv(cfo_ppm=-42.8, te_us=411.0, rssi_db=-8.0 + 1.5 * k))
    out += feed(e, press(30.0, 0x1200, frames=3),
                fv(cfo_ppm=-42.8, te_us=te, clip_fraction=clip, on_fraction=0.48, rssi_db=2.0))
    assert kinds(out + e.finish()) == expect


@pytest.mark.parametrize("frames_freq, expect", [(433.92e6, []), (433.99e6, ["relay"])])
def test_an_undecoded_burst_holding_a_decoded_press_is_that_press(frames_freq, expect):
    # fresh benign soak seed 8028: a sensor began 0.16 s before the owner's answer beside the
    # car; their region (the answer's carrier, 0.64 s) decoded nothing and scored P(relayed)
    # 0.96, while the answer's frames decoded in bursts of their own inside it. Frames on
    # another carrier inside it leave it a relay's unreadable answer.
    e = engine(models={"burst": StandInClassifier(RELAYED)})
    out = e.observe(_undecoded(83.84, 0.0, dur=0.64, te=555.0, freq=433.92e6), [])
    out += feed(e, press(84.0, 0x1111, frames=3, freq=frames_freq), OWNER)
    assert kinds(out + e.finish()) == expect


@pytest.mark.parametrize("frame_te, undecoded_freq, expect", [
    (411.0, 433.92e6, []),                           # the owner's frame: the copy is his
    (411.0, 433.99e6, ["undecoded_relayed_burst"]),  # another carrier: not a copy of it
    (555.0, 433.92e6, ["undecoded_relayed_burst"]),  # the frame itself looks relayed (AF relay)
])
def test_an_undecoded_copy_starting_inside_a_decoded_frame_is_judged_with_it(frame_te,
                                                                            undecoded_freq,
                                                                            expect):
    # fresh benign soak seed 12065: the owner's clipped answer beside the receiver came through
    # a wide and a narrow region on one carrier; the wide one's first frame began 5 ms late,
    # framed only as unknown, and scored P(relayed) 0.93 while the narrow one decoded, genuine
    e = engine(models={"burst": StandInClassifier(RELAYED)})
    frames = press(31.0, 0x1111, frames=3)
    out = feed(e, frames[:1], fv(cfo_ppm=-42.8, on_fraction=0.48, te_us=frame_te))
    out += e.observe(_undecoded(31.005, 0.0, dur=0.09, te=555.0, freq=undecoded_freq), [])
    out += feed(e, frames[1:], fv(cfo_ppm=-42.8, on_fraction=0.48, te_us=frame_te))
    reasons = [a.evidence.get("reason") for a in out + e.finish() if a.kind == "relay"]
    assert [r for r in reasons if r == "undecoded_relayed_burst"] == expect


@pytest.mark.parametrize("frame_te, gap_s, expect", [
    (411.0, 0.015, []),                           # the owner's third frame decoded: his press
    (555.0, 0.015, ["undecoded_relayed_burst"]),  # that frame itself looks relayed
    # fresh benign soak seed 21021: the owner's undecoded press (a sensor beating in its
    # channel), his next press 0.31 s after it decoded, genuine: he pressed again
    (411.0, 0.31, []),
    (411.0, 0.95, []),
    (411.0, 1.2, ["undecoded_relayed_burst"]),    # too late to be the owner pressing again
])
def test_undecoded_frames_before_a_decoded_frame_of_their_press_are_judged_with_it(
        frame_te, gap_s, expect):
    # fresh benign soak seed 13008: the owner's clipped answer beside the receiver; its first
    # two frames did not decode and scored P(relayed) 0.98 and 0.97, the third decoded, genuine
    e = engine(models={"burst": StandInClassifier(RELAYED)})
    out = []
    for t in (84.0, 84.107):
        out += e.observe(_undecoded(t, 0.0, dur=0.092, te=555.0, freq=433.92e6), [])
        out += e.advance_to(t + 0.092)
    out += feed(e, press(84.107 + 0.092 + gap_s, 0x1111, frames=1),
                fv(cfo_ppm=-42.8, on_fraction=0.48, te_us=frame_te))
    reasons = [a.evidence.get("reason") for a in out + e.finish() if a.kind == "relay"]
    assert [r for r in reasons if r == "undecoded_relayed_burst"] == expect
