"""Reproducible training of the burst classifier on the simulator's scenarios.

Every shipped scenario is varied per seed (:func:`vary_scenario`): the owner and attackers stand
at random distances (SNR about 5–35 dB), replays come from a random replayer kind, jammers get a
random waveform and J/S (0–30 dB), relays a random gain, delay and translation error, and the
receiver a random gain and sample rate. The variants are rendered and run through the front end
(:func:`keyguard.models.dataset.scenario_dataset`); the labelled bursts train the classifier.
Seeds used for training are never used for evaluation (:func:`evaluate`), so the reported
numbers are on scenarios the model never saw.
"""

from __future__ import annotations

import copy
import math
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from keyguard import __version__
from keyguard.features.vector import FEATURE_NAMES, FEATURE_SET_VERSION
from keyguard.models.burst import BURST_CLASSES, BurstClassifier
from keyguard.models.dataset import BurstDataset, scenario_dataset

#: sample rates a varied scenario may use (Hz); kept modest so training renders in minutes
SAMPLE_RATES = (250_000.0, 1_024_000.0)


def _position(rng: np.random.Generator, lo_m: float, hi_m: float) -> tuple:
    d = rng.uniform(lo_m, hi_m)
    a = rng.uniform(0.0, 2.0 * math.pi)
    return (float(d * math.cos(a)), float(d * math.sin(a)), 1.0)


def vary_scenario(scenario: Any, seed: int) -> Any:
    """A copy of ``scenario`` with geometry, radios and levels drawn from ``seed``."""
    from keyguard.sim.attacks import REPLAYERS, Jam, Relay, Replayer
    from keyguard.sim.jammer import WAVEFORMS

    rng = np.random.default_rng([seed, 0x6B67])
    sc = copy.deepcopy(scenario)
    sc.seed = int(seed)
    sc.name = f"{scenario.name}"
    rx = dict(sc.receiver)
    wide = any(isinstance(a, Relay) for a in sc.attacks)
    rx["sample_rate"] = 1_024_000.0 if wide else float(rng.choice(SAMPLE_RATES))
    # an 8-bit dongle clips strong nearby radios at high gain; users set 15–32 dB near a car
    rx["gain_db"] = float(rng.uniform(15.0, 32.0))
    sc.receiver = rx
    for d in sc.devices:
        if d.device_class == "fob" and d.snr_db is None:
            d.position = _position(rng, 3.0, 30.0)
    for a in sc.attacks:
        if hasattr(a, "replayer") and isinstance(a.replayer, Replayer):
            a.replayer = Replayer(kind=str(rng.choice(REPLAYERS)), position=_position(rng, 2.0, 20.0),
                                  record_snr_db=float(rng.uniform(20.0, 40.0)))
        if isinstance(a, Jam):
            a.jsr_db = float(rng.uniform(0.0, 30.0)) if a.power_dbm is None else a.jsr_db
            a.waveform = str(rng.choice(WAVEFORMS))
        if hasattr(a, "jam") and isinstance(a.jam, dict):
            a.jam = dict(a.jam, jsr_db=float(rng.uniform(0.0, 30.0)),
                         waveform=str(rng.choice(("cw", "noise", "pulsed"))))
        if isinstance(a, Relay) and a.mode == "af":
            a.gain_db = float(rng.uniform(45.0, 70.0))
            a.translation_error_hz = float(rng.uniform(-2000.0, 2000.0))
            a.delay_s = float(rng.uniform(50e-9, 2e-6))
        if hasattr(a, "position") and not isinstance(a, Relay):
            a.position = _position(rng, 2.0, 20.0)
    return sc


@dataclass
class SimRun:
    """One varied scenario through the front end: labelled bursts, the observations the
    detectors are fed (light: no IQ), the truth events and the capture length."""

    scenario: str
    seed: int
    dataset: BurstDataset
    observations: list = field(default_factory=list)
    truth: list = field(default_factory=list)
    duration_s: float = 0.0
    error: str | None = None


def run_variant(args: tuple) -> SimRun:
    """Render and observe one (scenario name, seed) pair (a process-pool task)."""
    name, seed = args
    from keyguard.protocols.registry import load_registry
    from keyguard.sim.scenario import load_scenario

    sc = vary_scenario(load_scenario(name), seed)
    try:
        r = sc.plan(seed)
        ds, observed = scenario_dataset(r, load_registry())
    except Exception as e:  # a front-end failure on one variant must not lose the others
        return SimRun(name, seed, BurstDataset(), error=f"{type(e).__name__}: {e}")
    obs = [(o.burst, o.packets) for o in observed]
    return SimRun(name, seed, ds, obs, [e.to_dict() for e in r.truth], sc.duration_s)


def simulate(names: Sequence[str], seeds: Iterable[int], workers: int = 1,
             progress: Callable[[SimRun], None] | None = None) -> list[SimRun]:
    """Every (scenario, seed) variant, in a stable order whatever ``workers`` is."""
    tasks = [(n, int(s)) for s in seeds for n in names]
    out = []
    if workers <= 1:
        for t in tasks:
            out.append(run_variant(t))
            if progress:
                progress(out[-1])
        return out
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for r in pool.map(run_variant, tasks):
            out.append(r)
            if progress:
                progress(r)
    return out


