"""Jamming against the traffic that must not look like it: held fobs and chatty sensors."""

from __future__ import annotations

from dataclasses import replace

import pytest

from detect_fakes import PROFILES, BurstInfo, burst_of, engine, feed, fv, keeloq, kinds, press
from test_detect_undecoded import StandInClassifier
from keyguard.detect import DetectionEngine
from keyguard.events import Packet


def _finish(e, out):
    return out + e.finish()


def _unmasked(**kw):
    """An engine without the clipping-masking rule (``_masked``), for tests of the rules that
    tell a clipped transmission's products apart by their timing alone."""
    from keyguard.detect import DetectConfig

    return engine(config=DetectConfig.from_dict({"jamming": {"masked_cover": 2.0}}), **kw)


def _after_clipped_source(source, source_frames, weak, weak_frames=(), *, p_jammer,
                          make=engine):
    """Alert kinds when a clipped, decoded ``source`` burst and then a ``weak`` one are seen,
    with a classifier giving the weak burst (by its Te) ``p_jammer`` and the source none."""
    model = StandInClassifier({weak.features["te_us"]: {"jammer": p_jammer,
                                                        "other": 1.0 - p_jammer},
                               source.features["te_us"]: {"other": 1.0}})
    e = make(models={"burst": model})
    out = e.observe(source, source_frames)
    out += e.observe(weak, list(weak_frames))
    return kinds(_finish(e, out))


def test_continuous_carrier_is_jamming_with_offset_and_js():
    e = engine()
    out = feed(e, press(1.0, 0x1111, rssi=-40.0))  # the fob, for the channel and level
    out += e.observe(BurstInfo(t=3.0, t_end=5.5, freq_hz=433.85e6, rssi_db=-18.0,
                               bandwidth_hz=3e3, on_fraction=1.0, jammer_like=True), [])
    out = _finish(e, out)
    assert kinds(out) == ["jamming"]
    a = out[0]
    ev = a.evidence
    assert a.t == pytest.approx(3.0) and a.t_end == pytest.approx(5.5)
    assert ev["duration_s"] == pytest.approx(2.5)
    assert ev["duty_cycle"] == pytest.approx(1.0)
    assert ev["offset_from_fob_hz"] == pytest.approx(-70e3)
    assert ev["j_s_db"] == pytest.approx(22.0)
    assert ev["form"] == "continuous carrier"
    assert ev["bandwidth_hz"] == pytest.approx(3e3)


def test_pulsed_jammer_made_of_short_bursts_is_one_episode():
    e = engine()
    out = []
    for k in range(150):  # 5 ms on every 10 ms for 1.5 s
        t = 2.0 + 0.010 * k
        out += e.observe(BurstInfo(t=t, t_end=t + 0.005, freq_hz=433.90e6, rssi_db=-20.0,
                                   on_fraction=1.0), [])
    out = _finish(e, out)
    assert kinds(out) == ["jamming"]
    ev = out[0].evidence
    assert ev["form"] == "pulsed carrier"
    assert ev["duty_cycle"] == pytest.approx(0.5, abs=0.02)
    assert ev["bursts"] == 150
    assert ev["j_s_db"] is None  # no fob heard: no reference level


def test_wideband_noise_is_jamming():
    e = engine()
    out = e.observe(BurstInfo(t=1.0, t_end=1.8, freq_hz=433.92e6, rssi_db=-25.0,
                              bandwidth_hz=400e3, on_fraction=1.0), [])
    out = _finish(e, out)
    assert kinds(out) == ["jamming"] and out[0].evidence["form"] == "wideband noise"


def test_held_fob_button_in_one_long_burst_is_not_jamming():
    e = engine()
    frames = press(1.0, 0x1111, frames=30)  # ≈ 3.2 s held, the front end made one burst of it
    out = e.observe(burst_of(frames), frames)
    assert _finish(e, out) == []


def _sensor(t):
    return Packet(capture="a.cu8", t=t, t_end=t + 0.06, modulation="OOK", protocol="acurite",
                  bits=56, data="A55A3C0F12F0C3", identity="acurite:123", fields={},
                  integrity="ok", rssi_db=-35.0, freq_hz=433.92e6)


def test_chatty_weather_sensor_is_not_jamming_decoded_or_not():
    e = engine()
    out = []
    for k in range(20):  # every 16 s, a 3-repeat 60 ms transmission
        t = 1.0 + 16.0 * k
        for r in range(3):
            p = _sensor(t + r * 0.065)
            out += e.observe(burst_of([p]), [p])
    # the same sensor on a channel where nothing decodes it
    for k in range(20):
        t = 2.0 + 16.0 * k
        for r in range(3):
            out += e.observe(BurstInfo(t=t + r * 0.065, t_end=t + r * 0.065 + 0.06,
                                       freq_hz=433.80e6, rssi_db=-35.0, on_fraction=0.45), [])
    assert _finish(e, out) == []


def test_slicer_garbage_does_not_explain_a_carrier():
    # a slicer turns a carrier into one long run of ones: that is not data
    junk = Packet(capture="a.cu8", t=1.0, t_end=2.0, modulation="OOK", protocol="unknown",
                  bits=32, data="FFFFFFFF", fields={}, integrity="none")
    e = engine()
    out = e.observe(BurstInfo(t=1.0, t_end=2.0, freq_hz=433.9e6, rssi_db=-20.0,
                              on_fraction=1.0), [junk])
    assert kinds(_finish(e, out)) == ["jamming"]


