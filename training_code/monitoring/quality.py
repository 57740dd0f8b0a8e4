"""Model quality on live traffic: captured predictions merged with the ground-truth labels people upload.

Ground truth follows Model Monitor's format, one JSON line per labelled request, under the documented prefix
(docs/monitoring.md):

    {"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "<id>"}, "eventVersion": "0"}

`eventId` is the request's inference id (the `InferenceId` the caller passed to InvokeEndpoint) or, without
one, the captured record's eventId; a request of several rows takes one CSV line per row. The metric is the
evaluation's objective when labels alone measure it (accuracy, precision, recall, f1, rmse, mae, r2), else
accuracy or rmse; it is compared with the evaluation's figure for the same metric.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..metrics import METRIC_GOALS
from .capture import Capture, body, capture_files, text_cell

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1")
REGRESSION_METRICS = ("rmse", "mae", "r2")


@dataclass
class QualityResult:
    metric: str
    value: float
    baseline: float
    goal: str
    rows: int
    violation: dict | None


def read_ground_truth(directory: Path) -> dict[str, str]:
    labels: dict[str, str] = {}
    for path in capture_files(directory):
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    _add_label(labels, line, f"{path}:{number}")
    return labels


def _add_label(labels: dict[str, str], line: str, where: str) -> None:
    hint = (
        'each line must be {"groundTruthData": {"data": "<label>", "encoding": "CSV"}, '
        '"eventMetadata": {"eventId": "<inference id>"}, "eventVersion": "0"}'
    )
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise UserError(f"{where}: not valid JSON ({exc}); {hint}") from None
    data = record.get("groundTruthData") if isinstance(record, dict) else None
    metadata = record.get("eventMetadata") if isinstance(record, dict) else None
    if not isinstance(data, dict) or not isinstance(metadata, dict) or not metadata.get("eventId"):
        raise UserError(f"{where}: no groundTruthData or eventMetadata.eventId; {hint}")
    values = [v for v in body({"mode": "ground truth", **data}, where).split("\n") if v.strip()]
    event = str(metadata["eventId"])
    if len(values) == 1:
        labels[event] = values[0].strip()
    else:
        labels.update({f"{event}:{i}": v.strip() for i, v in enumerate(values)})


def _label(value) -> str:
    """`1`, not `1.0`: the same class whether it was read as text or as a number."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    parsed = text_cell(str(value)) if value is not None else None
    if isinstance(parsed, float) and parsed.is_integer():
        return str(int(parsed))
    return str(value).strip()


def _classification(metric: str, truth: list[str], predicted: list[str], classes: list[str]) -> float:
    y, p = np.asarray(truth), np.asarray(predicted)
    if metric == "accuracy":
        return float(np.mean(y == p))
    known = sorted(set(classes) or set(truth) | set(predicted))
    chosen = [known[1]] if len(known) == 2 else known  # binary: the second class is positive, as in evaluation
    scores = []
    for c in chosen:
        tp = float(np.sum((p == c) & (y == c)))
        precision = tp / max(float(np.sum(p == c)), 1.0)
        recall = tp / max(float(np.sum(y == c)), 1.0)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append({"precision": precision, "recall": recall, "f1": f1}[metric])
    return float(np.mean(scores))


def _regression(metric: str, truth: list[str], predicted: list[str]) -> float:
    y, p = np.asarray(truth, dtype=float), np.asarray(predicted, dtype=float)
    error = y - p
    if metric == "rmse":
        return math.sqrt(float(np.mean(error**2)))
    if metric == "mae":
        return float(np.mean(np.abs(error)))
    total = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - float(np.sum(error**2)) / total if total else 0.0


def measure(
    capture: Capture, labels: dict[str, str], evaluation: dict, tolerance: float, min_rows: int
) -> QualityResult | None:
    """The live metric, or None when the task has no label metric or too few labelled predictions."""
    task = str(evaluation.get("task", ""))
    classifier = task.endswith("classification")
    if not classifier and task != "regression":
        return None
    pairs = [
        (labels[i], _label(p))
        for i, p in zip(capture.record_ids, capture.predictions, strict=True)
        if i in labels and p is not None
    ]
    if len(pairs) < min_rows:
        return None
    objective = (evaluation.get("objective") or {}).get("name") or evaluation.get("objective_metric")
    allowed = CLASSIFICATION_METRICS if classifier else REGRESSION_METRICS
    metric = objective if objective in allowed else allowed[0]
    baseline = (evaluation.get("metrics") or {}).get(metric)
    if baseline is None:
        raise UserError(
            f"the evaluation report has no {metric!r} to compare live quality with; pass the "
            "evaluation.json of the serving model's run"
        )
    truth, predicted = [_label(t) for t, _ in pairs], [p for _, p in pairs]
    try:
        value = (
            _classification(metric, truth, predicted, [_label(c) for c in evaluation.get("class_labels") or []])
            if classifier
            else _regression(metric, truth, predicted)
        )
    except ValueError:
        raise UserError(
            "ground-truth labels or captured predictions are not numbers; a regression model's labels must be numbers"
        ) from None
    goal = METRIC_GOALS[metric]
    worse = baseline - value if goal == "Maximize" else value - baseline
    violation = None
    if worse > tolerance:
        check = "LessThanThreshold" if goal == "Maximize" else "GreaterThanThreshold"
        violation = {
            "metric_name": metric,
            "constraint_check_type": check,
            "description": f"{metric} {value:.4f} on {len(pairs)} labelled predictions against "
            f"{baseline:.4f} at evaluation: worse by {worse:.4f}, more than {tolerance}",
        }
    return QualityResult(metric, value, float(baseline), goal, len(pairs), violation)
