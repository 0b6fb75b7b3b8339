"""The burst classifier and the per-identity fingerprint model on synthetic feature matrices,
and model files: round trip without pickle, refusal of everything else."""

from __future__ import annotations

import pickle
import zipfile

import numpy as np
import pytest
import skops.io as sio
from sklearn.base import clone

from keyguard.errors import ModelError
from keyguard.features.vector import FEATURE_NAMES, feature_index
from keyguard.models import BurstClassifier, IdentityFingerprintModel, load_model, save_model

N = len(FEATURE_NAMES)


def _col(name):
    return int(feature_index([name])[0])


def synthetic_bursts(n_per_class=80, seed=0):
    """Three classes that differ the way the radios do: fob edges are slow and its clock off;
    a regenerating replayer has fast edges and an exact clock; a raw replayer fills the gaps."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(3 * n_per_class, N))
    y = np.repeat(np.array(["genuine", "regenerated_replay", "raw_replay"]), n_per_class)
    rise, te, noise = _col("rise_time_us"), _col("te_error"), _col("noise_excess_db")
    X[y == "genuine", rise] = rng.normal(12, 3, n_per_class)
    X[y != "genuine", rise] = rng.normal(4, 1, 2 * n_per_class)
    X[y == "genuine", te] = rng.normal(0, 0.03, n_per_class)
    X[y == "regenerated_replay", te] = rng.normal(0, 0.002, n_per_class)
    X[y == "raw_replay", noise] = rng.normal(8, 2, n_per_class)
    X[rng.random(X.shape) < 0.05] = np.nan  # features a burst could not measure
    return X, y


def test_burst_classifier_separates_the_classes():
    X, y = synthetic_bursts(seed=1)
    Xt, yt = synthetic_bursts(seed=2)
    m = BurstClassifier(max_iter=25).fit(X, y)
    assert m.score(Xt, yt) > 0.9
    p = m.predict_proba(Xt)
    assert p.shape == (len(yt), 3) and np.allclose(p.sum(axis=1), 1.0)
    assert set(m.classes_) == {"genuine", "regenerated_replay", "raw_replay"}


@pytest.mark.parametrize("classes", [2, 3])
def test_flat_trees_give_scikit_learns_probabilities(classes):
    # the detectors' fast path must be the same model, not an approximation of it
    X, y = synthetic_bursts(seed=4)
    keep = np.isin(y, ["genuine", "regenerated_replay", "raw_replay"][:classes])
    X, y = X[keep], y[keep]
    m = BurstClassifier(max_iter=30, random_state=1).fit(X, y)
    Xt, _ = synthetic_bursts(seed=5)
    Xt[np.random.default_rng(6).random(Xt.shape) < 0.3] = np.nan
    ref = m.model_.predict_proba(Xt[:, m.columns_])
    assert np.allclose(m.predict_proba(Xt), ref, rtol=0, atol=1e-12)
    assert np.allclose(m.predict_proba(Xt[:1]), ref[:1], rtol=0, atol=1e-12)


def test_shipped_model_flat_trees_match_scikit_learn_on_training_like_rows():
    from keyguard.models.store import load_burst_model

    m = load_burst_model()
    X, _ = synthetic_bursts(seed=7)
    X = X * np.random.default_rng(8).uniform(0.1, 50, X.shape[1])  # spread over the splits
    ref = m.model_.predict_proba(X[:, m.columns_])
    assert np.allclose(m.predict_proba(X), ref, rtol=0, atol=1e-12)


def test_burst_classifier_is_deterministic_and_clonable():
    X, y = synthetic_bursts(seed=3)
    a = BurstClassifier(max_iter=10, random_state=5).fit(X, y).predict_proba(X)
    b = clone(BurstClassifier(max_iter=10, random_state=5)).fit(X, y).predict_proba(X)
    assert np.array_equal(a, b)


def test_burst_classifier_validates_its_input():
    X, y = synthetic_bursts(n_per_class=10)
    with pytest.raises(ValueError, match="features"):
        BurstClassifier().fit(X[:, :5], y)
    bad = X.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError):
        BurstClassifier().fit(bad, y)
    with pytest.raises(ValueError, match="two classes"):
        BurstClassifier().fit(X, np.full(len(y), "genuine"))
    with pytest.raises(ValueError, match="unknown feature"):
        BurstClassifier(features=["nope"]).fit(X, y)


def genuine_and_foreign(seed=0):
    rng = np.random.default_rng(seed)

    def radio(n, cfo, te, rise, droop):
        X = np.full((n, N), np.nan)
        X[:, _col("cfo_ppm")] = cfo + rng.normal(0, 0.2, n)
        X[:, _col("te_us")] = te * (1 + rng.normal(0, 0.0008, n))
        X[:, _col("rise_time_us")] = rise + rng.normal(0, 0.8, n)
        X[:, _col("fall_time_us")] = 6 + rng.normal(0, 0.8, n)
        X[:, _col("droop_db")] = droop + rng.normal(0, 0.08, n)
        X[:, _col("chirp_hz")] = -800 + rng.normal(0, 150, n)
        return X
    return radio(60, 11.0, 412.0, 12.0, 1.1), radio(40, 4.0, 400.2, 4.0, 0.0)


@pytest.mark.parametrize("kind", ["svm", "iforest"])
def test_identity_model_tells_the_owner_from_another_radio(kind):
    own, foreign = genuine_and_foreign()
    m = IdentityFingerprintModel(kind=kind).fit(own[:30])
    assert np.mean(m.predict(own[30:]) == 1) >= 0.85
    assert np.mean(m.predict(foreign) == -1) >= 0.95
    assert list(m.feature_names_) == ["cfo_ppm", "te_us", "rise_time_us", "fall_time_us",
                                      "droop_db", "chirp_hz"]  # FSK deviation never measured


def test_identity_model_validates_its_input():
    own, _ = genuine_and_foreign()
    with pytest.raises(ValueError, match="at least 2"):
        IdentityFingerprintModel().fit(own[:1])
    with pytest.raises(ValueError, match="kind"):
        IdentityFingerprintModel(kind="knn").fit(own)
    with pytest.raises(ValueError, match="no fingerprint feature"):
        IdentityFingerprintModel().fit(np.full((5, N), np.nan))


@pytest.mark.parametrize("which", ["burst", "identity"])
def test_model_file_round_trip(tmp_path, which):
    if which == "burst":
        X, y = synthetic_bursts(n_per_class=30)
        m = BurstClassifier(max_iter=8).fit(X, y)
        out = lambda mm: mm.predict_proba(X)  # noqa: E731
    else:
        X, _ = genuine_and_foreign()
        m = IdentityFingerprintModel().fit(X)
        out = lambda mm: mm.decision_function(X)  # noqa: E731
    p = save_model(m, tmp_path / "m.skops", {"kind": which, "seed": 1})
    got, card = load_model(p)
    assert card["kind"] == which and card["format"] == "keyguard-model"
    assert np.array_equal(out(got), out(m))


def test_pickle_files_are_refused(tmp_path):
    X, y = synthetic_bursts(n_per_class=10)
    p = tmp_path / "model.pkl"
    p.write_bytes(pickle.dumps(BurstClassifier(max_iter=5).fit(X, y)))
    with pytest.raises(ModelError, match="pickle files are refused"):
        load_model(p)


class Gadget:
    """A type no keyguard model holds."""

    def __init__(self):
        self.payload = "anything"


def test_foreign_types_are_refused_before_loading(tmp_path):
    p = tmp_path / "m.skops"
    sio.dump({"card": {"format": "keyguard-model", "format_version": 1}, "model": Gadget()}, p)
    with pytest.raises(ModelError, match="does not trust") as ei:
        load_model(p)
    assert "Gadget" in str(ei.value)


def test_other_files_are_refused(tmp_path):
    txt = tmp_path / "m.txt"
    txt.write_text("not a model\n")
    with pytest.raises(ModelError, match="not a keyguard model"):
        load_model(txt)
    z = tmp_path / "m.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("hello.txt", "hi")
    with pytest.raises(ModelError, match="not a keyguard model"):
        load_model(z)
    nocard = tmp_path / "nocard.skops"
    sio.dump({"model": [1, 2, 3]}, nocard)
    with pytest.raises(ModelError, match="no keyguard model card"):
        load_model(nocard)
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "missing.skops")
    newer = tmp_path / "newer.skops"
    sio.dump({"card": {"format": "keyguard-model", "format_version": 99}, "model": [1]}, newer)
    with pytest.raises(ModelError, match="newer"):
        load_model(newer)
    assert "\n" not in str(pytest.raises(ModelError, load_model, txt).value)


def test_load_never_trusts_everything(monkeypatch, tmp_path):
    X, y = synthetic_bursts(n_per_class=10)
    p = save_model(BurstClassifier(max_iter=5).fit(X, y), tmp_path / "m.skops", {"kind": "b"})
    seen = {}
    real = sio.load

    def spy(file, trusted=None):
        seen["trusted"] = trusted
        return real(file, trusted=trusted)
    monkeypatch.setattr(sio, "load", spy)
    load_model(p)
    assert isinstance(seen["trusted"], list) and seen["trusted"] is not True
    assert "keyguard.models.burst.BurstClassifier" in seen["trusted"]


def test_a_model_of_another_feature_set_is_refused(tmp_path):
    X, y = synthetic_bursts(n_per_class=10)
    m = BurstClassifier(max_iter=3).fit(X, y)
    for names in (list(FEATURE_NAMES[1:]), list(FEATURE_NAMES[::-1]), ["cfo_hz", "made_up"]):
        p = save_model(m, tmp_path / "m.skops", {"features": names})
        with pytest.raises(ModelError, match="another feature set"):
            load_model(p)
    ok = save_model(m, tmp_path / "ok.skops", {"features": list(FEATURE_NAMES)})
    assert load_model(ok)[1]["features"] == list(FEATURE_NAMES)


def test_load_burst_model_checks_the_kind(tmp_path):
    from keyguard.models import load_burst_model
    own, _ = genuine_and_foreign()
    p = save_model(IdentityFingerprintModel().fit(own), tmp_path / "id.skops", {"kind": "id"})
    with pytest.raises(ModelError, match="not a burst classifier"):
        load_burst_model(p)
    X, y = synthetic_bursts(n_per_class=10)
    q = save_model(BurstClassifier(max_iter=3).fit(X, y), tmp_path / "b.skops", {"kind": "b"})
    assert isinstance(load_burst_model(q), BurstClassifier)


def test_a_model_of_an_earlier_feature_set_reads_the_prefix_of_todays_vectors(tmp_path,
                                                                             monkeypatch):
    # features are only appended: a model trained before the last ones were added still loads
    # and scores today's full vectors exactly as it scored its own
    import keyguard.models.burst as burst_module

    X, y = synthetic_bursts(n_per_class=20)
    k = len(FEATURE_NAMES) - 2
    with monkeypatch.context() as mp:  # this keyguard as it was before the last two features
        mp.setattr(burst_module, "FEATURE_NAMES", FEATURE_NAMES[:k])
        old = BurstClassifier(features=FEATURE_NAMES[:5], max_iter=5).fit(X[:, :k], y)
    p = save_model(old, tmp_path / "old.skops", {"features": list(FEATURE_NAMES[:k])})
    m, _ = load_model(p)
    np.testing.assert_array_equal(m.predict_proba(X), old.predict_proba(X[:, :k]))
    with pytest.raises(ValueError, match="features"):
        m.predict_proba(X[:, :k - 1])