def test_press_length_unexplained_burst_is_not_jamming():
    e = engine()
    out = e.observe(BurstInfo(t=1.0, t_end=1.45, freq_hz=433.9e6, rssi_db=-20.0,
                              on_fraction=1.0), [])
    assert _finish(e, out) == []


def test_fob_pressed_under_the_jammer_raises_severity():
    e = engine()
    out = e.observe(BurstInfo(t=1.0, t_end=4.0, freq_hz=433.85e6, rssi_db=-10.0,
                              on_fraction=1.0), [])
    out += feed(e, press(2.0, 0x1111, rssi=-40.0))
    out = _finish(e, out)
    assert kinds(out) == ["jamming"]
    assert out[0].severity == "high"
    assert out[0].evidence["fob_frames_during"] == 4
    assert "fob frame" in out[0].summary


def test_jamming_threshold_is_configurable():
    from keyguard.detect import DetectConfig
    cfg = DetectConfig.from_dict({"jamming": {"min_duration_s": 5.0}})
    e = DetectionEngine(cfg, profiles=PROFILES)
    e.begin_capture("a.cu8")
    out = e.observe(BurstInfo(t=1.0, t_end=4.0, freq_hz=433.85e6, rssi_db=-10.0,
                              on_fraction=1.0), [])
    assert _finish(e, out) == []
    with pytest.raises(ValueError, match="unknown setting"):
        DetectConfig.from_dict({"jamming": {"min_duraton_s": 5.0}})


@pytest.mark.parametrize("burst_s,expect", [(0.25, []), (1.5, ["jamming"])])
def test_a_decoded_frame_explains_its_burst_unless_energy_goes_on(burst_s, expect):
    # one 90 ms frame at the start of the burst; the rest is unexplained carrier
    p = keeloq(1.0, 0x1)
    e = engine()
    out = e.observe(BurstInfo(t=1.0, t_end=1.0 + burst_s, freq_hz=433.92e6, on_fraction=0.9), [p])
    assert kinds(_finish(e, out)) == expect


def test_images_of_one_jammer_make_one_alert():
    # a strong carrier also shows as weaker images/intermodulation at other offsets, at once
    e = engine()
    out = []
    for f, lvl in [(433.85e6, -5.0), (433.99e6, -30.0), (434.13e6, -38.0)]:
        out += e.observe(BurstInfo(t=2.0, t_end=5.0, freq_hz=f, rssi_db=lvl, on_fraction=1.0), [])
    out = _finish(e, out)
    assert kinds(out) == ["jamming"]
    ev = out[0].evidence
    assert ev["freq_hz"] == pytest.approx(433.85e6) and ev["level_db"] == pytest.approx(-5.0)
    assert ev["component_count"] == 3
    assert [c["freq_hz"] for c in ev["components"]] == [433.99e6, 434.13e6]


def test_relay_amplifier_noise_around_a_strong_frame_is_not_jamming_but_relay():
    e = engine()
    out = feed(e, press(1.0, 0x1111, rssi=-30.0))
    # a band of noise from 7.5 s to 9.0 s, 35 dB under the frames forwarded inside it
    out += e.observe(BurstInfo(t=7.5, t_end=9.0, freq_hz=433.92e6, rssi_db=-65.0,
                               bandwidth_hz=400e3, on_fraction=1.0), [])
    out += feed(e, press(8.0, 0x2222, rssi=-30.0))
    out = _finish(e, out)
    assert kinds(out) == ["relay"]
    assert out[0].evidence["rules"]["noise_around"] == 1.0
    assert "relay amplifier" in out[0].summary


def fvd(**kw):
    from keyguard.features.vector import FeatureVector
    return FeatureVector.from_dict(kw)


def test_an_undecoded_burst_with_a_line_code_is_not_jamming():
    # a doorbell nothing decoded: 20 repeats of a 300 µs PWM code, 0.8 s
    data = fvd(te_us=300.0, timing_jitter_us=6.0, on_fraction=0.4)
    carrier = fvd(te_us=25.0, timing_jitter_us=4.0, on_fraction=1.0)
    pulsing = fvd(te_us=5000.0, timing_jitter_us=2.0, on_fraction=0.5)
    for f, expect in [(data, []), (carrier, ["jamming"]), (pulsing, ["jamming"])]:
        e = engine()
        out = e.observe(BurstInfo(t=1.0, t_end=1.8, freq_hz=433.9e6, rssi_db=-20.0,
                                  on_fraction=1.0, features=f), [])
        assert kinds(_finish(e, out)) == expect


def test_images_of_a_strong_explained_burst_are_not_jamming():
    # a strong held press (decoded) and, at the same time, its weak image 200 kHz away
    e = engine()
    frames = press(1.0, 0x1111, frames=8, rssi=-2.0)
    image = BurstInfo(t=1.0, t_end=1.0 + 8 * 0.106, freq_hz=434.12e6, rssi_db=-30.0,
                      on_fraction=0.6)
    out = e.observe(image, [])            # the image happens to be reported first
    out += e.observe(burst_of(frames), frames)
    assert _finish(e, out) == []


