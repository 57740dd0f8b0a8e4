"""The failure handler's input from a Catch: what the state machine's failure path sends for a failed step.

Defined once, here: stacks/components/workflow/failure_path.py builds its event from these fields (a field
it names that is not here fails the synthesis), and events.py parses them. Standard library only.
The other input, EventBridge's execution status change (the backstop), is AWS's shape, not ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CATCH_SOURCE = "catch"


@dataclass(frozen=True)
class CaughtJob:
    type: str  # one of events.JOB_TYPES
    name: str | None = None  # the SageMaker job or endpoint the step ran, when it has one
    action: str | None = None  # endpoints: "create" or "update"


@dataclass(frozen=True)
class CatchInput:
    source: str  # CATCH_SOURCE
    execution_arn: str
    execution_name: str
    state_machine_arn: str
    redrive_count: int
    step: str
    job: CaughtJob
    error: dict[str, str]  # the Catch's {"Error": ..., "Cause": ...}
    input: Any  # the failed state's input: the run plan and the results so far
