"""The human-readable failure notification, published to the pipeline's SNS topic."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

MAX_SUBJECT_CHARACTERS = 100  # SNS rejects longer subjects, and non-ASCII ones

# SageMaker console fragments per job type.
_SAGEMAKER_CONSOLE_PATHS = {
    "training": "jobs",
    "processing": "processing-jobs",
    "tuning": "hyper-tuning-jobs",
    "transform": "transform-jobs",
    "endpoint": "endpoints",
}


@dataclass(frozen=True)
class Notification:
    subject: str
    body: str


def compose(record: dict[str, Any], region: str) -> Notification:
    job = record.get("job") or {}
    step = record.get("step") or "unknown step"
    subject = f"[{record.get('environment')}] {record.get('pipeline')}: {step} failed"
    lines = [
        f"The {record.get('pipeline')} pipeline failed in {record.get('environment')}.",
        "",
        f"Step:        {step}",
        f"Job:         {_describe_job(job)}",
        f"Reason:      {record.get('reason')}",
        f"Error:       {record.get('error')}",
        f"Execution:   {record.get('execution_arn') or 'unknown'}",
        f"Detected by: {record.get('source')}",
        f"Recorded at: {record.get('recorded_at')}",
        f"Record:      {record.get('record_uri')}",
    ]
    if record.get("stopped"):
        lines.append(f"Stopped:     {', '.join(record['stopped'])}")
    lines += [f"Note:        {note}" for note in record.get("notes", [])]
    links = console_links(record, region)
    if links:
        lines += ["", "Links:"] + [f"  {label}: {url}" for label, url in links]
    return Notification(subject=ascii_subject(subject), body="\n".join(lines) + "\n")


def publish(sns: Any, topic_arn: str, notification: Notification) -> str:
    """Publish and return the message id; errors propagate (after boto3's retries)."""
    response = sns.publish(TopicArn=topic_arn, Subject=notification.subject, Message=notification.body)
    return response["MessageId"]


def console_links(record: dict[str, Any], region: str) -> list[tuple[str, str]]:
    # Derive the region from the execution ARN when there is one: that is where it ran.
    arn = record.get("execution_arn") or ""
    arn_parts = arn.split(":")
    region = arn_parts[3] if len(arn_parts) > 3 and arn_parts[3] else region
    console = f"https://{region}.console.aws.amazon.com"
    links: list[tuple[str, str]] = []
    if arn:
        links.append(
            ("Step Functions execution", f"{console}/states/home?region={region}#/v2/executions/details/{arn}")
        )
    job = record.get("job") or {}
    path = _SAGEMAKER_CONSOLE_PATHS.get(job.get("type", ""))
    if path and job.get("name"):
        links.append(("SageMaker", f"{console}/sagemaker/home?region={region}#/{path}/{quote(job['name'])}"))
    return links


def ascii_subject(text: str) -> str:
    # SNS subjects: ASCII, no control characters or line breaks, at most 100 characters.
    cleaned = re.sub(r"[^\x20-\x7e]", "?", " ".join(text.split()))
    if len(cleaned) > MAX_SUBJECT_CHARACTERS:
        cleaned = cleaned[: MAX_SUBJECT_CHARACTERS - 3] + "..."
    return cleaned


def _describe_job(job: dict[str, Any]) -> str:
    if not job.get("name") or job.get("type") == "none":
        return "none identified"
    status = f", status {job['status']}" if job.get("status") else ""
    return f"{job.get('type')} job {job['name']}{status}"