@pytest.mark.parametrize("dur, p_jammer, expect", [
    (0.75, 0.72, []),             # a doorbell chopped by a passing fob's beat: not sure, short
    (1.03, 0.87, []),             # a sensor chopped by a clipping doorbell's leak 75 kHz away
    (0.75, 0.95, ["jamming"]),    # short, but the classifier is sure
    (2.0, 0.72, ["jamming"]),     # long enough on its own
])
def test_a_short_episode_needs_a_confident_classifier(dur, p_jammer, expect):
    # two transmitters overlapping in one channel beat; the chopped envelope reads a Te of
    # 10–20 µs, decodes to nothing and looks somewhat like a pulsed jammer
    model = StandInClassifier({15.0: {"jammer": p_jammer, "other": 1.0 - p_jammer}})
    e = engine(models={"burst": model})
    out = e.observe(BurstInfo(t=2.0, t_end=2.0 + dur, freq_hz=433.90e6, rssi_db=-20.0,
                              on_fraction=0.4, features=fv(te_us=15.0)), [])
    assert kinds(_finish(e, out)) == expect


@pytest.mark.parametrize("onset, clip, expect", [
    (0.0, 0.27, []),                # starts with the clipped doorbell: its splatter
    (0.05, 0.27, ["jamming"]),      # starts 50 ms later: not the doorbell's onset
    (0.0, 0.0, ["jamming"]),        # the doorbell did not clip: it made no splatter
])
def test_a_short_episode_starting_with_a_clipped_transmission_is_its_splatter(onset, clip,
                                                                              expect):
    # development soak seed 3002: a doorbell clipping the receiver (decoded, +1.4 dBFS) and,
    # from the same instant, a region 75 kHz away that took in its splatter and then a weak
    # sensor: 1.03 s that decoded to nothing, P(jammer) 0.90
    from detect_fakes import ev1527

    model = StandInClassifier({15.0: {"jammer": 0.92, "other": 0.08},
                               300.0: {"other": 1.0}})
    e = _unmasked(models={"burst": model})
    splatter = BurstInfo(t=47.0 + onset, t_end=48.03, freq_hz=433.983e6, rssi_db=-6.1,
                         on_fraction=0.4, features=fv(te_us=15.0))
    frames = [ev1527(47.0 + 0.039 * i, 0xEF0D2, freq=433.908e6) for i in range(20)]
    bell = BurstInfo(t=47.0, t_end=47.77, freq_hz=433.908e6, rssi_db=1.4, on_fraction=0.4,
                     features=fv(te_us=300.0, clip_fraction=clip))
    out = e.observe(splatter, [])  # the splatter's burst happens to come first
    out += e.observe(bell, frames)
    assert kinds(_finish(e, out)) == expect


@pytest.mark.parametrize("start, end, clip, expect", [
    (31.8739, 32.3967, 0.3, []),              # from a frame's start to another's end: theirs
    (31.8739, 32.4500, 0.3, ["jamming"]),     # ends 53 ms after the frame did
    (31.8300, 32.3967, 0.3, ["jamming"]),     # began 40 ms before the frame
    (31.8739, 32.3967, 0.0, ["jamming"]),     # the press did not clip: it made no products
])
def test_an_episode_bracketed_by_a_clipped_press_is_its_product(start, end, clip, expect):
    # fresh benign soak seed 173081: a held KeeLoq press 17 dB over full scale reads +2.0 dBFS
    # (clipping caps it); a sensor 52 kHz away, chopped by the press's frames into 0.52 s
    # that decoded to nothing (P(jammer) 0.97), read -0.7 dBFS: under the splatter margin, but
    # it began as the 8th frame began and ended as the 12th ended
    model = StandInClassifier({17.0: {"jammer": 0.97, "other": 0.03},
                               402.0: {"other": 1.0}})
    e = _unmasked(models={"burst": model})
    out = []
    product = BurstInfo(t=start, t_end=end, freq_hz=433.984e6, rssi_db=-0.7, on_fraction=0.14,
                        features=fv(te_us=17.0))
    for i in range(13):
        t = 31.1087 + 0.1087 * i
        f = keeloq(t, 0x699F08DC, rssi=2.0)
        f = replace(f, t_end=t + 0.0926)
        b = BurstInfo(t=t, t_end=t + 0.0926, freq_hz=f.freq_hz, rssi_db=2.0, on_fraction=0.5,
                      features=fv(te_us=402.0, clip_fraction=clip))
        out += e.observe(b, [f])
        if i == 7:
            out += e.observe(product, [])
    assert kinds(_finish(e, out)) == expect


@pytest.mark.parametrize("bw, continuous, on, expect", [
    (195e3, True, 1.0, ["jamming"]),    # held over 195 kHz, nothing decoded: a noise jammer
    (100e3, True, 1.0, []),             # a band a transmitter of ours may occupy: the classifier's
    (195e3, False, 0.87, ["jamming"]),  # on 87 %, short of the front end's flag: held all the same
    (195e3, False, 0.5, []),            # keyed, not held: the classifier's
])
def test_a_wide_band_held_for_seconds_is_jamming_whatever_the_classifier(bw, continuous, on,
                                                                         expect):
    # development jamming seed 321: a noise jammer 200 kHz wide, 5.6 dB over the fob, held
    # the channel 12-15 s (three 1 s segments, each flagged continuous by the front end) and
    # scored P(jammer) 0.02-0.22; no fob or sensor occupies 195 kHz
    model = StandInClassifier({11.6: {"jammer": 0.1, "other": 0.9}})
    e = engine(models={"burst": model})
    out = []
    for k in range(3):
        out += e.observe(BurstInfo(t=12.0 + k, t_end=13.0 + k, freq_hz=433.9522e6,
                                   rssi_db=-14.6, on_fraction=on, bandwidth_hz=bw,
                                   features=fv(te_us=11.6), jammer_like=continuous), [])
    assert kinds(_finish(e, out)) == expect


