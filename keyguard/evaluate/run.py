"""Scan captures with the normal pipeline and score the result against their ground truth.

Each capture is scanned once, exactly as ``keyguard scan CAPTURE`` would (same front end,
detectors, model), and **on its own**: a fresh scan run with in-memory state per capture. The
simulator writes one capture per scenario run, and two runs of one scenario share identities
and codes, so scanning them as one run would turn the second run's genuine presses into
replays of the first. Truth times are relative to the capture's first sample.

Saved scan output (``keyguard scan --format jsonl``) can be scored instead
(:func:`evaluate_records`); it holds no burst features, so the classifier's ROC is left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from keyguard.detect.scoring import Score, score_alerts
from keyguard.errors import InputError
from keyguard.evaluate.metrics import ClassifierTally, DecodeTally, PressTally, decode_tally, \
    press_tally
from keyguard.evaluate.truth import Truth, capture_files, load_truth
from keyguard.events import ALERT_KINDS, Alert, Packet

#: Default tolerance (s) around a truth event within which an alert of its kind detects it.
DEFAULT_SLACK_S = 1.0


@dataclass
class EvaluateOptions:
    """How to evaluate. scan: the scan options (``keyguard.pipeline.ScanOptions``; its
    ``state_path`` is ignored: every capture is its own run). slack_s: alert/event tolerance
    (s). benign: the captures are declared benign-only (every alert a false alarm).
    truth_source: ``auto``, ``json`` or ``sigmf`` (see :func:`load_truth`)."""

    scan: Any = None
    slack_s: float = DEFAULT_SLACK_S
    benign: bool = False
    truth_source: str = "auto"
    #: a capture whose scan raises (a front-end bug, not bad input) is listed in
    #: ``Evaluation.errors`` and left out of the scores instead of ending the evaluation
    keep_going: bool = False


@dataclass
class CaptureResult:
    """One capture's score: alerts per kind, decodes, accused presses, classifier rows."""

    capture: str
    truth: Truth
    duration_s: float
    score: Score
    decode: DecodeTally
    presses: PressTally
    classifier: ClassifierTally = field(default_factory=ClassifierTally)
    packets: int = 0
    alerts: int = 0

    def to_dict(self) -> dict:
        """The capture's ``evaluation`` record (JSON Lines; see docs/contract.md)."""
        s = self.score.to_dict()
        return {"type": "evaluation", "scope": "capture", "capture": self.capture,
                "truth": self.truth.source, "scenario": self.truth.scenario,
                "seed": self.truth.seed, "duration_s": self.duration_s,
                "benign_s": self.score.benign_s, "packets": self.packets,
                "alerts": self.alerts, "kinds": s["kinds"], "false_alarms": s["false_alarms"],
                "decode": self.decode.to_dict(), "presses": self.presses.to_dict(),
                "false_alarm_list": [dict(f, capture=self.capture)
                                     for f in self.score.false_alarms],
                "missed_list": [dict(m, capture=self.capture) for m in self.score.missed]}


