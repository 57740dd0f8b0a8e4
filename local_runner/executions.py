"""Executions of the deployed state machines, through the Step Functions API: start, follow, read the result."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

TERMINAL_EXECUTION = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass
class StateRun:
    name: str
    entered: float
    exited: float | None = None
    status: str = "running"
    attempts: int = 0
    error: str | None = None

    @property
    def seconds(self) -> float | None:
        return None if self.exited is None else self.exited - self.entered


@dataclass
class ExecutionResult:
    arn: str
    status: str
    input: dict[str, Any]
    output: Any = None
    error: str | None = None
    cause: str | None = None
    seconds: float = 0.0
    states: list[StateRun] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    def state(self, name: str) -> StateRun | None:
        runs = [s for s in self.states if s.name == name]
        return runs[-1] if runs else None

    @property
    def visited(self) -> list[str]:
        return [s.name for s in self.states]


def state_runs(events: list[dict[str, Any]]) -> list[StateRun]:
    """Per-state rows (entered/exited, retries, failure) from an execution history."""
    runs: list[StateRun] = []
    open_runs: dict[str, StateRun] = {}
    for event in events:
        kind = event["type"]
        stamp = (
            event["timestamp"].timestamp() if hasattr(event["timestamp"], "timestamp") else float(event["timestamp"])
        )
        if kind.endswith("StateEntered"):
            name = event["stateEnteredEventDetails"]["name"]
            run = StateRun(name, stamp)
            runs.append(run)
            open_runs[name] = run
        elif kind.endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            run = open_runs.pop(name, None)
            if run is not None:
                run.exited = stamp
                if run.status == "running":
                    run.status = "succeeded"
        elif kind in ("TaskScheduled", "LambdaFunctionScheduled"):
            for run in open_runs.values():
                if run.status == "running" or run.status == "retrying":
                    pass
            last = runs[-1] if runs else None
            if last is not None and last.exited is None:
                last.attempts += 1
                last.status = "running"
        elif kind in ("TaskFailed", "LambdaFunctionFailed", "TaskTimedOut", "ExecutionFailed"):
            details = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
            for run in reversed(runs):
                if run.exited is None:
                    run.error = details.get("error")
                    run.status = "failed"
                    break
    for run in open_runs.values():
        if (
            run.status == "running"
            and events
            and events[-1]["type"] in ("ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut")
        ):
            run.status = "failed"
            run.exited = events[-1]["timestamp"].timestamp()
    return runs


def every_execution(sfn, **filters: str) -> Iterator[dict[str, Any]]:
    """The summary of each execution of each state machine (ListStateMachines, then ListExecutions with
    `filters`), page by page."""
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            listings = sfn.get_paginator("list_executions").paginate(
                stateMachineArn=machine["stateMachineArn"], **filters
            )
            for listing in listings:
                yield from listing["executions"]


class ExecutionClient:
    """Start, wait for and read executions with a Step Functions client of the cloud."""

    def __init__(self, client: Callable[[str], Any]):
        self.client = client

    def start_execution(self, state_machine_arn: str, execution_input: dict[str, Any], name: str | None = None) -> str:
        kwargs = {
            "stateMachineArn": state_machine_arn,
            "input": json.dumps(execution_input),
            "name": name or str(uuid.uuid4()),  # AWS names unnamed executions with a UUID
        }
        return self.client("stepfunctions").start_execution(**kwargs)["executionArn"]

    def abort_running(self, cause: str) -> None:
        """Stop every running execution (StopExecution: ABORTED, and its thread ends at its next state)."""
        for execution in every_execution(self.client("stepfunctions"), statusFilter="RUNNING"):
            self._stop(execution["executionArn"], cause)

    def _stop(self, execution_arn: str, cause: str) -> None:
        # moto's worker makes its environment in its thread: a StopExecution just after the start finds none
        # (AttributeError from its ExecutionWorker.stop) until that thread has begun, a moment later
        for _ in range(100):
            try:
                self.client("stepfunctions").stop_execution(executionArn=execution_arn, cause=cause)
                return
            except AttributeError:
                time.sleep(0.02)
            except ClientError:
                return  # it ended between the listing and the stop

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        events: list[dict[str, Any]] = []
        token = None
        while True:
            kwargs = {"executionArn": execution_arn, "maxResults": 1000}
            if token:
                kwargs["nextToken"] = token
            page = sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                return events

    def result(self, execution_arn: str, execution_input: dict[str, Any]) -> ExecutionResult:
        described = self.client("stepfunctions").describe_execution(executionArn=execution_arn)
        events = self.history(execution_arn)
        stop = described.get("stopDate")
        seconds = (
            ((stop or described["startDate"]).timestamp() - described["startDate"].timestamp())
            if stop
            else time.time() - described["startDate"].timestamp()
        )
        output = described.get("output")
        return ExecutionResult(
            arn=execution_arn,
            status=described["status"],
            input=execution_input,
            output=json.loads(output) if output else None,
            error=described.get("error"),
            cause=described.get("cause"),
            seconds=seconds,
            states=state_runs(events),
            history=events,
        )

    def wait(self, execution_arn: str, timeout: float = 1800, poll: float = 0.25, on_poll=None) -> str:
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = sfn.describe_execution(executionArn=execution_arn)["status"]
            if on_poll is not None:
                on_poll(execution_arn)
            if status in TERMINAL_EXECUTION:
                return status
            time.sleep(poll)
        raise TimeoutError(f"execution {execution_arn} still running after {timeout} s")

    def run(
        self, state_machine_arn: str, execution_input: dict[str, Any], timeout: float = 1800, on_poll=None
    ) -> ExecutionResult:
        arn = self.start_execution(state_machine_arn, execution_input)
        self.wait(arn, timeout=timeout, on_poll=on_poll)
        return self.result(arn, execution_input)
