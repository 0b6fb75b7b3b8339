"""Scenarios: TOML loading and its errors, counters and press kinds, attack timelines, streaming,
determinism, clutter and the written files (capture, SigMF sidecar, truth.json, CLI)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from test_sim_physics import FLAT, QUIET_FP, toy_frames

from keyguard.errors import ScenarioError
from keyguard.sim.attacks import BruteForce, Clone, Jam, Relay, RollBack, RollJam
from keyguard.sim.clutter import Doorbell, Tpms, WeatherSensor
from keyguard.sim.emission import BurstEmission, render_chunks
from keyguard.sim.output import write_rendering
from keyguard.sim.scenario import Device, Press, Scenario, list_scenarios, load_scenario

KEY = 0x5CEC6701B79FD949

TOML = """
name = "unit"
description = "a small test scenario"
duration_s = 3.0
seed = 5

[receiver]
center_freq = 433.92e6
sample_rate = 250000
gain_db = 25
ppm = 12.5

[channel]
k_factor_db = "rayleigh"
delay_spread_ns = 80

[[devices]]
id = "owner"
protocol = "toy"
serial = "0x0D36C681"
key = "0x5CEC6701B79FD949"
counter = 300
position = [6, 2]

[[presses]]
device = "owner"
t = 0.4
double = true

[[attacks]]
type = "jam"
t = 1.5
t_end = 2.0
target = "owner"
jsr_db = 15
waveform = "noise"