@dataclass
class Evaluation:
    """Every capture's result and their totals (see :meth:`to_dict`)."""

    captures: list[CaptureResult] = field(default_factory=list)
    slack_s: float = DEFAULT_SLACK_S
    model: str | None = None
    errors: list = field(default_factory=list)  # {"capture", "error"} of captures left out

    def _total(self, attr: str, tally: type) -> Any:
        total = tally()
        for c in self.captures:
            total.add(getattr(c, attr))
        return total

    @property
    def score(self) -> Score:
        return self._total("score", Score)

    @property
    def decode(self) -> DecodeTally:
        return self._total("decode", DecodeTally)

    @property
    def presses(self) -> PressTally:
        return self._total("presses", PressTally)

    @property
    def classifier(self) -> dict:
        return self._total("classifier", ClassifierTally).metrics()

    @property
    def false_alarms(self) -> list[dict]:
        return [dict(f, capture=c.capture) for c in self.captures for f in c.score.false_alarms]

    @property
    def missed(self) -> list[dict]:
        return [dict(m, capture=c.capture) for c in self.captures for m in c.score.missed]

    def to_dict(self) -> dict:
        """The totals as one ``evaluation`` record (scope ``total``)."""
        s = self.score
        sd = s.to_dict()
        kinds = {k: s.kinds[k].to_dict() for k in ALERT_KINDS}
        for k, v in sd["kinds"].items():  # kinds outside the contract's list, if any
            kinds.setdefault(k, v)
        benign_h = s.benign_s / 3600.0
        n_fa = sd["false_alarms"]
        return {"type": "evaluation", "scope": "total", "captures": len(self.captures),
                "truth": sorted({c.truth.source for c in self.captures}),
                "model": self.model, "slack_s": self.slack_s,
                "duration_s": sum(c.duration_s for c in self.captures),
                "benign_s": s.benign_s, "packets": sum(c.packets for c in self.captures),
                "alerts": sum(c.alerts for c in self.captures), "kinds": kinds,
                "false_alarms": n_fa, "false_alarms_per_hour": sd["false_alarms_per_hour"],
                # no false alarm in T hours: fewer than 3/T per hour at 95 % confidence
                "false_alarms_per_hour_95": (3.0 / benign_h
                                             if n_fa == 0 and benign_h > 0 else None),
                "decode": self.decode.to_dict(), "presses": self.presses.to_dict(),
                "classifier": self.classifier,
                "false_alarm_list": self.false_alarms, "missed_list": self.missed,
                "errors": list(self.errors)}

    def records(self) -> list[dict]:
        """One ``evaluation`` record per capture, then the total (a deterministic order)."""
        return [c.to_dict() for c in self.captures] + [self.to_dict()]


# ---------------------------------------------------------------------------------------------
def score_capture(truth: Truth, duration_s: float, alerts: Sequence[Alert],
                  packets: Sequence[Packet], bursts: Sequence[Any] = (), model: Any = None,
                  slack_s: float = DEFAULT_SLACK_S) -> CaptureResult:
    """Score one capture's scan output (its alerts, packets and, for the classifier, the
    ``BurstInfo`` of every burst) against its truth."""
    score = score_alerts(alerts, truth.events, duration_s, slack_s)
    fa_spans = {(f["kind"], f["t"], f["t_end"]) for f in score.false_alarms}
    false_alarms = [a for a in alerts if (a.kind, a.t, a.t_end) in fa_spans]
    clf = ClassifierTally()
    clf.add_bursts(model, truth, bursts)
    return CaptureResult(capture=truth.capture, truth=truth, duration_s=float(duration_s),
                         score=score, decode=decode_tally(truth, packets),
                         presses=press_tally(truth, false_alarms, slack_s), classifier=clf,
                         packets=len(packets), alerts=len(alerts))


class _BurstRecorder:
    """A scan's detection engine, keeping every burst it is fed (the classifier's inputs)."""

    def __init__(self, engine: Any):
        self._engine = engine
        self.bursts: list = []

    def observe(self, burst: Any = None, packets: Iterable[Packet] = ()) -> list[Alert]:
        if burst is not None:
            self.bursts.append(burst)
        return self._engine.observe(burst, packets)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


def _scan_options(options: EvaluateOptions) -> Any:
    from keyguard.pipeline import ScanOptions

    o = options.scan if options.scan is not None else ScanOptions()
    return replace(o, state_path=None) if o.state_path else o


def open_for_evaluation(paths: Iterable[str | Path], options: EvaluateOptions) -> list:
    """(capture, truth) for every capture named by ``paths`` (directories searched), every
    input checked before anything is scanned; raises an :class:`InputError` on the first bad
    one."""
    from keyguard.io import open_capture

    o = _scan_options(options)
    out = []
    for path in capture_files(paths):
        cap = open_capture(path, fmt=o.input_format, sample_rate=o.sample_rate,
                           center_freq=o.center_freq, start_time=o.start_time)
        out.append((cap, load_truth(cap, source=options.truth_source, benign=options.benign)))
    return out


