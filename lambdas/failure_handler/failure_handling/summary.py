"""Turns what is known about a failure into the reason, error name and sentence.

The error name and sentence go to the state machine's Fail state (ErrorPath and
CausePath), the record and the notification, so they are built in one place.
"""

from __future__ import annotations

import re
from typing import Any

from .events import FailureEvent
from .job_status import JobStatus

MAX_REASON_CHARACTERS = 600
UNKNOWN_STEP_ERROR = "PipelineFailed"
# Keys under which error documents (Lambda, AWS SDK, SageMaker) carry their message.
_MESSAGE_KEYS = ("FailureReason", "errorMessage", "ErrorMessage", "Message", "message")
_STATUS_REASONS = {
    "TIMED_OUT": "the execution timed out",
    "ABORTED": "the execution was aborted",
}


def failure_reason(event: FailureEvent, status: JobStatus) -> str:
    """The most specific explanation available, as one line."""
    candidates: list[Any] = [status.failure_reason]
    if event.cause_document:
        candidates += [event.cause_document.get(key) for key in _MESSAGE_KEYS]
    else:
        candidates.append(event.cause)
    candidates.append(_STATUS_REASONS.get(event.execution_status or ""))
    reason = next((text for text in candidates if isinstance(text, str) and text.strip()), None)
    if reason is None:
        reason = f"{event.error} (no cause given)"
    return _one_line(reason, MAX_REASON_CHARACTERS)


def error_name(step: str | None) -> str:
    """ "Train" -> "TrainFailed"; "evaluate model" -> "EvaluateModelFailed"."""
    words = re.findall(r"[A-Za-z0-9]+", step or "")
    if not words:
        return UNKNOWN_STEP_ERROR
    return "".join(word[0].upper() + word[1:] for word in words) + "Failed"


def cause_sentence(step: str | None, job_type: str, job_name: str | None, reason: str) -> str:
    where = f"Step {step}" if step else "The pipeline (step unknown)"
    job = f" on {job_type} job {job_name}" if job_name and job_type != "none" else ""
    sentence = f"{where} failed{job}: {reason}"
    return sentence if sentence.endswith(".") else sentence + "."


def _one_line(text: str, limit: int) -> str:
    collapsed = " ".join(text.split())
    return collapsed if len(collapsed) <= limit else collapsed[: limit - 3] + "..."
