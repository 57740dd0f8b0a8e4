"""The quality gate's objective: which metrics each task measures, each metric's range, and the defaults.

Standard library only: the prepare-run Lambda, the CDK configuration and the run clients (pipeline_client,
the local runner, tools/start_run) all resolve and check an objective here, so a threshold that cannot be
met or a metric the task does not measure is rejected with the same words before anything starts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from . import catalog
from .errors import UserError
from .metrics import METRIC_GOALS

# Task -> the metrics the evaluation job writes to evaluation.json for it (training_code/task_metrics.py).
EVALUATION_METRICS: dict[str, tuple[str, ...]] = {
    catalog.CLASSIFICATION: ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"),
    catalog.REGRESSION: ("rmse", "mae", "r2"),
    catalog.CLUSTERING: ("silhouette", "msd"),
    catalog.ANOMALY: ("roc_auc", "anomaly_rate"),
    catalog.REDUCTION: ("explained_variance_ratio",),
}

_UNIT = (0.0, 1.0)
_NON_NEGATIVE = (0.0, math.inf)
# The values each metric can take: a threshold outside them either always passes or never does.
METRIC_RANGES: dict[str, tuple[float, float]] = {
    "accuracy": _UNIT,
    "precision": _UNIT,
    "recall": _UNIT,
    "f1": _UNIT,
    "roc_auc": _UNIT,
    "log_loss": _NON_NEGATIVE,
    "rmse": _NON_NEGATIVE,
    "mae": _NON_NEGATIVE,
    "r2": (-math.inf, 1.0),
    "silhouette": (-1.0, 1.0),
    "msd": _NON_NEGATIVE,
    "inertia": _NON_NEGATIVE,
    "explained_variance_ratio": _UNIT,
    "anomaly_rate": _UNIT,
    "loss": _NON_NEGATIVE,
}
assert set(METRIC_RANGES) == set(METRIC_GOALS), "every metric with a goal needs a range"


def comparison(metric: str) -> str:
    """`accuracy >= threshold` or `rmse <= threshold`: how the quality gate compares, in the metric's direction."""
    return f"{metric} {'>=' if METRIC_GOALS[metric] == 'Maximize' else '<='} threshold"


def check_metric(metric: str, task: str, algorithm: str) -> str:
    available = EVALUATION_METRICS[task]
    if metric not in available:
        raise UserError(
            f"objective.metric: {metric!r} is not measured for {algorithm} ({task}); use one of {', '.join(available)}"
        )
    return metric


def check_threshold(metric: str, threshold: Any) -> float:
    """A finite number inside the metric's range, or UserError naming the range."""
    low, high = METRIC_RANGES[metric]
    span = _span(low, high)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not math.isfinite(threshold):
        raise UserError(f"objective.threshold: {threshold!r} is not a number; give a number {span} for {metric}")
    if not low <= threshold <= high:
        raise UserError(
            f"objective.threshold: {threshold:g} is outside the range of {metric}; give a number {span} "
            f"(the gate passes when {comparison(metric)})"
        )
    return float(threshold)


def resolve(given: Mapping[str, Any], defaults: Mapping[str, Any], algorithm: str, task: str) -> dict[str, Any]:
    """The gate's metric, goal and threshold: the given ones, else the environment's default metric when the
    task measures it, else the task's default from `task_objectives` (config/<env>.json)."""
    task_default = (defaults.get("task_objectives") or {}).get(task) or {}
    default_metric = defaults["objective_metric"]
    if "metric" in given:
        metric = given["metric"]
    elif default_metric in EVALUATION_METRICS[task] or not task_default:
        metric = default_metric
    else:
        metric = task_default["metric"]
    check_metric(metric, task, algorithm)
    if "threshold" in given:
        threshold = given["threshold"]
    elif metric == default_metric:
        threshold = defaults["threshold"]
    elif metric == task_default.get("metric"):
        threshold = task_default["threshold"]
    else:
        raise UserError(
            f"objective.threshold: this environment has no default threshold for {metric}; give one "
            f"(the gate passes when {comparison(metric)})"
        )
    return {"metric": metric, "goal": METRIC_GOALS[metric], "threshold": check_threshold(metric, threshold)}


def _span(low: float, high: float) -> str:
    if not math.isfinite(low):
        return f"of at most {high:g}"
    if not math.isfinite(high):
        return f"of at least {low:g}"
    return f"from {low:g} to {high:g}"
