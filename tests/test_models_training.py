"""Training the burst classifier on simulated scenarios: variation, labels, the CLI."""

from __future__ import annotations

import numpy as np
import pytest

from keyguard.features.vector import FEATURE_NAMES
from keyguard.models.training import vary_scenario
from keyguard.sim.scenario import load_scenario

TINY = """
name = "tiny"
duration_s = 4.0
seed = 1

[receiver]
center_freq = 433.92e6
sample_rate = 250000
gain_db = 25

[[devices]]
id = "owner"
protocol = "keeloq"
serial = "0x0D36C681"
key = "0x5CEC6701B79FD949"
counter = 10
position = [6, 2, 1]
fingerprint = { chirp_hz = 0.0, phase_noise_hz = 0.0 }

[[presses]]
device = "owner"
t = 0.3

[[attacks]]
type = "jam"
t = 1.5
t_end = 3.5
target = "owner"
jsr_db = 20
"""


def test_variants_are_reproducible_and_vary():
    base = load_scenario("rolljam")
    a, b, c = vary_scenario(base, 7), vary_scenario(base, 7), vary_scenario(base, 8)
    assert a.receiver == b.receiver and a.devices[0].position == b.devices[0].position
    assert a.devices[0].position != c.devices[0].position
    assert base.devices[0].position != a.devices[0].position  # the original is untouched
    d = float(np.hypot(*a.devices[0].position[:2]))
    assert 3.0 <= d <= 30.0
    assert 15.0 <= a.receiver["gain_db"] <= 32.0


def test_train_refuses_unknown_scenarios_and_overlapping_seeds(run_cli, tmp_path):
    code, _, err = run_cli("train", "-o", tmp_path / "m.skops", "--scenarios", "nope")
    assert code == 2 and "unknown scenario" in err
    code, _, err = run_cli("train", "-o", tmp_path / "m.skops", "--seeds", "1-3",
                           "--eval-seeds", "3")
    assert code == 2 and "overlap" in err
    # a missing output folder is refused before minutes of rendering, in one line
    code, out, err = run_cli("train", "-o", tmp_path / "no" / "m.skops", "--scenarios", "clone",
                             "--seeds", "1", "--eval-seeds", "2")
    assert code == 2 and "does not exist" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and out == ""


@pytest.mark.slow
def test_train_writes_a_model_with_its_card(run_cli, tmp_path):
    from keyguard.models import load_burst_model, load_model

    scen = tmp_path / "tiny.toml"
    scen.write_text(TINY)
    out = tmp_path / "m.skops"
    code, stdout, err = run_cli("train", "-o", out, "--scenarios", scen, "--seeds", "1",
                                "--eval-seeds", "2", "--dataset", tmp_path / "d.npz")
    assert code == 0, err
    model, card = load_model(out)
    assert card["kind"] == "burst-classifier" and card["training"]["seeds"] == [1]
    assert card["evaluation"]["seeds"] == [2]
    assert {"genuine", "jammer"} <= set(card["classes"])
    assert load_burst_model(out) is not None
    assert (tmp_path / "d.npz").is_file()


class _Event:
    def __init__(self, kind, t, t_end, **params):
        self.kind, self.t, self.t_end, self.params, self.source = kind, t, t_end, params, kind


def test_an_af_relays_noise_around_its_frames_is_not_labelled_relayed():
    from keyguard.models.dataset import label_burst

    # an AF relay switched on 6–11 s forwards the key's frames at 8.0–8.3 s; the front end cuts
    # its amplifier noise into 1 s bursts, one of which touches the frames
    truth = [_Event("relay", 8.0, 8.3, mode="af", baseband_offset_hz=-11e3, t_on=6.0,
                    t_off=11.0)]
    assert label_burst(8.0, 8.3, -11e3, truth, 433.92e6)[0] == "relayed"
    assert label_burst(8.0, 8.1, -11e3, truth, 433.92e6)[0] == "relayed"
    assert label_burst(7.9, 8.32, -11e3, truth, 433.92e6)[0] == "relayed"  # frames, noise lead
    for t0, t1 in ((6.0, 7.0), (7.0, 8.0), (7.99, 11.0), (8.2, 9.2)):
        assert label_burst(t0, t1, -11e3, truth, 433.92e6)[0] == "other", (t0, t1)


def test_train_refuses_bad_extra_seeds(run_cli, tmp_path):
    code, _, err = run_cli("train", "-o", tmp_path / "m.skops", "--extra-seeds", "nope:1-2")
    assert code == 2 and "--extra-seeds" in err
    code, _, err = run_cli("train", "-o", tmp_path / "m.skops", "--extra-seeds", "benign_day")
    assert code == 2 and "--extra-seeds" in err
    code, _, err = run_cli("train", "-o", tmp_path / "m.skops", "--extra-seeds",
                           "benign_day:905-906", "--eval-seeds", "900-905")
    assert code == 2 and "overlap" in err


def test_the_model_card_records_extra_training_runs():
    from keyguard.models.burst import BurstClassifier
    from keyguard.models.dataset import BurstDataset
    from keyguard.models.training import model_card

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, len(FEATURE_NAMES)))
    y = np.array(["genuine", "relayed"] * 20, dtype=object)
    model = BurstClassifier(max_iter=5).fit(X, y)
    ds = BurstDataset(X, y, [{}] * 40)
    card = model_card(model, ["benign_day"], [100], [900], ds, {},
                      extra=[{"scenarios": ["benign_day", "relay_af"], "seeds": [112, 113]}])
    assert card["training"]["extra"] == [{"scenarios": ["benign_day", "relay_af"],
                                          "seeds": [112, 113]}]
    assert card["training"]["per_class"]["relayed"] == 20
    assert "channel_bw_hz" in card["features"]
    # the front end's channel filter is a receiver setting, not a class of radio
    assert FEATURE_NAMES.index("channel_bw_hz") not in set(model.columns_.tolist())
