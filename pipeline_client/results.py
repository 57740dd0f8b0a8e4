"""What a run reports: its progress per state, its result and the quality gate's decision."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
_COMPARE = {("Maximize", True): ">=", ("Maximize", False): "<", ("Minimize", True): "<=", ("Minimize", False): ">"}


@dataclass(frozen=True)
class Decision:
    """The quality gate: the objective metric on the test split against the run's threshold."""

    outcome: str  # DEPLOYED, REGISTERED or REJECTED_BY_QUALITY_GATE (the output's `status`)
    passed: bool
    metric: str | None
    value: float | None
    threshold: float | None
    goal: str | None
    endpoint_name: str | None = None

    @classmethod
    def from_output(cls, output: Any) -> Decision | None:
        """Both shapes the state machine ends with (docs/pipeline.md, "How a run ends"); None for others."""
        if not isinstance(output, dict) or "status" not in output:
            return None
        objective = output.get("objective") or {}  # DEPLOYED/REGISTERED: evaluation.json's objective
        return cls(
            outcome=output["status"],
            passed=output["status"] != "REJECTED_BY_QUALITY_GATE",
            metric=output.get("metric", objective.get("name")),
            value=output.get("value", objective.get("value")),
            threshold=output.get("threshold"),
            goal=output.get("goal", objective.get("goal")),
            endpoint_name=output.get("endpoint_name"),
        )

    def __str__(self) -> str:
        compare = _COMPARE.get((self.goal or "", self.passed), "vs")
        verdict = "passed" if self.passed else "rejected the model"
        after = {
            "DEPLOYED": f"deployed to endpoint {self.endpoint_name}",
            "REGISTERED": "registered, not deployed (deploy=False, or waiting for approval in prod)",
            "REJECTED_BY_QUALITY_GATE": "nothing registered or deployed",
        }.get(self.outcome, self.outcome)
        value, threshold = _number(self.value), _number(self.threshold)
        return f"quality gate {verdict}: {self.metric} {value} {compare} {threshold} -> {after}"


@dataclass(frozen=True)
class RunResult:
    execution_arn: str
    status: str
    seconds: float
    output: Any = field(default=None, repr=False)  # the state machine's output (a summary of the run)
    error: str | None = None
    cause: str | None = None
    decision: Decision | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    @property
    def metrics(self) -> dict[str, float]:
        """The test split's metrics, on every run that got as far as the evaluation."""
        return dict((self.output or {}).get("metrics") or {}) if isinstance(self.output, dict) else {}


@dataclass(frozen=True)
class Step:
    """A state that ended: succeeded, or failed with the error Step Functions names."""

    name: str
    seconds: float
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class RunProgress:
    """Passed to `Run.wait(progress=...)` after every poll: the states that ended since the last one."""

    status: str
    elapsed: float
    steps: tuple[Step, ...]

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL


def print_progress(progress: RunProgress) -> None:
    """A line per state that ended, then the outcome: plain text, so it reads the same in a notebook and a log."""
    for step in progress.steps:
        mark, tail = ("✓", "") if step.succeeded else ("✗", f"  {step.error}")
        print(f"{mark} {step.name:<26} {step.seconds:7.2f} s{tail}", flush=True)
    if progress.finished:
        print(f"{progress.status} after {progress.elapsed:.1f} s", flush=True)


def _number(value: float | None) -> str:
    return "?" if value is None else f"{value:.4g}"