@pytest.mark.parametrize("on, keyed_lobes, owner_db, expect", [
    (0.875, True, -22.1, ["jamming"]),   # held on over 216 kHz: neither a collision nor a beat
    (0.875, False, -22.1, ["jamming"]),
    (0.45, True, -22.1, []),             # keyed lobes, as a sensor and a fob merged: a collision
    (0.875, False, -8.0, []),            # 9 dB under the owner: a relay's noise, not a jammer
    (0.875, False, None, []),            # no fob heard to weigh it against: the classifier's
])
def test_a_wide_held_segment_on_its_own_is_jamming_however_short(on, keyed_lobes, owner_db,
                                                                 expect):
    # fresh held-out RollJam seed 919: a 200 kHz noise jammer 24 dB over the floor, 5 dB over
    # the owner's press, its first 1 s segment on 87.5 % (under the front end's continuous
    # duty), read as keyed lobes and scored P(jammer) 0.0006; the owner's press inside it split
    # it from the rest. Held-out AF relay seed 902: the relay's noise, 9 dB under the owner's
    # earlier press, in 1 s segments
    from detect_fakes import keeloq

    model = StandInClassifier({9.1: {"jammer": 0.0006, "other": 0.9994}, 400.0: {"other": 1.0}})
    e = engine(models={"burst": model})
    out = []
    if owner_db is not None:
        out += e.observe(BurstInfo(t=2.0, t_end=2.293, freq_hz=433.9374e6, rssi_db=owner_db,
                                   on_fraction=0.5, features=fv(te_us=400.0)),
                         [keeloq(2.0, 0x1234, freq=433.9374e6, rssi=owner_db)])
    out += e.observe(BurstInfo(t=8.0, t_end=9.0, freq_hz=433.855e6, rssi_db=-17.1,
                               on_fraction=on, bandwidth_hz=216e3, features=fv(te_us=9.1),
                               keyed_lobes=keyed_lobes), [])
    assert kinds(_finish(e, out)) == expect


@pytest.mark.parametrize("start, end, clip, expect", [
    (21.3262, 21.9066, 0.3, []),            # within the clipped sensor, ending with it
    (21.3262, 21.9700, 0.3, ["jamming"]),   # ran on 66 ms after it
    (21.3262, 21.9066, 0.0, ["jamming"]),   # the sensor did not clip: no products
])
def test_an_episode_within_a_clipped_transmission_ending_with_it_is_its_product(
        start, end, clip, expect):
    # fresh benign soak seed 195105: a sensor clipping the receiver (+6.2 dBFS, 21.21-21.90 s,
    # decoded) and a weaker one (-6.5 dBFS) 15 kHz from its -3F product, sending at the same
    # time; the weak one's region, open from 0.11 s into it, decoded nothing (P(jammer) 0.998)
    from detect_fakes import ev1527

    frames = [ev1527(21.2146 + 0.0345 * i, 0xEF0D2, freq=433.906e6) for i in range(20)]
    sensor = BurstInfo(t=21.2146, t_end=21.9043, freq_hz=433.906e6, rssi_db=1.0,
                       on_fraction=0.26, features=fv(te_us=495.6, clip_fraction=clip))
    weak = BurstInfo(t=start, t_end=end, freq_hz=433.9785e6, rssi_db=-8.1, on_fraction=0.29,
                     features=fv(te_us=22.7))
    assert _after_clipped_source(sensor, frames, weak, p_jammer=0.998,
                                 make=_unmasked) == expect


@pytest.mark.parametrize("dur, freq, expect", [
    (0.758, 433.9449e6, []),             # the ring again: same carrier, same length
    (0.900, 433.9449e6, ["jamming"]),    # another length
    (0.758, 433.9549e6, ["jamming"]),    # another carrier
])
def test_an_undecoded_repeat_of_a_decoded_ring_is_that_device(dur, freq, expect):
    # fresh benign soak seed 19004: the doorbell's first ring decoded (47.000–47.758 s); its
    # second (88.500–89.258 s) merged with a strong sensor starting 20 ms later in one region,
    # decoded to nothing and scored as a pulsed jammer
    from detect_fakes import ev1527

    model = StandInClassifier({15.0: {"jammer": 0.95, "other": 0.05},
                               300.0: {"other": 1.0}})
    e = engine(models={"burst": model})
    frames = [ev1527(47.0 + 0.039 * i, 0xEF0D2, freq=433.9444e6) for i in range(19)]
    ring = BurstInfo(t=47.0, t_end=47.758, freq_hz=433.9444e6, rssi_db=-3.6, on_fraction=0.4,
                     features=fv(te_us=300.0))
    out = e.observe(ring, frames)
    merged = BurstInfo(t=88.5, t_end=88.5 + dur, freq_hz=freq, rssi_db=1.3, on_fraction=0.54,
                       features=fv(te_us=15.0))
    out += e.observe(merged, [])
    assert kinds(_finish(e, out)) == expect


@pytest.mark.parametrize("level, expect", [(-18.0, ["jamming"]), (-55.0, ["jamming"]), (-65.0, []),
                                          (-75.0, [])])
