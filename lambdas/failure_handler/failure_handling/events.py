"""Both event kinds the handler receives, parsed into one model without ever raising.

Kind 1 comes from a Catch in the state machine (``"source": "catch"``); kind 2 is
EventBridge's "Step Functions Execution Status Change" (the backstop). Anything else
is kept as ``source="unrecognised"`` with whatever fields could be salvaged, because
an event of an unexpected shape must still be recorded and announced.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from .catch_input import CATCH_SOURCE

JOB_TYPES = ("training", "processing", "tuning", "transform", "endpoint", "none")

# Top-level keys of the Describe* responses that Step Functions puts into Cause,
# tuning first: a tuning description also mentions training jobs, but only nested.
JOB_NAME_KEYS = {
    "tuning": "HyperParameterTuningJobName",
    "training": "TrainingJobName",
    "processing": "ProcessingJobName",
    "transform": "TransformJobName",
    "endpoint": "EndpointName",
}

BACKSTOP_DETAIL_TYPE = "Step Functions Execution Status Change"
_UNSAFE_KEY_CHARACTERS = re.compile(r"[^A-Za-z0-9._=-]")


@dataclass(frozen=True)
class JobRef:
    type: str  # one of JOB_TYPES
    name: str | None
    # Endpoints only: "create" or "update" when known; decides whether a Failed
    # endpoint may be deleted (a failed creation never served anything).
    action: str | None = None


@dataclass(frozen=True)
class FailureEvent:
    source: str  # "catch", "backstop" or "unrecognised"
    execution_arn: str | None
    execution_name: str | None
    state_machine_arn: str | None
    step: str | None
    job: JobRef
    error: str
    cause: str
    cause_document: dict[str, Any] | None  # Cause, when it is a JSON object
    execution_status: str | None  # backstop only: FAILED, TIMED_OUT or ABORTED
    redrive_count: int
    input: Any
    raw: Any
    problems: tuple[str, ...] = field(default=())

    @property
    def fingerprint(self) -> str:
        canonical = json.dumps(self.raw, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def record_id(self) -> str:
        """Identity of the failure: one record per execution (and redrive)."""
        if self.execution_name:
            base = _UNSAFE_KEY_CHARACTERS.sub("_", self.execution_name)
        else:
            # No execution to name it by: a retry of the same event still maps here.
            base = f"unidentified-{self.fingerprint[:20]}"
        return base if self.redrive_count == 0 else f"{base}/redrive-{self.redrive_count}"


def parse_event(raw: Any) -> FailureEvent:
    if isinstance(raw, dict) and raw.get("source") == "aws.states":
        return _parse_backstop(raw)
    event = _parse_catch(raw)
    if isinstance(raw, dict) and raw.get("source") == CATCH_SOURCE:
        return event
    return _replace_source(event, "unrecognised", "event is neither a Catch nor a backstop event")


def _parse_catch(raw: Any) -> FailureEvent:
    problems: list[str] = []
    event = raw if isinstance(raw, dict) else {}
    if not isinstance(raw, dict):
        problems.append(f"event is a {type(raw).__name__}, not an object")
    execution_arn = _text(event.get("execution_arn") or event.get("executionArn"))
    error_field = event.get("error")
    if isinstance(error_field, dict):
        error = _text(error_field.get("Error") or error_field.get("error"))
        cause = _text(error_field.get("Cause") or error_field.get("cause"))
    else:
        error, cause = _text(error_field), _text(event.get("cause"))
        problems.append("'error' is not an object with Error and Cause")
    cause_document = _json_object(cause)
    return FailureEvent(
        source="catch",
        execution_arn=execution_arn,
        execution_name=_text(event.get("execution_name")) or execution_name_from_arn(execution_arn),
        state_machine_arn=_text(event.get("state_machine_arn")),
        step=_text(event.get("step")),
        job=_parse_job(event.get("job"), cause_document, problems),
        error=error or "Unknown",
        cause=cause or "",
        cause_document=cause_document,
        execution_status=None,
        redrive_count=_count(event.get("redrive_count")),
        input=event.get("input"),
        raw=raw,
        problems=tuple(problems),
    )


def _parse_backstop(raw: dict[str, Any]) -> FailureEvent:
    problems: list[str] = []
    detail = raw.get("detail") if isinstance(raw.get("detail"), dict) else {}
    if not detail:
        problems.append("backstop event has no 'detail' object")
    if raw.get("detail-type") != BACKSTOP_DETAIL_TYPE:
        problems.append(f"unexpected detail-type {raw.get('detail-type')!r}")
    execution_arn = _text(detail.get("executionArn"))
    status = _text(detail.get("status"))
    cause = _text(detail.get("cause")) or ""
    raw_input = detail.get("input")
    return FailureEvent(
        source="backstop",
        execution_arn=execution_arn,
        execution_name=_text(detail.get("name")) or execution_name_from_arn(execution_arn),
        state_machine_arn=_text(detail.get("stateMachineArn")),
        step=None,  # the backstop does not know it; the execution history may
        job=JobRef(type="none", name=None),
        # An aborted execution carries no error; its status is the best description.
        error=_text(detail.get("error")) or f"Execution{(status or 'Failed').title().replace('_', '')}",
        cause=cause,
        cause_document=_json_object(cause),
        execution_status=status,
        redrive_count=_count(detail.get("redriveCount")),
        input=_json_value(raw_input) if isinstance(raw_input, str) else raw_input,
        raw=raw,
        problems=tuple(problems),
    )


def _parse_job(job_field: Any, cause_document: dict[str, Any] | None, problems: list[str]) -> JobRef:
    job = job_field if isinstance(job_field, dict) else {}
    if not isinstance(job_field, dict):
        problems.append("'job' is not an object with type and name")
    job_type = job.get("type")
    if job_type not in JOB_TYPES:
        if job_type is not None:
            problems.append(f"unknown job type {job_type!r}")
        job_type = None
    name = _text(job.get("name"))
    inferred_type, inferred_name = job_from_document(cause_document)
    action = _text(job.get("action"))
    return JobRef(
        type=job_type or inferred_type or "none",
        name=name or inferred_name,
        action=action.lower() if action else None,
    )


def job_from_document(document: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """Which SageMaker job a Describe*/Create* document is about, if any."""
    for job_type, key in JOB_NAME_KEYS.items():
        if document and isinstance(document.get(key), str):
            return job_type, document[key]
    return None, None


def execution_name_from_arn(execution_arn: str | None) -> str | None:
    # arn:aws:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME (express: one more part)
    if not execution_arn:
        return None
    parts = execution_arn.split(":")
    return parts[7] if len(parts) >= 8 and parts[5] in ("execution", "express") else None


def _replace_source(event: FailureEvent, source: str, problem: str) -> FailureEvent:
    return replace(event, source=source, problems=(problem, *event.problems))


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def _json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _json_object(text: str | None) -> dict[str, Any] | None:
    value = _json_value(text) if text else None
    return value if isinstance(value, dict) else None
