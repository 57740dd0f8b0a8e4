"""`run --fault NAME[:ARG]`: rehearse a failure from the command line, then say what the pipeline did about it.

Each scenario injects one of the faults of faults.py into the local cloud before the execution starts, and
reads the outcome afterwards from the records of the local SageMaker and the execution's history: a resumed
spot job names the checkpoint it resumed from, a failed or rolled-back update says which model still serves.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .faults import ApiFault, Faults
from .sagemaker import endpoints

INJECTED = "Injected by --fault"


@dataclass(frozen=True)
class Fault:
    """One `--fault` value, parsed: the scenario and its argument (the scenario's default when left out)."""

    name: str
    arg: str

    def __str__(self) -> str:
        return f"{self.name}:{self.arg}"


@dataclass
class Outcome:
    """What the report reads: the local cloud after the run, the execution, and the endpoints before it."""

    cloud: Any
    result: Any
    started: float
    endpoints_before: dict[str, dict[str, Any]]
    api_faults: dict[Fault, ApiFault] = field(default_factory=dict)

    def records(self, collection: str) -> list[dict[str, Any]]:
        """The records this run created (older ones are from earlier runs)."""
        return [r for r in self.cloud.sagemaker.store.values(collection) if r.get("CreationTime", 0) >= self.started]


@dataclass(frozen=True)
class Scenario:
    help: str
    arg: str  # what the argument is
    default: str
    inject: Callable[[Faults, str], ApiFault | None]
    report: Callable[[Outcome, Fault], list[str]]


# -- reports ---------------------------------------------------------------------------------------------------
def _spot_report(outcome: Outcome, fault: Fault) -> list[str]:
    lines = []
    workdir = outcome.cloud.sagemaker.workdir
    for job in outcome.records("training_jobs"):
        statuses = [t["Status"] for t in job.get("SecondaryStatusTransitions", [])]
        if "Interrupted" not in statuses:
            continue
        name = job["TrainingJobName"]
        resumed = _checkpoint_note(workdir / "training" / name / "job.log")
        where = job.get("CheckpointConfig", {}).get("S3Uri", "CheckpointConfig.S3Uri")
        lines.append(
            f"training job {name}: interrupted after checkpoint write {fault.arg} (SIGTERM, spot capacity "
            f"reclaimed); checkpoints uploaded to {where}; restarted on a new instance, {resumed}; "
            f"ended {job['TrainingJobStatus']}"
        )
    if not lines:
        jobs = outcome.records("training_jobs")
        if not jobs:
            return ["no training job ran, so none was interrupted"]
        return [
            f"none of the {len(jobs)} training job(s) wrote {fault.arg} checkpoint(s), so none was interrupted "
            "(the algorithm checkpoints per epoch only when it trains in rounds, e.g. xgboost)"
        ]
    return lines


def _checkpoint_note(log: Path) -> str:
    """What the restarted container said about its checkpoint ("checkpoint: resuming after epoch 12")."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return "its log is gone"
    match = re.search(r"^checkpoint: resuming after epoch (\d+)", text, re.MULTILINE)
    if match:
        epoch = int(match.group(1))
        return f"resumed from the checkpoint saved after epoch {epoch} (training went on at epoch {epoch + 1})"
    note = re.search(r"^checkpoint: (.+)$", text, re.MULTILINE)
    return f"started over: {note.group(1)}" if note else "started over (it reported no checkpoint)"


def _task_states(outcome: Outcome, service: str, operation: str) -> list[str]:
    """The states whose task called `service`'s `operation`, with their attempts and how they ended."""
    resource = operation[:1].lower() + operation[1:]
    names = []
    history = outcome.result.history
    for index, event in enumerate(history):
        details = event.get("taskScheduledEventDetails") or {}
        if details.get("resourceType") == service and details.get("resource", "").split(".")[0] == resource:
            state = next(
                (
                    e["stateEnteredEventDetails"]["name"]
                    for e in reversed(history[:index])
                    if e["type"].endswith("StateEntered")
                ),
                None,
            )
            if state and state not in names:
                names.append(state)
    lines = []
    for name in names:
        run = outcome.result.state(name)
        attempts = run.attempts if run else 0
        status = run.status if run else "not reached"
        tried = f"{attempts} attempts" if attempts != 1 else "1 attempt"
        if attempts > 1 and run.error:
            tried += f" (retried after {run.error})"
        lines.append(f"state {name}: {tried}, {status}")
    return lines


def _api_report(outcome: Outcome, fault: Fault) -> list[str]:
    injected = outcome.api_faults[fault]
    head = (
        f"{injected.code} returned to {injected.hits} of the {injected.times} call(s) of "
        f"{injected.service} {injected.operation} it was set for"
    )
    if not injected.hits:
        return [head + ": the pipeline did not call it"]
    return [head] + (_task_states(outcome, injected.service, injected.operation) or [_execution(outcome)])


def _execution(outcome: Outcome) -> str:
    result = outcome.result
    if result.status == "SUCCEEDED":
        return f"the execution SUCCEEDED ({(result.output or {}).get('status', '')})".replace(" ()", "")
    handled = " after the failure handler ran" if "HandleFailure" in result.visited else ""
    return f"the execution {result.status}{handled}: {result.error}"


def _job_report(kind: str, collection: str, status_key: str) -> Callable[[Outcome, Fault], list[str]]:
    def report(outcome: Outcome, fault: Fault) -> list[str]:
        failed = [r for r in outcome.records(collection) if r.get("FailureReason") == fault.arg]
        if not failed:
            return [f"no {kind} job ran with the injected failure", _execution(outcome)]
        names = ", ".join(next(v for k, v in r.items() if k.endswith("JobName")) for r in failed)
        return [f"{kind} job(s) {names}: {failed[0][status_key]} with {fault.arg!r}", _execution(outcome)]

    return report


def _serving(outcome: Outcome, name: str) -> str:
    """Which model the endpoint serves now, and whether its server answers."""
    sagemaker = outcome.cloud.sagemaker
    record = sagemaker.store.get("endpoints", name)
    if record is None:
        return f"endpoint {name} was deleted"
    if record["EndpointStatus"] != "InService":
        return f"endpoint {name} is {record['EndpointStatus']}: nothing serves"
    config = sagemaker.store.get("endpoint_configs", record["EndpointConfigName"]) or {"ProductionVariants": [{}]}
    model = config["ProductionVariants"][0].get("ModelName", "?")
    local = record.get("local") or {}
    answers = "answers /ping" if local.get("port") and endpoints.ping(local["port"]) else "does not answer /ping"
    return f"endpoint {name} is InService on {record['EndpointConfigName']}: model {model} serves, {answers}"


def _update_report(outcome: Outcome, what: str) -> list[str]:
    before = outcome.endpoints_before
    lines = []
    for name, old in before.items():
        record = outcome.cloud.sagemaker.store.get("endpoints", name)
        if record is None:
            lines.append(f"endpoint {name}: deleted")
            continue
        kept = record["EndpointConfigName"] == old["EndpointConfigName"]
        if kept and record.get("FailureReason"):
            lines.append(f"the update of {name} failed ({record['FailureReason']}); the old model still serves")
        elif not kept:
            lines.append(f"the update of {name} went through to {record['EndpointConfigName']}")
        lines.append(_serving(outcome, name))
    if not before:
        for record in outcome.records("endpoints"):
            lines.append(f"{record['EndpointName']} was created by this run, so {what}")
            lines.append(_serving(outcome, record["EndpointName"]))
    return (lines or ["no endpoint was deployed"]) + [_execution(outcome)]


def _endpoint_report(outcome: Outcome, fault: Fault) -> list[str]:
    return _update_report(outcome, "there was no old model to keep serving: the creation failed")


def _alarm_report(outcome: Outcome, fault: Fault) -> list[str]:
    left = next((times for pattern, times in outcome.cloud.faults.alarm_breaches if pattern == fault.arg), 1)
    if left:
        first = "no update's new fleet took traffic, so no alarm was set to ALARM"
        return [first, *_update_report(outcome, "no update read the alarms: run again to rehearse a rollback")]
    breached = f"the alarms matching {fault.arg!r} were set to ALARM when the new fleet took traffic"
    return [breached, *_update_report(outcome, "")]


SCENARIOS: dict[str, Scenario] = {
    "spot-interruption": Scenario(
        "every training job is interrupted once after its N-th checkpoint write, then restarts from its checkpoints",
        "N",
        "1",
        lambda faults, arg: faults.interrupt_training("*", after_checkpoints=_count(arg)),
        _spot_report,
    ),
    "throttle": Scenario(
        "the next call of a SageMaker operation gets ThrottlingException",
        "Operation",
        "CreateProcessingJob",
        lambda faults, arg: faults.throttle(arg),
        _api_report,
    ),
    "api-error": Scenario(
        "the next call of an operation gets an error code (HTTP 500)",
        "service:Operation:Code",
        "lambda:Invoke:ServiceException",
        lambda faults, arg: faults.api_error(*_api_spec(arg), status=500),
        _api_report,
    ),
    "processing-failure": Scenario(
        "every processing job fails with REASON",
        "REASON",
        f"ClientError: {INJECTED}",
        lambda faults, arg: faults.fail_job("processing", "*", arg),
        _job_report("processing", "processing_jobs", "ProcessingJobStatus"),
    ),
    "training-failure": Scenario(
        "every training job fails with REASON (so does a tuning job whose jobs all fail)",
        "REASON",
        f"AlgorithmError: {INJECTED}",
        lambda faults, arg: faults.fail_job("training", "*", arg),
        _job_report("training", "training_jobs", "TrainingJobStatus"),
    ),
    "tuning-failure": Scenario(
        "every tuning job fails with REASON",
        "REASON",
        f"InternalServerError: {INJECTED}",
        lambda faults, arg: faults.fail_job("tuning", "*", arg),
        _job_report("tuning", "tuning_jobs", "HyperParameterTuningJobStatus"),
    ),
    "endpoint-failure": Scenario(
        "the new fleet of every endpoint fails its health check with REASON (an update keeps the old one)",
        "REASON",
        f"The primary container did not pass the ping health check ({INJECTED}).",
        lambda faults, arg: faults.fail_endpoint("*", arg),
        _endpoint_report,
    ),
    "transform-failure": Scenario(
        "every batch transform job fails with REASON (the `score` command runs one)",
        "REASON",
        f"ClientError: {INJECTED}",
        lambda faults, arg: faults.fail_job("transform", "*", arg),
        _job_report("transform", "transform_jobs", "TransformJobStatus"),
    ),
    "alarm-breach": Scenario(
        "the CloudWatch alarms matching PATTERN go to ALARM when the next update's new fleet takes traffic",
        "PATTERN",
        "*",
        lambda faults, arg: faults.breach_alarm(arg),
        _alarm_report,
    ),
}


def _count(arg: str) -> int:
    if not arg.isdigit() or int(arg) < 1:
        raise ValueError(f"expected a whole number >= 1, got {arg!r}")
    return int(arg)


def _api_spec(arg: str) -> tuple[str, str, str]:
    parts = arg.split(":")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"expected service:Operation:Code, e.g. lambda:Invoke:ServiceException, got {arg!r}")
    return parts[0], parts[1], parts[2]