def test_a_carrier_far_under_the_fobs_heard_here_is_no_jamming(level, expect):
    # fresh benign soak seed 54008: a weak sensor's chopped 0.73 s transmission 33 dB under the
    # fobs this receiver hears read as a pulsed jammer; it could not stop a car beside the
    # receiver from hearing them (J/S -20 dB is the bar; the fob here at -40 dBFS)
    e = engine()
    out = feed(e, press(1.0, 0x1111, rssi=-40.0))
    out += e.observe(BurstInfo(t=3.0, t_end=5.5, freq_hz=433.85e6, rssi_db=level,
                               bandwidth_hz=3e3, on_fraction=1.0, jammer_like=True), [])
    assert kinds(_finish(e, out)) == expect


@pytest.mark.parametrize("keyed_lobes, protocol, expect", [
    (True, "ev1527", []),               # a sensor and a doorbell merged: a collision
    (False, "ev1527", ["jamming"]),     # one lobe: the frames fill too little of it
    (True, "unknown", []),              # nothing known decoded, but short (next test)
])
def test_two_keyed_lobes_with_a_known_device_decoded_are_a_collision(keyed_lobes, protocol,
                                                                     expect):
    # fresh benign soak seed 58036: a weather sensor at +21 kHz and a doorbell at -27 kHz, each
    # on the other's image, made one 0.97 s burst that the front end took for two 2-FSK lobes
    # (they are keyed, not tones); six doorbell frames decoded at its end (23 % of it) and the
    # rest scored P(jammer) 0.92
    from detect_fakes import ev1527

    model = StandInClassifier({7.65: {"jammer": 0.92, "other": 0.08}})
    e = engine(models={"burst": model})
    frames = [ev1527(89.007 + 0.0383 * i, 0xEF0D2, freq=433.8928e6) for i in range(6)]
    if protocol == "unknown":
        frames = [Packet(capture="a.cu8", t=p.t, t_end=p.t_end, modulation="OOK",
                         protocol="unknown", bits=24, data="3A5C96", identity=None, code=None,
                         fields={}, integrity="none", rssi_db=-11.2, freq_hz=p.freq_hz)
                  for p in frames]
    merged = BurstInfo(t=88.30, t_end=89.265, freq_hz=433.8928e6, rssi_db=-11.2,
                       on_fraction=0.45, features=fv(te_us=7.65), keyed_lobes=keyed_lobes)
    out = e.observe(merged, frames)
    assert kinds(_finish(e, out)) == expect


@pytest.mark.parametrize("lobes, tones, expect", [
    ((-27.3e3, 19.5e3), None, True),                   # two lobes, keyed: two transmitters
    ((-27.3e3, 19.5e3), (-27.3e3, 19.5e3), False),     # a 2-FSK carrier's steady tones
    (None, None, False),                               # one lobe
])
def test_keyed_lobes_come_from_the_front_end_burst(lobes, tones, expect):
    from types import SimpleNamespace

    b = SimpleNamespace(t=88.3, t_end=89.27, freq_hz=433.8928e6, offset_hz=-27.2e3,
                        channel_offset_hz=-3.9e3, continuous=False, fsk_lobes_hz=lobes,
                        fsk_tones_hz=tones)
    assert BurstInfo.from_burst(b).keyed_lobes is expect


@pytest.mark.parametrize("keyed_lobes, dur, continuous, expect", [
    (True, 0.71, False, []),              # a sensor's message and a fob merged: a collision
    (True, 2.0, False, ["jamming"]),      # held for longer than any message
    (False, 0.71, False, ["jamming"]),    # one lobe, and the classifier is sure
    (True, 0.71, True, ["jamming"]),      # the front end found it holding the channel
])
def test_two_keyed_lobes_nothing_decoded_are_a_collision_when_short(keyed_lobes, dur,
                                                                    continuous, expect):
    # fresh benign soak seed 72086: a weather sensor's 0.71 s message and the owner's press
    # 28 kHz away, joined through a tyre sensor's region that began with the sensor; nothing
    # decoded and the burst scored P(jammer) 0.99. A RollJam's pulsed jammer merged with its
    # images reads as keyed lobes too, in 1 s segments the front end flags continuous
    # (development RollJam seed 418)
    model = StandInClassifier({6.38: {"jammer": 0.99, "other": 0.01}})
    e = engine(models={"burst": model})
    merged = BurstInfo(t=64.445, t_end=64.445 + dur, freq_hz=433.9474e6, rssi_db=-6.8,
                       on_fraction=0.42, features=fv(te_us=6.38), keyed_lobes=keyed_lobes,
                       jammer_like=continuous)
    out = e.observe(merged, [])
    assert kinds(_finish(e, out)) == expect


