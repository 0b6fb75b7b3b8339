"""The detectors behind the real front end: simulated IQ → bursts → packets → features → alerts,
and enrolment into a state file (keyguard enroll)."""

from __future__ import annotations

import numpy as np
import pytest

from keyguard.detect import DetectionEngine
from keyguard.detect.enroll import enroll_capture
from keyguard.pipeline import observe_capture
from keyguard.errors import EnrollmentError
from keyguard.features.vector import FEATURE_NAMES
from keyguard.io.capture import Capture
from keyguard.protocols.registry import load_registry
from keyguard.sim.scenario import Scenario
from keyguard.state import State

# The owner's fob is given a clean oscillator (no turn-on chirp, no phase noise): these tests
# check the plumbing from IQ to alerts, not the demodulator's tolerance of impairments.
OWNER = {"id": "owner", "protocol": "keeloq", "serial": "0x0D36C681",
         "key": "0x5CEC6701B79FD949", "counter": 100, "position": [6, 2],
         "fingerprint": {"chirp_hz": 0.0, "phase_noise_hz": 0.0}}


def scenario(attacks=(), presses=(0.3, 1.6), duration=4.5, seed=3):
    return Scenario.from_dict({
        "name": "pipeline", "duration_s": duration, "seed": seed,
        "receiver": {"center_freq": 433.92e6, "sample_rate": 250000, "gain_db": 25},
        "channel": {"k_factor_db": "none", "delay_spread_ns": 0, "shadowing_db": 0},
        "devices": [OWNER],
        "presses": [{"device": "owner", "t": t} for t in presses],
        "attacks": list(attacks)}).plan()


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def scan(capture, registry, state=None):
    eng = DetectionEngine(profiles=registry, state=state)
    alerts = eng.begin(capture)
    packets = 0
    for ob in observe_capture(capture, registry):
        packets += len(ob.packets)
        alerts += eng.observe(ob.burst, ob.packets)
    return alerts + eng.finish(), packets


def raw_replay(rendering, src_s, dst_s, shift_hz):
    """The capture with a raw-IQ replay pasted in: the samples of [src_s] sent again at dst_s
    by a radio whose oscillator sits ``shift_hz`` away (what a HackRF-style replayer does)."""
    x = rendering.render()
    fs = rendering.sample_rate
    a, b = (int(round(t * fs)) for t in src_s)
    seg = x[a:b] * np.exp(2j * np.pi * shift_hz * np.arange(b - a) / fs).astype(np.complex64)
    d = int(round(dst_s * fs))
    x = x.copy()
    x[d:d + seg.size] += seg
    return Capture.from_array(x, fs, rendering.receiver.center_freq, path="replayed.cu8")


def test_a_replayed_press_is_caught_behind_the_front_end(registry):
    r = scenario()
    alerts, packets = scan(r.capture(), registry)
    assert alerts == [] and packets >= 6          # two genuine presses: nothing to say
    alerts, _ = scan(raw_replay(r, (0.28, 0.66), 3.2, 4000.0), registry)
    assert [a.kind for a in alerts] == ["replay"]
    a = alerts[0]
    assert a.identity == "keeloq:0D36C681"
    assert a.t == pytest.approx(3.22, abs=0.05)
    assert a.evidence["first_seen"]["t"] == pytest.approx(0.3, abs=0.05)
    assert a.evidence["carrier_shift_hz"] == pytest.approx(4000.0, abs=300.0)


def test_enrolment_records_the_owner_and_refuses_an_unknown_fob(registry, tmp_path):
    cap = scenario(presses=(0.3, 1.6, 2.9), duration=3.5).capture()
    with State(tmp_path / "s.db") as st:
        res = enroll_capture(st, cap, "keeloq:0D36C681", "car key", registry)
        assert res.presses == 3 and res.bursts >= 3
        got = st.fingerprints("keeloq:0D36C681", FEATURE_NAMES)
        assert len(got) == 3 and {r.label for r in got} == {"car key"}
        with pytest.raises(EnrollmentError, match="keeloq:0D36C681"):
            enroll_capture(st, cap, "keeloq:12345678", None, registry)


def test_enroll_cli_writes_the_state_file(run_cli, tmp_path):
    from keyguard.io.writers import write_iq

    r = scenario(presses=(0.3, 1.6), duration=2.5)
    path = tmp_path / "owner_433.92M_250k.cu8"
    write_iq(path, r.render(), "cu8")
    state = tmp_path / "s.db"
    code, out, err = run_cli("enroll", path, "--identity", "keeloq:0D36C681", "--label", "blue",
                             "--state", state, "--receiver", "dongle-1")
    assert code == 0, err
    assert "enrolled 2 press(es) of keeloq:0D36C681 (blue)" in out
    with State(state) as st:
        assert st.enrolled_identities() == [("keeloq:0D36C681", "blue", 2)]
        assert {r.receiver for r in st.fingerprints("keeloq:0D36C681", FEATURE_NAMES)} == \
            {"dongle-1"}
    code, out, err = run_cli("enroll", path, "--identity", "keeloq:00000001", "--state", state)
    assert code == 2 and "no burst of keeloq:00000001" in err and "Traceback" not in err
