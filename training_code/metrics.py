"""Metric names, goals and the ``MetricDefinitions`` regexes SageMaker reads from the training log.

Standard library only: the CDK app and Lambda functions import this module.

Training prints lines such as::

    [epoch 3] train:loss=0.41; validation:accuracy=0.953;

Every ``Regex`` below has exactly one capture group (the value), so SageMaker metrics, tuning and
AUTO early stopping can read them.
"""

from __future__ import annotations

import math
import re

#: Bare metric name (as in evaluation.json) -> tuning goal.
METRIC_GOALS: dict[str, str] = {
    "accuracy": "Maximize",
    "precision": "Maximize",
    "recall": "Maximize",
    "f1": "Maximize",
    "roc_auc": "Maximize",
    "log_loss": "Minimize",
    "rmse": "Minimize",
    "mae": "Minimize",
    "r2": "Maximize",
    "silhouette": "Maximize",
    "msd": "Minimize",
    "inertia": "Minimize",
    "explained_variance_ratio": "Maximize",
    "anomaly_rate": "Minimize",
    "loss": "Minimize",
}

CHANNELS = ("train", "validation")

_NUMBER = r"([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)"

#: ``[{"Name": "validation:accuracy", "Regex": ...}, ...]`` for the training job definition.
METRIC_DEFINITIONS: list[dict[str, str]] = [
    {"Name": f"{channel}:{name}", "Regex": re.escape(f"{channel}:{name}=") + _NUMBER}
    for channel in CHANNELS
    for name in METRIC_GOALS
]

assert len(METRIC_DEFINITIONS) <= 40, "SageMaker allows at most 40 metric definitions"


def metric_goal(name: str) -> str:
    """Goal of a bare (``rmse``) or channel-qualified (``validation:rmse``) metric name."""
    bare = name.split(":", 1)[-1]
    try:
        return METRIC_GOALS[bare]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRIC_GOALS)}") from None


def format_metric_line(metrics: dict[str, float], epoch: int | None = None) -> str:
    """``[epoch 3] train:loss=0.41; validation:accuracy=0.953;`` (non-finite values are left out)."""
    parts = [f"{name}={value:.6g};" for name, value in metrics.items() if math.isfinite(value)]
    prefix = f"[epoch {epoch}] " if epoch is not None else "[final] "
    return prefix + " ".join(parts)


def parse_metric_line(line: str) -> dict[str, float]:
    """Apply METRIC_DEFINITIONS to one log line, as SageMaker does (used by tests and tools)."""
    found = {}
    for definition in METRIC_DEFINITIONS:
        match = re.search(definition["Regex"], line)
        if match:
            found[definition["Name"]] = float(match.group(1))
    return found