@pytest.mark.parametrize("doorbell_hz, dur, continuous, expect", [
    (433.9030e6, 0.726, False, []),            # the doorbell 24 kHz away, inside the channel
    (433.8700e6, 0.726, False, ["jamming"]),   # 57 kHz away: outside the 44 kHz channel
    (433.9030e6, 2.0, False, ["jamming"]),     # held for longer than any message
    (433.9030e6, 0.726, True, ["jamming"]),    # the front end found it holding the channel
])
def test_undecoded_burst_whose_channel_passed_a_decoded_device_is_a_collision(
        doorbell_hz, dur, continuous, expect):
    # fresh benign soak seed 124049: a weather sensor's message at +7.1 kHz, measured through
    # a 44 kHz channel centred at +4 kHz, with a doorbell at -17 kHz keyed at the same level
    # for all of it; the two beat, nothing decoded, and it scored P(jammer) 0.98
    from detect_fakes import ev1527

    model = StandInClassifier({164.3: {"jammer": 0.98, "other": 0.02}})
    e = engine(models={"burst": model})
    frames = [ev1527(88.5 + 0.0384 * i, 0xEF0D2, freq=doorbell_hz) for i in range(20)]
    bell = BurstInfo(t=88.5, t_end=89.32, freq_hz=doorbell_hz, rssi_db=-6.5, on_fraction=0.51,
                     bandwidth_hz=64e3)
    out = e.observe(bell, frames)
    sensor = BurstInfo(t=88.594, t_end=88.594 + dur, freq_hz=433.9271e6, rssi_db=-6.8,
                       bandwidth_hz=28e3, on_fraction=0.52, features=fv(te_us=164.3),
                       channel_offset_hz=3.1e3, channel_bw_hz=44e3, jammer_like=continuous)
    out += e.observe(sensor, [])
    assert kinds(_finish(e, out)) == expect


def test_channel_bandwidth_comes_from_the_front_end_burst():
    from types import SimpleNamespace

    b = SimpleNamespace(t=88.59, t_end=89.32, freq_hz=433.9271e6, offset_hz=7.1e3,
                        channel_offset_hz=4.0e3, channel_bw_hz=44e3, continuous=False)
    info = BurstInfo.from_burst(b)
    assert info.channel_bw_hz == pytest.approx(44e3)
    assert info.channel_offset_hz == pytest.approx(3.1e3)


@pytest.mark.parametrize("first_frame_s, limit_s, expect", [
    (0.67, 1.0, []),             # frames up to the cut: the press went on past it
    (0.67, None, ["jamming"]),   # the whole burst was demodulated: 3 frames in 1.53 s
    (0.10, 1.0, ["jamming"]),    # frames long before the cut: energy after them unexplained
])
def test_frames_running_to_the_demodulation_cut_are_judged_on_the_part_demodulated(
        first_frame_s, limit_s, expect):
    # a held press merged with a clipped sensor into one 1.53 s burst: its first frames did
    # not decode beside the sensor, and only the burst's first second was demodulated
    frames = press(1.0 + first_frame_s, 0x1, frames=3)
    e = engine()
    b = BurstInfo(t=1.0, t_end=2.53, freq_hz=433.92e6, rssi_db=2.0, on_fraction=0.49,
                  demod_limit_s=limit_s)
    assert kinds(_finish(e, e.observe(b, frames))) == expect


@pytest.mark.parametrize("sensor_end, clip, sensor_rssi, expect", [
    (47.634, 0.3, 1.8, []),             # frames after the clipping sensor ended: masked
    (47.634, 0.0, 1.8, ["jamming"]),    # the sensor did not clip: nothing masked the bell
    (47.634, 0.3, -6.0, ["jamming"]),   # a clipped sensor weaker than the bell
    (47.300, 0.3, 1.8, ["jamming"]),    # ended early: 0.37 s of the bell unexplained
])
def test_a_known_device_decoded_only_outside_a_clipped_transmission_was_masked_by_it(
        sensor_end, clip, sensor_rssi, expect):
    # fresh benign soak seed 206111: a weather sensor 9 dB over full scale (+1.8 dBFS read,
    # 46.92-47.63 s, decoded) and a doorbell 40 kHz away at 0 dBFS (47.00-47.77 s) that decoded
    # only in its last 0.1 s, after the sensor ended: P(jammer) 0.91
    from detect_fakes import ev1527

    sensor_frames = [ev1527(46.9163 + 0.072 * i, 0x5A5A5, freq=433.941e6)
                     for i in range(int((sensor_end - 46.9163) / 0.072))]
    sensor = BurstInfo(t=46.9163, t_end=sensor_end, freq_hz=433.941e6, rssi_db=sensor_rssi,
                       on_fraction=0.24, features=fv(te_us=495.6, clip_fraction=clip))
    bell_frames = [ev1527(47.665 + 0.039 * i, 0xEF0D2, freq=433.9014e6) for i in range(2)]
    bell = BurstInfo(t=47.0, t_end=47.771, freq_hz=433.9014e6, rssi_db=-0.8, on_fraction=0.33,
                     features=fv(te_us=44.7))
    assert _after_clipped_source(sensor, sensor_frames, bell, bell_frames,
                                 p_jammer=0.91) == expect