[[clutter]]
type = "weather"
name = "garden"
period_s = [1.0, 1.5]
"""


def _write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_toml_scenario_loads_and_plans(tmp_path):
    sc = Scenario.from_toml(_write(tmp_path, TOML))
    assert sc.name == "unit" and sc.seed == 5 and sc.devices[0].serial == 0x0D36C681
    assert sc.devices[0].key == KEY and sc.devices[0].position == (6.0, 2.0, 1.0)
    assert sc.channel.k_factor_db is None
    r = sc.plan(frame_source=toy_frames)
    assert r.receiver.ppm == 12.5 and r.receiver.sample_rate == 250000
    kinds = [e.kind for e in r.truth]
    assert kinds.count("press") == 2 and kinds.count("jamming") == 1 and "benign" in kinds
    presses = [e for e in r.truth if e.kind == "press"]
    assert [p.params["counter"] for p in presses] == [300, 301]  # a double press: two codes
    assert presses[0].identity == "toy:0D36C681"


@pytest.mark.parametrize("text, needle", [
    ("name = 'x'\nbogus = 1\n", "bogus"),
    ("[receiver]\nsample_rate = 600000\n", "sample rate"),
    ("[receiver]\ngian_db = 3\n", "gian_db"),
    ("[[devices]]\nid = 'a'\nprotocol = 'toy'\nserial = 'zz'\n", "serial"),
    ("[[presses]]\ndevice = 'ghost'\nt = 1.0\n", "ghost"),
    ("[[devices]]\nid = 'a'\nprotocol = 'toy'\n[[presses]]\ndevice = 'a'\nt = 99.0\n", "outside"),
    ("[[attacks]]\ntype = 'teleport'\n", "teleport"),
    ("[[attacks]]\ntype = 'rollback'\nvictim = 'a'\nn_codes = 9\n", "2..5"),
    ("[[clutter]]\ntype = 'weather'\ncolour = 'red'\n", "colour"),
    ("duration_s = -1\n", "duration_s"),
    ("name = \n", "TOML"),
])
def test_bad_scenarios_raise_one_clear_scenario_error(tmp_path, text, needle):
    p = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as ei:
        Scenario.from_toml(p).plan(frame_source=toy_frames)
    msg = str(ei.value)
    assert needle in msg and "\n" not in msg


def test_cli_reports_a_bad_scenario_with_exit_2(tmp_path, run_cli):
    p = _write(tmp_path, "[receiver]\nsample_rate = 600000\n")
    code, out, err = run_cli("simulate", str(p), "-o", str(tmp_path / "out"))
    assert code == 2 and "sample rate" in err and "Traceback" not in err
    code, out, err = run_cli("simulate", "no-such-scenario", "-o", str(tmp_path / "out"))
    assert code == 2 and "named scenarios" in err


def _rolling_scenario(attacks=(), presses=(), duration=6.0, **kw):
    dev = Device("owner", protocol="toy", serial=0x1234567, key=KEY, counter=1000, fingerprint=QUIET_FP,
                 snr_db=25.0)
    return Scenario(name="s", duration_s=duration, receiver=dict(sample_rate=250e3), channel=FLAT,
                    devices=[dev], presses=list(presses), attacks=list(attacks), **kw)


def test_counters_follow_time_order_and_held_buttons_repeat_the_frame():
    sc = _rolling_scenario(presses=[Press("owner", 3.0), Press("owner", 0.5, hold_s=1.2)])
    r = sc.plan(seed=1, frame_source=toy_frames)
    p = [e for e in r.truth if e.kind == "press"]
    assert [e.params["counter"] for e in p] == [1000, 1001]
    held = p[0]
    assert held.params["frames"] > 3 and held.t_end - held.t >= 1.2 - 0.12
    assert sc.presses[1].counter is None  # planning does not change the scenario


def test_rolljam_timeline_jams_two_presses_and_replays_the_codes():
    rj = RollJam("owner", presses=(1.0, 2.5), replay_delay_s=0.8, replay2_t=5.0)
    r = _rolling_scenario([rj]).plan(seed=2, frame_source=toy_frames)
    presses = [e for e in r.truth if e.kind == "press"]
    (jam,) = [e for e in r.truth if e.kind == "jamming"]
    replays = [e for e in r.truth if e.kind == "rolljam"]
    assert all(p.params["jammed"] for p in presses) and len(presses) == 2
    assert jam.t < presses[0].t and jam.t_end > presses[1].t_end  # both presses under jamming
    assert jam.params["jsr_db"] == pytest.approx(20.0) and jam.params["offset_hz"] == -70e3
    assert [e.params["counter"] for e in replays] == [1000, 1001]
    assert replays[0].t == pytest.approx(presses[1].t_end + 0.8, abs=1e-6)
    assert replays[0].t > jam.t_end  # code 1 goes out once the jammer stopped
    assert replays[1].t == pytest.approx(5.0, abs=1e-6)
    assert all(e.identity == "toy:01234567" for e in replays)


def test_rollback_replays_consecutive_old_codes_back_to_back():
    rb = RollBack("owner", t=4.0, n_codes=3, source="earlier", gap_s=0.2)
    sc = _rolling_scenario([rb], presses=[Press("owner", t) for t in (0.5, 1.5, 2.5, 3.2)])
    r = sc.plan(seed=3, frame_source=toy_frames)
    (ev,) = [e for e in r.truth if e.kind == "rollback"]
    assert ev.params["counters"] == [1001, 1002, 1003]
    assert ev.params["original_t"] == [1.5, 2.5, 3.2]
    assert ev.t == pytest.approx(4.0) and ev.t_end - ev.t < 3 * 0.4 + 2 * 0.2 + 0.1
    unseen = RollBack("owner", t=4.0, n_codes=2, source="unseen")
    r = _rolling_scenario([unseen], presses=[Press("owner", 1.0)]).plan(seed=3, frame_source=toy_frames)
    (ev,) = [e for e in r.truth if e.kind == "rollback"]
    assert ev.params["counters"] == [960, 961] and ev.params["original_t"] == [None, None]


def test_clone_relay_and_bruteforce_report_their_truth():
    attacks = [Clone("owner", t=1.0, counter_ahead=7), Relay("owner", t=2.0, mode="lf"),
               BruteForce("owner", t=3.0, n_codes=5, field="serial", frames_per_code=1, start_code=10)]
    r = _rolling_scenario(attacks, presses=[Press("owner", 0.2)]).plan(seed=4, frame_source=toy_frames)
    by_kind = {e.kind: e for e in r.truth if e.kind != "press"}
    assert by_kind["clone"].params["counter"] == 1000 + 7
    assert by_kind["relay"].params["lf_only"] and by_kind["relay"].params["fob_distance_m"] > 35
    assert by_kind["bruteforce"].params["n_codes"] == 5 and by_kind["bruteforce"].params["start_code"] == 10
    fobs = [e for e in r.truth if e.kind == "press"]
    assert fobs[1].params["rx_power_dbm"] < fobs[0].params["rx_power_dbm"] - 15  # answer from afar


def test_same_seed_same_bytes_and_chunking_does_not_matter():
    sc = _rolling_scenario([Jam(t=0.5, t_end=1.5, target="owner", waveform="noise", jsr_db=5)],
                           presses=[Press("owner", 0.2), Press("owner", 1.0)], duration=2.0)
    a = sc.plan(seed=11, frame_source=toy_frames).render()
    b = sc.plan(seed=11, frame_source=toy_frames).render()
    assert a.tobytes() == b.tobytes()
    c = sc.plan(seed=12, frame_source=toy_frames).render()
    assert a.tobytes() != c.tobytes()
    r = sc.plan(seed=11, frame_source=toy_frames)
    small = np.concatenate(list(render_chunks(r.emissions, r.receiver, r.num_samples, r.seed, chunk=10_000)))
    assert small.tobytes() == a.tobytes()


def test_streaming_frees_every_burst_once_it_is_past():
    sc = _rolling_scenario(presses=[Press("owner", t) for t in (0.2, 1.2, 2.2, 3.2)], duration=4.0)
    r = sc.plan(seed=1, frame_source=toy_frames)
    bursts = [e for e in r.emissions if isinstance(e, BurstEmission)]
    alive = []
    for k, _ in enumerate(r.chunks(chunk=50_000)):
        alive.append(sum(e._cache is not None for e in bursts))
    assert max(alive) <= 2 and alive[-1] == 0


def test_clutter_keeps_its_periods_and_tpms_is_fsk_at_its_deviation():
    sc = Scenario(name="c", duration_s=20.0, receiver=dict(sample_rate=1.024e6, ppm=0.0, adc_bits=None),
                  channel=FLAT, clutter=[WeatherSensor(name="ws", period_s=(3.0, 5.0)),
                                         Tpms(name="tp", period_s=(8.0, 9.0), deviation_hz=35e3,
                                              position=(5.0, 0.0, 1.0)),
                                         Doorbell(name="db", presses=[4.0])])
    r = sc.plan(seed=2, frame_source=toy_frames)
    ws = [e.t for e in r.truth if e.source == "ws"]
    assert len(ws) >= 3 and np.all(np.diff(ws) >= 3.0 * 0.95) and np.all(np.diff(ws) <= 5.0 * 1.06)
    tp = [e for e in r.truth if e.source == "tp"][0]
    fs = r.sample_rate
    (em,) = [e for e in r.emissions if e.source == "tp" and e.start <= tp.t * fs < e.stop][:1]
    w = em.waveform()
    on = np.abs(w) > 0.5 * np.abs(w).max()
    inst = np.angle(w[1:] * np.conj(w[:-1])) * fs / (2 * np.pi) - tp.params["baseband_offset_hz"]
    inst = inst[on[1:] & on[:-1]]
    dev = np.percentile(np.abs(inst), 75)
    assert dev == pytest.approx(35e3, rel=0.15)  # ±35 kHz with the sensor's deviation error
    assert [e.t for e in r.truth if e.source == "db"] == [4.0]


def test_written_capture_sidecar_and_truth_agree(tmp_path):
    sc = _rolling_scenario([Jam(t=0.4, t_end=0.7, target="owner", jsr_db=10)],
                           presses=[Press("owner", 0.1)], duration=1.0)
    r = sc.plan(seed=6, frame_source=toy_frames)
    out = write_rendering(r, tmp_path, "cu8")
    assert out.data.name == "s_433.92M_250k.cu8" and out.meta.name == "s_433.92M_250k.sigmf-meta"
    raw = np.fromfile(out.data, np.uint8)
    y = r.render()  # the ADC's own 8-bit codes are what the file holds
    assert np.array_equal(raw[0::2], np.rint(y.real * 127.5 + 127.5))
    assert np.array_equal(raw[1::2], np.rint(y.imag * 127.5 + 127.5))
    meta = json.loads(out.meta.read_text())
    assert meta["global"]["core:dataset"] == out.data.name
    labels = [a["core:label"] for a in meta["annotations"]]
    assert labels == [e.kind for e in r.truth]
    jam = [a for a in meta["annotations"] if a["core:label"] == "jamming"][0]
    assert jam["core:sample_start"] == pytest.approx(0.4 * 250e3, abs=1)
    assert jam["keyguard:params"]["jsr_db"] == pytest.approx(10.0)
    truth = json.loads(out.truth.read_text())
    assert truth["seed"] == 6 and len(truth["events"]) == len(r.truth)
    assert truth["devices"]["owner"]["fingerprint"]["clock_error"] == 0.0
    from keyguard.io import open_capture

    cap = open_capture(str(out.data))
    assert cap.sample_rate == 250e3 and cap.center_freq == 433.92e6 and cap.num_samples == r.num_samples
    assert np.allclose(cap.read(0, 1000), y[:1000], atol=1e-6)


def test_cli_renders_a_clutter_only_scenario_deterministically(tmp_path, run_cli):
    text = """
