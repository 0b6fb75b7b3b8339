"""Detection quality: scan captures with known ground truth and score what keyguard reported.

``evaluate_captures(paths, EvaluateOptions(...))`` scans each capture once with the normal
pipeline (exactly what ``keyguard scan`` does) and returns an :class:`Evaluation`: per alert
kind events/detected/false alarms, false alarms per hour of benign time, decode rate per
protocol, genuine presses accused per alert kind, and the burst classifier's one-vs-rest ROC
AUC. Ground truth comes from the simulator's ``truth.json`` or SigMF annotations
(:func:`load_truth`), or a capture is declared benign-only.
"""

from keyguard.evaluate.run import DEFAULT_SLACK_S, CaptureResult, Evaluation, EvaluateOptions, \
    RecordsError, evaluate_captures, evaluate_records, open_for_evaluation, score_capture
from keyguard.evaluate.table import format_markdown, format_table
from keyguard.evaluate.truth import TRUTH_SOURCES, Truth, TruthError, TruthEvent, capture_files, \
    load_truth, truth_from_annotations, truth_from_json

__all__ = ["DEFAULT_SLACK_S", "CaptureResult", "Evaluation", "EvaluateOptions", "RecordsError",
           "evaluate_captures", "evaluate_records", "open_for_evaluation", "score_capture",
           "format_markdown", "format_table", "TRUTH_SOURCES", "Truth", "TruthError",
           "TruthEvent", "capture_files", "load_truth", "truth_from_annotations",
           "truth_from_json"]