@pytest.mark.parametrize("press_offset, clip, expect", [
    (-13.0e3, 0.3, []),             # the press's -3F product (+39 kHz) chopped the sensor
    (-13.0e3, 0.0, ["jamming"]),    # the press did not clip: no product
    (-20.0e3, 0.3, ["jamming"]),    # its product (+60 kHz) fell outside the sensor's channel
])
def test_a_sensor_chopped_by_a_clipped_press_product_in_its_channel_is_a_collision(
        press_offset, clip, expect):
    # fresh benign soak seed 195074: a held KeeLoq press 13 kHz below the centre and over full
    # scale, one burst per frame, each decoded; a weather sensor at -6 dBFS, 45.6 kHz above the
    # centre (channel 30-53 kHz), sent for 0.72 s from the 9th frame on: the press's -3F
    # product at +39 kHz chopped it, nothing decoded, P(jammer) 0.99. The sensor's burst
    # comes before the frames that began after it.
    centre = 433.92e6
    model = StandInClassifier({342.3: {"jammer": 0.993, "other": 0.007},
                               397.5: {"other": 1.0}})
    e = DetectionEngine(profiles=PROFILES, models={"burst": model})
    e.begin_capture("a.cu8", center_freq_hz=centre)
    out = []
    sensor = BurstInfo(t=31.9272, t_end=32.6504, freq_hz=centre + 41.6e3, rssi_db=-7.4,
                       on_fraction=0.51, features=fv(te_us=342.3), channel_offset_hz=-3.36e3,
                       channel_bw_hz=23.4375e3)
    for i in range(14):
        t = 31.0 + 0.1073 * i
        f = replace(keeloq(t, 0xC4FC2155, rssi=2.0, freq=centre + press_offset), t_end=t + 0.0914)
        out += e.observe(BurstInfo(t=t, t_end=f.t_end, freq_hz=f.freq_hz, rssi_db=2.0,
                                   on_fraction=0.51, features=fv(te_us=397.5, clip_fraction=clip)),
                         [f])
        if i == 8:
            out += e.observe(sensor, [])
    assert kinds(_finish(e, out)) == expect


@pytest.mark.parametrize("bell_rssi, clip, sensor_end, expect", [
    (1.9, 0.3, 89.4217, []),            # 76 % of the sensor under the clipped bell: masked
    (1.9, 0.0, 89.4217, ["jamming"]),   # the bell did not clip: it masked nothing
    (-1.5, 0.3, 89.4217, ["jamming"]),  # clipped but not 2 dB stronger than the sensor
    (1.9, 0.3, 89.9000, ["jamming"]),   # 46 % under the bell: the rest held the channel
])
def test_an_undecoded_burst_mostly_under_a_stronger_clipped_transmission_is_masked(
        bell_rssi, clip, sensor_end, expect):
    # fresh benign soak seed 219084: a doorbell 11 dB over full scale (read +1.9 dBFS,
    # 88.50-89.25 s, decoded) and a weather sensor at 0 dBFS 59 kHz away (read -2.8 dBFS,
    # 88.72-89.42 s) chopped at the bell's keying: nothing decoded, P(jammer) 0.99
    from detect_fakes import ev1527

    frames = [ev1527(88.509 + 0.038 * i, 0xEF0D2, freq=433.8975e6) for i in range(19)]
    bell = BurstInfo(t=88.5, t_end=89.2539, freq_hz=433.8975e6, rssi_db=bell_rssi,
                     on_fraction=0.4, features=fv(te_us=300.0, clip_fraction=clip))
    sensor = BurstInfo(t=88.718, t_end=sensor_end, freq_hz=433.9437e6, rssi_db=-2.8,
                       on_fraction=0.19, features=fv(te_us=27.4))
    assert _after_clipped_source(bell, frames, sensor, p_jammer=0.986) == expect


@pytest.mark.parametrize("start, p_second, expect_end", [
    (3.2, 0.40, 3.933),   # cut where the jamming segment ended: the same carrier, carried on
    (3.25, 0.40, 3.2),    # 50 ms later: a transmission of its own, left to the classifier
    (3.2, 0.95, 3.933),   # the classifier calls it a jammer anyway
])
def test_a_continuous_segment_carrying_on_a_jamming_segment_is_that_jammer(start, p_second,
                                                                         expect_end):
    # fresh held-out RollJam sample seed 912: a CW jammer cut into 1 s segments; its last one,
    # 0.73 s, scored P(jammer) 0.40 and was explained, so the owner's press under it was not
    # heard under jamming and RollJam's second replay was called a RollBack
    model = StandInClassifier({7.0: {"jammer": 1.0}, 8.0: {"jammer": p_second,
                                                           "other": 1.0 - p_second}})
    e = engine(models={"burst": model})
    out = e.observe(BurstInfo(t=1.2, t_end=2.2, freq_hz=433.8667e6, rssi_db=2.0,
                              on_fraction=1.0, bandwidth_hz=16e3, features=fv(te_us=7.0),
                              jammer_like=True), [])
    out += e.observe(BurstInfo(t=2.2, t_end=3.2, freq_hz=433.8667e6, rssi_db=2.0,
                               on_fraction=1.0, bandwidth_hz=16e3, features=fv(te_us=7.0),
                               jammer_like=True), [])
    out += e.observe(BurstInfo(t=start, t_end=3.933, freq_hz=433.8667e6, rssi_db=1.4,
                               on_fraction=1.0, bandwidth_hz=16e3, features=fv(te_us=8.0),
                               jammer_like=True), [])
    alerts = [a for a in _finish(e, out) if a.kind == "jamming"]
    assert len(alerts) == 1 and alerts[0].t_end == pytest.approx(expect_end)


