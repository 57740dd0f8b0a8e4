"""Names the state that failed, from the tail of the execution history.

The backstop event says only that an execution failed. The last state entered,
and the SageMaker task it scheduled, say where and on which job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .events import JobRef, job_from_document

# Enough to reach past the terminal events (TaskFailed, ExecutionFailed, ...)
# back to the failed state's entry, even in a Wait/Choice polling loop.
HISTORY_EVENTS_TO_READ = 25


@dataclass(frozen=True)
class FailedState:
    step: str | None
    job: JobRef | None
    problem: str | None = None


def locate_failed_state(stepfunctions: Any, execution_arn: str) -> FailedState:
    """Best effort: a history that cannot be read is reported, never raised."""
    try:
        response = stepfunctions.get_execution_history(
            executionArn=execution_arn,
            reverseOrder=True,
            maxResults=HISTORY_EVENTS_TO_READ,
        )
    except (ClientError, BotoCoreError) as error:
        return FailedState(step=None, job=None, problem=f"execution history unavailable: {error}")
    return failed_state_from_events(response.get("events", []))


def failed_state_from_events(events: list[dict[str, Any]]) -> FailedState:
    # Sort newest first ourselves rather than trust reverseOrder (moto ignores it).
    newest_first = sorted(events, key=lambda event: event.get("id", 0), reverse=True)
    job: JobRef | None = None
    for event in newest_first:
        scheduled = event.get("taskScheduledEventDetails")
        if scheduled and job is None:
            job = _job_from_scheduled_task(scheduled)
        entered = event.get("stateEnteredEventDetails")
        if entered and event.get("type") != "FailStateEntered":
            return FailedState(step=entered.get("name"), job=job)
    return FailedState(step=None, job=job, problem="no state entry in the last history events")


def _job_from_scheduled_task(details: dict[str, Any]) -> JobRef | None:
    if "sagemaker" not in str(details.get("resourceType", "")):
        return None
    try:
        parameters = json.loads(details.get("parameters") or "{}")
    except ValueError:
        return None
    job_type, job_name = job_from_document(parameters if isinstance(parameters, dict) else None)
    if job_type is None:
        return None
    resource = str(details.get("resource", "")).lower()
    action = "create" if resource.startswith("create") else "update" if resource.startswith("update") else None
    return JobRef(type=job_type, name=job_name, action=action)