def evaluate_captures(paths: Iterable[str | Path], options: EvaluateOptions | None = None,
                      progress: Callable[[CaptureResult], None] | None = None) -> Evaluation:
    """Scan every capture (each its own run) and score it against its truth."""
    from keyguard.models import load_burst_model
    from keyguard.pipeline import Scanner
    from keyguard.protocols.registry import load_registry

    options = options or EvaluateOptions()
    so = _scan_options(options)
    inputs = open_for_evaluation(paths, options)
    registry = load_registry(so.profile_dirs)
    model = load_burst_model(so.model_path) if so.use_model else None
    models = {} if model is None else {"burst": model}
    ev = Evaluation(slack_s=options.slack_s, model=_model_name(so, model))
    for cap, truth in inputs:
        scanner = Scanner(so, registry=registry, models=models)
        recorder = _BurstRecorder(scanner.engine)
        scanner.engine = recorder
        alerts, packets = [], []
        try:
            for rec in scanner.scan([cap]):
                if isinstance(rec, Alert):
                    alerts.append(rec)
                elif isinstance(rec, Packet):
                    packets.append(rec)
        except Exception as e:
            if not options.keep_going or isinstance(e, InputError):
                raise
            ev.errors.append({"capture": cap.path, "error": f"{type(e).__name__}: {e}"})
            continue
        res = score_capture(truth, cap.duration, alerts, packets, recorder.bursts, model,
                            options.slack_s)
        ev.captures.append(res)
        if progress:
            progress(res)
    return ev


def _model_name(so: Any, model: Any) -> str | None:
    if model is None:
        return None
    if so.model_path:
        return str(so.model_path)
    from keyguard.models import DEFAULT_MODEL

    return f"shipped ({Path(DEFAULT_MODEL).name})"


# ---------------------------------------------------------------------------------------------
class RecordsError(InputError):
    """A saved scan output (JSON Lines) cannot be scored."""


def _read_records(path: str | Path) -> list[dict]:
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise RecordsError(f"cannot read: {e}", p) from None
    out = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            raise RecordsError(f"line {i} is not JSON", p,
                               "give the output of `keyguard scan --format jsonl`") from None
        if not isinstance(rec, dict) or "type" not in rec:
            raise RecordsError(f"line {i} is not a keyguard record", p)
        out.append(rec)
    return out


def evaluate_records(records_path: str | Path, options: EvaluateOptions | None = None
                     ) -> Evaluation:
    """Score saved scan output against the truth of the captures it names (each capture's
    records scored on their own; no classifier ROC: the records hold no burst features)."""
    from keyguard.io import open_capture

    options = options or EvaluateOptions()
    recs = _read_records(records_path)
    order: list[str] = []
    alerts: dict[str, list] = {}
    packets: dict[str, list] = {}
    durations: dict[str, float | None] = {}
    for r in recs:
        t = r["type"]
        if t == "capture":
            order.append(r["capture"])
            durations[r["capture"]] = r.get("duration")
        elif t == "alert":
            alerts.setdefault(r["capture"], []).append(
                Alert(kind=r["kind"], capture=r["capture"], t=r["t"], t_end=r["t_end"],
                      severity=r["severity"], confidence=r["confidence"], summary=r["summary"],
                      identity=r.get("identity"), evidence=r.get("evidence") or {}))
        elif t == "packet":
            packets.setdefault(r["capture"], []).append(
                Packet(capture=r["capture"], t=r["t"], t_end=r["t_end"],
                       modulation=r["modulation"], protocol=r["protocol"], bits=r["bits"],
                       data=r["data"], identity=r.get("identity"), code=r.get("code"),
                       integrity=r.get("integrity", "none"), freq_hz=r.get("freq_hz")))
    if not order:
        raise RecordsError("holds no capture records", records_path,
                           "give the output of `keyguard scan --format jsonl`")
    ev = Evaluation(slack_s=options.slack_s, model="(from saved records)")
    for name in order:
        cap = open_capture(name)  # metadata only: for its truth and duration
        truth = load_truth(cap, source=options.truth_source, benign=options.benign)
        duration = durations.get(name) or cap.duration
        ev.captures.append(score_capture(truth, duration, alerts.get(name, []),
                                         packets.get(name, []), (), None, options.slack_s))
    return ev