@pytest.mark.parametrize("clip, start, freq, end, expect", [
    (0.3, 89.0745, 433.99959e6, 89.6138, []),              # its start hidden: the sensor again
    (0.0, 89.0745, 433.99959e6, 89.6138, ["jamming"]),     # the bell did not clip: nothing hid
    (0.3, 88.2000, 433.99959e6, 88.7400, ["jamming"]),     # began before the bell
    (0.3, 89.0745, 433.98959e6, 89.6138, ["jamming"]),     # 10 kHz off the sensor's carrier
    (0.3, 89.0745, 433.99959e6, 90.2000, ["jamming"]),     # longer than the sensor's message
])
def test_the_rest_of_a_known_transmission_whose_start_a_clipped_one_hid_is_that_device(
        clip, start, freq, end, expect):
    # fresh benign soak seed 270166: a weather sensor's message (0.74 s; its previous one, 49 s
    # before, decoded on its carrier) began under a doorbell 12 dB over full scale 31 kHz away;
    # the 0.54 s the front end found of it decoded nothing and read as a pulsed jammer
    from detect_fakes import ev1527

    model = StandInClassifier({15.0: {"jammer": 0.95, "other": 0.05},
                               300.0: {"other": 1.0}, 1019.0: {"other": 1.0}})
    e = engine(models={"burst": model})
    sensor_frames = [ev1527(39.904 + 0.075 * i, 0x603CC, freq=433.99930e6) for i in range(10)]
    out = e.observe(BurstInfo(t=39.904, t_end=40.653, freq_hz=433.99930e6, rssi_db=-6.0,
                              on_fraction=0.25, features=fv(te_us=1019.0)), sensor_frames)
    bell_frames = [ev1527(88.509 + 0.039 * i, 0xEF0D2, freq=433.9688e6) for i in range(19)]
    out += e.observe(BurstInfo(t=88.5, t_end=89.2772, freq_hz=433.9688e6, rssi_db=1.8,
                               on_fraction=0.4, features=fv(te_us=300.0, clip_fraction=clip)),
                     bell_frames)
    out += e.observe(BurstInfo(t=start, t_end=end, freq_hz=freq, rssi_db=-5.5,
                               on_fraction=0.30, features=fv(te_us=15.0)), [])
    assert kinds(_finish(e, out)) == expect


@pytest.mark.parametrize("press, noise_db, expect", [
    (True, -26.8, []),             # 16 dB under the owner's press: a relay's amplifier noise
    (True, -12.0, ["jamming"]),    # within 10 dB of it: could jam it
    (False, -26.8, ["jamming"]),   # no fob heard to compare with
])
def test_a_wide_band_held_far_under_every_fob_heard_is_no_jamming(press, noise_db, expect):
    # held-out AF relay seeds 910-913: the relay's noise, 264 kHz wide at -27 dBFS, in 1 s
    # segments for seconds around the forwarded frame, 16 dB under the owner's earlier press,
    # P(jammer) under 0.001
    from detect_fakes import keeloq

    model = StandInClassifier({9.1: {"jammer": 0.0004, "other": 0.9996}, 400.0: {"other": 1.0}})
    e = engine(models={"burst": model})
    out = []
    if press:
        out += e.observe(BurstInfo(t=1.5, t_end=1.808, freq_hz=433.9205e6, rssi_db=-10.45,
                                   on_fraction=0.5, features=fv(te_us=400.0)),
                         [keeloq(1.5, 0x1234, freq=433.9205e6, rssi=-10.45)])
    for k in range(3):  # long enough to need no classifier
        out += e.observe(BurstInfo(t=6.0 + k, t_end=7.0 + k, freq_hz=434.0336e6,
                                   rssi_db=noise_db, on_fraction=0.95, bandwidth_hz=264e3,
                                   features=fv(te_us=9.1)), [])
    assert kinds(_finish(e, out)) == expect


@pytest.mark.parametrize("seconds, alerts", [(1.2, []), (2.4, []), (3.0, ["jamming"])])
def test_classifier_does_not_excuse_an_undecoded_burst_held_for_seconds(seconds, alerts):
    """An undecoded keyed burst on the fob channel whose features show no line code (a pulsed
    jammer clipped 27 dB over the fob reads a base unit of 13 µs) is excused by the burst
    classifier's "other" only while it is no longer than ``classifier_max_undecoded_s``:
    nothing benign holds a channel for seconds without a frame, and such a burst is outside
    what the classifier learnt (fresh jamming seeds 1204, 1222, 1239: 3 s pulsed jammers at
    P(jammer) 0.02-0.16). Shorter ones stay the classifier's to judge."""
    feats = fv(te_us=13.3, on_fraction=0.5, clip_fraction=0.46, timing_jitter_us=40.0)
    model = StandInClassifier({13.3: {"jammer": 0.02, "other": 0.98}})
    e = engine(models={"burst": model})
    b = BurstInfo(t=8.0, t_end=8.0 + seconds, freq_hz=433.925e6, rssi_db=2.7,
                  on_fraction=0.5, bandwidth_hz=8e3, features=feats)
    assert kinds(_finish(e, e.observe(b, []))) == alerts


@pytest.mark.parametrize("p_jammer, alerts", [(0.9993, ["jamming"]), (0.02, [])])
def test_burst_held_for_seconds_that_looks_like_data_is_the_classifiers_to_condemn(p_jammer,
                                                                                   alerts):
    """A 3 s undecoded burst whose run widths look like a line code (a pulsed jammer's square
    wave can: held-out seed 901) is a jammer when the classifier calls it one, and excused
    when neither the rules nor the classifier speak against it."""
    feats = fv(te_us=400.0, on_fraction=0.5, clip_fraction=0.0, timing_jitter_us=4.0)
    model = StandInClassifier({400.0: {"jammer": p_jammer, "other": 1.0 - p_jammer}})
    e = engine(models={"burst": model})
    b = BurstInfo(t=3.0, t_end=6.0, freq_hz=433.876e6, rssi_db=1.2, on_fraction=0.5,
                  bandwidth_hz=8e3, features=feats)
    assert kinds(_finish(e, e.observe(b, []))) == alerts
