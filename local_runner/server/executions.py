"""Step Functions executions kept across restarts of the local cloud.

moto keeps executions in memory only. When the server stops, every execution it ran is written here in the wire
form Step Functions answers with (DescribeExecution, its whole history, its ListExecutions summary); after the
next start, the front answers those calls from this file for executions the new moto does not know. An
execution still running at the stop is recorded as ABORTED, with an ExecutionAborted event, as AWS records a
stopped one."""

from __future__ import annotations

import datetime
import json
import threading
from pathlib import Path
from typing import Any

from ..executions import every_execution
from ..validation import ServiceError, service_model
from .protocols import to_wire

ABORTED_CAUSE = "the local cloud stopped (make down) while this execution ran"


def _shape(operation: str, member: str | None = None):
    shape = service_model("stepfunctions").operation_model(operation).output_shape
    return shape if member is None else shape.members[member]


class ExecutionArchive:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self.records: dict[str, dict[str, Any]] = json.loads(path.read_text()) if path.is_file() else {}

    def knows(self, execution_arn: str | None) -> bool:
        return execution_arn in self.records

    # -- writing -----------------------------------------------------------------------------------------------
    def record(self, sfn) -> int:
        """Every execution of every state machine of `sfn` (moto's client in-process), then the file."""
        count = 0
        for summary in every_execution(sfn):
            self._add(sfn, summary)
            count += 1
        self.save()
        return count

    def _add(self, sfn, summary: dict[str, Any]) -> None:
        arn = summary["executionArn"]
        described = sfn.describe_execution(executionArn=arn)
        events = []
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
            events.extend(page["events"])
        if described["status"] == "RUNNING":
            now = datetime.datetime.now(datetime.UTC)
            described.update(status="ABORTED", stopDate=now, cause=ABORTED_CAUSE)
            summary = {**summary, "status": "ABORTED", "stopDate": now}
            events.append(
                {
                    "timestamp": now,
                    "type": "ExecutionAborted",
                    "id": len(events) + 1,
                    "previousEventId": len(events),
                    "executionAbortedEventDetails": {"cause": ABORTED_CAUSE},
                }
            )
        described.pop("ResponseMetadata", None)
        with self._lock:
            self.records[arn] = {
                "describe": to_wire(described, _shape("DescribeExecution")),
                "events": to_wire(events, _shape("GetExecutionHistory", "events")),
                "summary": to_wire(summary, _shape("ListExecutions", "executions").member),
            }

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        with self._lock:
            temporary.write_text(json.dumps(self.records))
        temporary.replace(self.path)  # a stop in the middle leaves the previous file whole

    # -- answering ---------------------------------------------------------------------------------------------
    def describe(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.records[params["executionArn"]]["describe"]

    def history(self, params: dict[str, Any]) -> dict[str, Any]:
        events = self.records[params["executionArn"]]["events"]
        if params.get("reverseOrder"):
            events = events[::-1]
        if not params.get("includeExecutionData", True):
            events = [{k: v for k, v in e.items() if not k.endswith("EventDetails")} for e in events]
        size = params.get("maxResults") or 100  # Step Functions' default page
        token = params.get("nextToken")
        try:
            start = int(token) if token else 0
        except ValueError:
            raise ServiceError("InvalidToken", f"Invalid token: {token}") from None
        answer: dict[str, Any] = {"events": events[start : start + size]}
        if start + size < len(events):
            answer["nextToken"] = str(start + size)
        return answer

    def summaries(self, state_machine_arn: str, status: str | None) -> list[dict[str, Any]]:
        return [
            r["summary"]
            for r in self.records.values()
            if r["summary"]["stateMachineArn"] == state_machine_arn
            and (status is None or r["summary"]["status"] == status)
        ]
