"""One execution of the state machine, followed through the Step Functions API (the same calls everywhere)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .errors import PipelineError, RunFailed
from .results import TERMINAL, Decision, RunProgress, RunResult, Step

if TYPE_CHECKING:
    from .client import PipelineClient

_EXECUTION_END = ("ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut")


class Run:
    kind = "run"  # how messages name it

    def __init__(self, *, pipeline: PipelineClient, execution_arn: str, execution_input: dict[str, Any]):
        self.pipeline = pipeline
        self.execution_arn = execution_arn
        self.input = execution_input

    @property
    def name(self) -> str:
        return self.execution_arn.rsplit(":", 1)[-1]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, input={json.dumps(self.input)})"

    def status(self) -> str:
        return self._sfn().describe_execution(executionArn=self.execution_arn)["status"]

    def result(self) -> RunResult:
        """How the execution stands now, without waiting (RUNNING while it runs)."""
        return self._result(self._sfn().describe_execution(executionArn=self.execution_arn))

    def wait(
        self,
        *,
        progress: Callable[[RunProgress], None] | None = None,
        timeout_seconds: float = 4 * 3600,
        check: bool = True,
    ) -> RunResult:
        """Poll until the execution ends. With `check`, a run that did not succeed raises RunFailed."""
        sfn = self._sfn()
        deadline = time.monotonic() + timeout_seconds
        seen, entered = 0, {}
        while True:
            described = sfn.describe_execution(executionArn=self.execution_arn)
            if progress is not None:
                events = self._history()  # read after describe: a terminal status comes with every event
                steps = _steps(events[seen:], entered)
                seen = len(events)
                progress(RunProgress(described["status"], elapsed(described), tuple(steps)))
            if described["status"] in TERMINAL:
                break
            if time.monotonic() > deadline:
                raise PipelineError(
                    f"run {self.name} is still RUNNING after {timeout_seconds:.0f} s; call run.wait() again "
                    "(with a larger timeout_seconds) to keep following it"
                )
            time.sleep(self.pipeline.poll_seconds)
        self.pipeline.after_run()
        result = self._result(described)
        if check and not result.succeeded:
            raise RunFailed(self._failure_message(result), result=result)
        return result

    def _result(self, described: dict[str, Any]) -> RunResult:
        return _result(described)

    def _failure_message(self, result: RunResult) -> str:
        cause = (result.cause or "")[:1500]
        return f"{self.kind} {self.name} {result.status}: {result.error}: {cause}\nfix: {self._fix(result)}"

    def _fix(self, result: RunResult) -> str:
        if result.error == "InvalidExecutionInput":
            return "correct the option the cause names and start the run again"
        if result.status == "ABORTED":
            return "someone stopped the execution; start a new run"
        return self.pipeline.failure_hint(self.execution_arn)

    def _sfn(self) -> Any:
        return self.pipeline.client("stepfunctions")

    def _history(self) -> list[dict[str, Any]]:
        pages = self._sfn().get_paginator("get_execution_history").paginate(executionArn=self.execution_arn)
        return [event for page in pages for event in page["events"]]


def _steps(events: list[dict[str, Any]], entered: dict[str, datetime]) -> list[Step]:
    """States that ended in these events; `entered` carries the open states from one poll to the next."""
    steps = []
    for event in events:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            entered[event["stateEnteredEventDetails"]["name"]] = event["timestamp"]
        elif kind.endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            started = entered.pop(name, event["timestamp"])
            steps.append(Step(name, (event["timestamp"] - started).total_seconds()))
        elif kind in _EXECUTION_END:
            details = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
            error = details.get("error") or kind.removeprefix("Execution").upper()
            for name, started in entered.items():  # a Fail state, or the task the execution ended in
                steps.append(Step(name, (event["timestamp"] - started).total_seconds(), error))
            entered.clear()
    return steps


def elapsed(described: dict[str, Any]) -> float:
    end = described.get("stopDate") or datetime.now(described["startDate"].tzinfo)
    return (end - described["startDate"]).total_seconds()


def _result(described: dict[str, Any]) -> RunResult:
    output = json.loads(described["output"]) if described.get("output") else None
    return RunResult(
        execution_arn=described["executionArn"],
        status=described["status"],
        seconds=elapsed(described),
        output=output,
        error=described.get("error"),
        cause=described.get("cause"),
        decision=Decision.from_output(output),
    )