def describe() -> str:
    """The scenarios for --help."""
    return "; ".join(f"{name}[:{s.arg}] ({s.help}; default {s.default})" for name, s in SCENARIOS.items())


def parse(value: str) -> Fault:
    """An argparse type: NAME or NAME:ARG, checked against a throwaway Faults so that bad input fails early."""
    name, _, arg = value.partition(":")
    scenario = SCENARIOS.get(name)
    if scenario is None:
        raise argparse.ArgumentTypeError(f"unknown fault {name!r}; choose one of: {', '.join(SCENARIOS)}")
    fault = Fault(name, arg or scenario.default)
    try:
        scenario.inject(Faults(), fault.arg)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--fault {name}:{fault.arg}: {error}") from None
    return fault


def add_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--fault",
        action="append",
        type=parse,
        default=[],
        metavar="NAME[:ARG]",
        help="rehearse a failure, repeatable: " + describe(),
    )


def announce(console: Any, chosen: list[Fault]) -> None:
    for fault in chosen:
        console.print(f"[yellow bold]Fault injected[/]: {fault} — {SCENARIOS[fault.name].help}", highlight=False)


def tell(console: Any, outcome: Outcome, chosen: list[Fault]) -> None:
    """After the run: per fault, what the pipeline did about it."""
    for fault, lines in report(outcome, chosen):
        console.print(f"[yellow bold]Fault {fault}[/]: what the pipeline did", highlight=False)
        for line in lines:
            console.print(f"  • {line}", highlight=False)


def inject(faults: Faults, chosen: list[Fault]) -> dict[Fault, ApiFault]:
    """Install the chosen faults; the API faults are returned, to count their hits afterwards."""
    installed = {}
    for fault in chosen:
        api = SCENARIOS[fault.name].inject(faults, fault.arg)
        if isinstance(api, ApiFault):
            installed[fault] = api
    return installed


def snapshot(cloud: Any) -> dict[str, dict[str, Any]]:
    """The endpoints in service before the run: an update's outcome is told against them."""
    return {
        r["EndpointName"]: r for r in cloud.sagemaker.store.values("endpoints") if r["EndpointStatus"] == "InService"
    }


def report(outcome: Outcome, chosen: list[Fault]) -> list[tuple[Fault, list[str]]]:
    return [(fault, SCENARIOS[fault.name].report(outcome, fault)) for fault in chosen]