def merge(runs: Iterable[SimRun], cap_per_class: int | None = 40) -> BurstDataset:
    """One dataset from many runs. ``cap_per_class`` keeps at most that many bursts of a class
    from one run (evenly spaced, deterministic), so a code scanner's hundreds of frames do not
    stand for every regenerating radio."""
    ds = BurstDataset()
    for r in runs:
        y = r.dataset.y
        keep = np.arange(len(y))
        if cap_per_class is not None:
            keep = []
            for c in dict.fromkeys(y):
                idx = np.flatnonzero(y == c)
                if idx.size > cap_per_class:
                    idx = idx[np.linspace(0, idx.size - 1, cap_per_class).astype(int)]
                keep += idx.tolist()
            keep = np.array(sorted(keep), dtype=int)
        ds.extend([r.dataset.X[i] for i in keep], [y[i] for i in keep],
                  [r.dataset.meta[i] for i in keep])
    return ds


def train_classifier(ds: BurstDataset, seed: int = 0, **params) -> BurstClassifier:
    """Fit the burst classifier on a dataset (labels outside ``BURST_CLASSES`` refused)."""
    bad = sorted(set(ds.y) - set(BURST_CLASSES))
    if bad:
        raise ValueError(f"unknown burst classes in the data: {', '.join(bad)}")
    return BurstClassifier(random_state=seed, **params).fit(ds.X, ds.y.astype(str))


def classifier_metrics(model: BurstClassifier, ds: BurstDataset) -> dict:
    """Accuracy, per-class recall/precision, the confusion matrix and one-vs-rest ROC AUC."""
    from sklearn.metrics import confusion_matrix, roc_auc_score

    y = ds.y.astype(str)
    if len(y) == 0:
        return {}
    proba = model.predict_proba(ds.X)
    pred = model.classes_[np.argmax(proba, axis=1)]
    labels = list(model.classes_)
    cm = confusion_matrix(y, pred, labels=labels)
    out = {"samples": int(len(y)), "accuracy": float(np.mean(pred == y)), "classes": labels,
           "confusion": cm.tolist(), "recall": {}, "precision": {}, "auc": {}}
    for i, c in enumerate(labels):
        n_true, n_pred = cm[i].sum(), cm[:, i].sum()
        out["recall"][c] = float(cm[i, i] / n_true) if n_true else None
        out["precision"][c] = float(cm[i, i] / n_pred) if n_pred else None
        pos = y == c
        if pos.any() and (~pos).any():
            out["auc"][c] = float(roc_auc_score(pos, proba[:, i]))
    return out


def model_card(model: BurstClassifier, names: Sequence[str], train_seeds: Sequence[int],
               test_seeds: Sequence[int], train: BurstDataset, metrics: dict,
               extra: Sequence[dict] = ()) -> dict:
    """What the model is, what it was trained on, and how it scored on held-out seeds.
    ``extra``: further training runs of some scenarios only, ``{"scenarios", "seeds"}`` each
    (rendered after the main set, in that order)."""
    import sklearn

    counts = {c: int(np.sum(train.y == c)) for c in BURST_CLASSES}
    return {"kind": "burst-classifier", "keyguard_version": __version__,
            "sklearn_version": sklearn.__version__, "feature_set_version": FEATURE_SET_VERSION,
            "features": list(FEATURE_NAMES), "classes": [str(c) for c in model.classes_],
            "params": {k: v for k, v in model.get_params().items() if k != "features"},
            "training": {"scenarios": list(names), "seeds": [int(s) for s in train_seeds],
                         "extra": [{"scenarios": list(e["scenarios"]),
                                    "seeds": [int(x) for x in e["seeds"]]} for e in extra],
                         "bursts": int(len(train)), "per_class": counts,
                         "variation": "keyguard.models.training.vary_scenario"},
            "evaluation": {"seeds": [int(s) for s in test_seeds], **metrics}}


def detect_run(run: SimRun, models: dict | None = None, registry: Any = None,
               config: Any = None) -> list:
    """The detection engine's alerts on one simulated run's observations."""
    from keyguard.detect import DetectionEngine

    eng = DetectionEngine(config, profiles=registry, models=models)
    alerts = eng.begin_capture(f"<sim:{run.scenario}:{run.seed}>", duration_s=run.duration_s)
    for info, packets in run.observations:
        alerts += eng.observe(info, packets)
    return alerts + eng.finish()


def evaluate(runs: Iterable[SimRun], models: dict | None = None, registry: Any = None,
             config: Any = None, slack_s: float = 1.0):
    """Detection score (per alert kind, false alarms per hour) over simulated runs."""
    from keyguard.detect.scoring import Score, score_alerts

    total = Score()
    for run in runs:
        if run.error is not None:
            continue
        alerts = detect_run(run, models, registry, config)
        total.add(score_alerts(alerts, run.truth, run.duration_s, slack_s))
    return total