name = "street"
duration_s = 2.0
[receiver]
sample_rate = 250000
[[clutter]]
type = "doorbell"
name = "bell"
presses = [0.3]
[[attacks]]
type = "jam"
t = 1.0
t_end = 1.5
power_dbm = -10
waveform = "swept"
"""
    p = _write(tmp_path, text)
    outs = []
    for d in ("a", "b"):
        code, out, err = run_cli("simulate", str(p), "-o", str(tmp_path / d), "--seed", "3", "--format", "sigmf")
        assert code == 0, err
        assert "truth.json" in out and "jamming 1" in out
        outs.append((tmp_path / d / "street_433.92M_250k.sigmf-data").read_bytes())
    assert outs[0] == outs[1]
    code, out, err = run_cli("simulate", str(p), "-o", str(tmp_path / "a"), "--seed", "3", "--format", "sigmf")
    assert code == 2 and "--overwrite" in err


def test_named_scenarios_are_listed_and_valid(run_cli):
    names = list_scenarios()
    assert {"benign_day", "rolljam", "rollback", "replay_fixed", "clone", "relay_af", "relay_df",
            "bruteforce", "jamming"} <= set(names)
    for name in names:
        sc = load_scenario(name)
        assert sc.description and sc.duration_s > 0
    code, out, err = run_cli("simulate", "--list")
    assert code == 0 and "rolljam" in out


def test_output_formats_of_the_cli_match_the_library():
    from cli.simulate import FORMATS
    from keyguard.sim.output import OUTPUT_FORMATS

    assert FORMATS == OUTPUT_FORMATS


def test_rician_fading_has_unit_mean_power_and_its_k_factor():
    from keyguard.sim.channel import ChannelModel

    link = ChannelModel(shadowing_db=0.0, k_factor_db=6.0, delay_spread_ns=0.0).link(
        (10, 0, 1), (0, 0, 1), 433.92e6, np.random.default_rng(0))
    rng = np.random.default_rng(1)
    g = np.array([link.fading(rng).gains[0] for _ in range(4000)])
    p = np.abs(g) ** 2
    assert p.mean() == pytest.approx(1.0, rel=0.05)
    # moment estimate of K from the power's variance: var/mean² = (1 + 2K)/(1 + K)²
    r = p.var() / p.mean() ** 2
    k = (1 - r + math.sqrt(1 - r)) / r if r < 1 else 0.0
    assert 10 * math.log10(k) == pytest.approx(6.0, abs=1.0)


def test_a_relay_forwards_the_passive_entry_answer_and_the_owner_presses_buttons():
    # a relay forwards the fob's answer to the car's LF challenge: KeeLoq's [passive_entry]
    # (button status 0); the owner's own presses keep their buttons
    from keyguard.sim.scenario import load_scenario

    r = load_scenario("relay_lf").plan(7)
    presses = sorted((e.t, e.params["button"]) for e in r.truth if e.kind == "press")
    assert presses == [(1.5, 1), (7.0, 0)]
    day = load_scenario("benign_day").plan(10)
    buttons = [e.params["button"] for e in day.truth if e.kind == "press"
               and e.source == "owner"]
    assert 0 in buttons and any(b != 0 for b in buttons)


@pytest.mark.parametrize("code", [0xEF0D2, 0xEF0D3, 0xABCDE])  # last bit 0, 1, 0
def test_a_doorbells_repeats_follow_each_other_as_an_ev1527_remotes_do(code):
    # EV1527 frames repeat back to back: each frame's last bit keeps its own off run (1 or
    # 3 units) before the next sync. A pause of 2 units there (the simulator before session 8)
    # made every simulated doorbell undecodable, where rtl_433 and keyguard decode real ones.
    from keyguard.protocols.engine import decode_pulse_train
    from keyguard.pulse_train import PulseTrain

    frames = Doorbell(name="db", code=code, repeats=6).frames(np.random.default_rng(0))
    d, lv = [], []
    for i, f in enumerate(frames):
        if i:  # the pause between the previous frame's end and this one's start
            gap = (f.t - frames[i - 1].t) * 1e6 - frames[i - 1].duration_us
            d.append(gap)
            lv.append(0)
        d += list(f.durations_us)
        lv += list(f.levels)
    d.append(10_000.0)
    lv.append(0)
    packets = decode_pulse_train(PulseTrain(np.array(d), np.array(lv, np.int8)))
    ids = [p.identity for p in packets if p.protocol == "ev1527"]
    assert len(ids) >= 5 and set(ids) == {f"ev1527:{code >> 4:08X}"}
