"""evaluation.json: what the evaluation job writes and the state machine reads at `$.evaluation.report`
(ReadEvaluation, the quality gate, the run's summary, the registered model's metrics).

Defined once, here, beside its writer (evaluate.py); the workflow constructs take their JSONPaths from these
fields (stacks/support/documents.py), so a renamed field fails the synthesis. Standard library only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class GateMetric:
    """The metric the quality gate compares, as measured on the test split."""

    name: str
    value: float
    goal: str  # Maximize or Minimize


@dataclass(frozen=True)
class EvaluationDocument:
    algorithm: str | None
    task: str
    metrics: dict[str, float]
    objective: GateMetric | None  # None when no --objective-metric was given
    rows: int
    objective_metric: str | None  # the tuning objective training reported
    class_labels: list[Any] | None
    hyperparameters: dict[str, Any] | None
    training_metrics: dict[str, Any] | None
    plot: str
    plots: list[str]
    plot_titles: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)
