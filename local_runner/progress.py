"""Live per-state progress of an execution (rich), from its event history."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from .cloud import ExecutionResult, LocalCloud, StateRun, state_runs
from .pipeline import load_assembly
from .template import Assembly

_STYLE = {"running": "yellow", "succeeded": "green", "failed": "red"}
_ICON = {"running": "…", "succeeded": "✓", "failed": "✗"}
# Each refresh reads the execution's whole history (moto answers GetExecutionHistory in one page, and its
# serializer was 6% of a test worker's CPU at 0.2 s). Event times come from the history, not the poll.
REFRESH_SECONDS = 0.5


@contextlib.contextmanager
def synthesizing(console: Console, text: str):
    """A line first (a log or CI output shows no spinner), then the spinner on a terminal."""
    console.print(text, highlight=False)
    with console.status(text) if console.is_terminal else contextlib.nullcontext():
        yield


def command_assembly(args, console: Console, state_dir: Path) -> Assembly:
    """The cloud assembly a command runs (`--env`, `--cdk-out`), synthesized first when stale, saying so."""
    return load_assembly(
        env=args.env,
        state_dir=state_dir,
        cdk_out=args.cdk_out,
        on_synth=lambda out_dir: synthesizing(console, f"Synthesizing ({args.env}) into {out_dir} (about 10 s) …"),
    )


def make_console() -> Console:
    # soft_wrap: lines are never cut at the console's width, so URLs, ARNs and commands stay pasteable
    # in a terminal, under `| tee` and in CI logs alike.
    return Console(soft_wrap=True)


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
                hosts = record.get("LocalHostStatus")  # a multi-instance job's hosts (sagemaker/multihost.py)
                each = f" ({', '.join(f'{h} {s}' for h, s in hosts.items())})" if hosts else ""
                return f"{name}: {record.get('SecondaryStatus') or record[key]}{each}"
    for record in cloud.sagemaker.store.values("endpoints"):
        if record["EndpointStatus"] in ("Creating", "Updating"):
            return f"endpoint {record['EndpointName']}: {record['EndpointStatus']}"
    return ""


def collapse(runs: list[StateRun]) -> list[tuple[StateRun, int]]:
    """One row per state with its visit count: a Wait/Describe polling loop (the endpoint's) becomes one row
    that updates, not a new row per poll. The row shows the latest visit; seconds and attempts add up."""
    rows: dict[str, tuple[StateRun, int]] = {}
    for run in runs:
        if run.name in rows:
            first, visits = rows[run.name]
            before = first.seconds or 0.0  # the earlier visits' time: shifting `entered` back adds it up
            merged = StateRun(run.name, run.entered - before, None, run.status, first.attempts + run.attempts)
            merged.error = run.error
            merged.exited = None if run.exited is None else run.exited
            rows[run.name] = (merged, visits + 1)
        else:
            rows[run.name] = (run, 1)
    return list(rows.values())


def table(cloud: LocalCloud, runs: list[StateRun], started: float, status: str) -> Table:
    elapsed = time.time() - started
    grid = Table(title=f"Execution {status} · {elapsed:5.1f} s", title_justify="left", expand=False)
    grid.add_column("", width=1)
    grid.add_column("State", no_wrap=True)
    grid.add_column("Seconds", justify="right")
    grid.add_column("Attempts", justify="right")
    grid.add_column("Detail", overflow="fold", max_width=70)
    for run, visits in collapse(runs):
        seconds = run.seconds if run.seconds is not None else time.time() - run.entered
        detail = run.error or _detail(cloud, run) or (f"{visits} polls" if visits > 1 else "")
        grid.add_row(
            Text(_ICON.get(run.status, " "), style=_STYLE.get(run.status, "")),
            Text(run.name, style=_STYLE.get(run.status, "")),
            f"{seconds:6.2f}",
            str(run.attempts) if run.attempts else "",
            detail,
        )
    return grid


class PlainLog:
    """Progress without a terminal (`| tee`, CI logs): a line as each state starts and ends, written at once
    and never wrapped, so URIs and ARNs stay whole and a log shows where a run is while it runs."""

    def __init__(self, console: Console):
        self.console = console
        self.shown: dict[int, str] = {}  # visit index -> the last status printed for it

    def update(self, runs: list[StateRun], started: float) -> None:
        for index, run in enumerate(runs):
            if self.shown.get(index) == run.status:
                continue
            self.shown[index] = run.status
            at = f"[{max(0.0, (run.exited or run.entered) - started):7.2f} s]"
            if run.status == "running":
                line = f"{at} {run.name} started"
            else:
                line = f"{at} {run.name} {run.status} after {run.seconds or 0:.2f} s"
                if run.error:
                    line += f": {run.error}"
            self.console.out(line, highlight=False)
            self.console.file.flush()


def follow(
    cloud: LocalCloud, execution_arn: str, execution_input: dict, console: Console, timeout: float = 3600
) -> ExecutionResult:
    sfn = cloud.client("stepfunctions")
    started = time.time()
    deadline = time.monotonic() + timeout
    if not console.is_terminal:
        log = PlainLog(console)
        while True:
            status = sfn.describe_execution(executionArn=execution_arn)["status"]
            log.update(state_runs(cloud.history(execution_arn)), started)
            if status != "RUNNING" or time.monotonic() > deadline:
                break
            time.sleep(REFRESH_SECONDS)
        console.out(f"Execution {status} after {time.time() - started:.1f} s", highlight=False)
        return cloud.result(execution_arn, execution_input)
    with Live(console=console, refresh_per_second=8, transient=False) as live:
        while True:
            status = sfn.describe_execution(executionArn=execution_arn)["status"]
            runs = state_runs(cloud.history(execution_arn))
            live.update(table(cloud, runs, started, status))
            if status != "RUNNING" or time.monotonic() > deadline:
                break
            time.sleep(REFRESH_SECONDS)
    console.print()
    return cloud.result(execution_arn, execution_input)
