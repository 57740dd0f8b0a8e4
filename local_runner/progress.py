"""Live per-state progress of an execution (rich), from its event history."""

from __future__ import annotations

import time

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from .cloud import ExecutionResult, LocalCloud, StateRun, state_runs

_STYLE = {"running": "yellow", "succeeded": "green", "failed": "red"}
_ICON = {"running": "…", "succeeded": "✓", "failed": "✗"}


def _detail(cloud: LocalCloud, run: StateRun) -> str:
    """What a running SageMaker state is doing (tuning counters, job status)."""
    if run.status != "running" or cloud.sagemaker is None:
        return ""
    for record in cloud.sagemaker.store.values("tuning_jobs"):
        if record["HyperParameterTuningJobStatus"] == "InProgress":
            counters = record["TrainingJobStatusCounters"]
            limits = record["HyperParameterTuningJobConfig"].get("ResourceLimits", {})
            return (
                f"training jobs: {counters['Completed']} completed, {counters['InProgress']} running, "
                f"{counters['NonRetryableError']} failed of {limits.get('MaxNumberOfTrainingJobs', '?')}"
            )
    for collection, key in (("processing_jobs", "ProcessingJobStatus"), ("training_jobs", "TrainingJobStatus")):
        for record in cloud.sagemaker.store.values(collection):
            if record[key] == "InProgress" and "TuningJobArn" not in record:
                name = next(v for k, v in record.items() if k.endswith("JobName"))
                return f"{name}: {record.get('SecondaryStatus', key)}"
    for record in cloud.sagemaker.store.values("endpoints"):
        if record["EndpointStatus"] in ("Creating", "Updating"):
            return f"endpoint {record['EndpointName']}: {record['EndpointStatus']}"
    return ""


def table(cloud: LocalCloud, runs: list[StateRun], started: float, status: str) -> Table:
    elapsed = time.time() - started
    grid = Table(title=f"Execution {status} · {elapsed:5.1f} s", title_justify="left", expand=False)
    grid.add_column("", width=1)
    grid.add_column("State", no_wrap=True)
    grid.add_column("Seconds", justify="right")
    grid.add_column("Attempts", justify="right")
    grid.add_column("Detail", overflow="fold", max_width=70)
    for run in runs:
        seconds = run.seconds if run.seconds is not None else time.time() - run.entered
        detail = run.error or _detail(cloud, run)
        grid.add_row(
            Text(_ICON.get(run.status, " "), style=_STYLE.get(run.status, "")),
            Text(run.name, style=_STYLE.get(run.status, "")),
            f"{seconds:6.2f}",
            str(run.attempts) if run.attempts else "",
            detail,
        )
    return grid


def follow(
    cloud: LocalCloud, execution_arn: str, execution_input: dict, console: Console, timeout: float = 3600
) -> ExecutionResult:
    sfn = cloud.client("stepfunctions")
    started = time.time()
    deadline = time.monotonic() + timeout
    with Live(console=console, refresh_per_second=8, transient=False) as live:
        while True:
            status = sfn.describe_execution(executionArn=execution_arn)["status"]
            runs = state_runs(cloud.history(execution_arn))
            live.update(table(cloud, runs, started, status))
            if status != "RUNNING" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    console.print()
    return cloud.result(execution_arn, execution_input)
