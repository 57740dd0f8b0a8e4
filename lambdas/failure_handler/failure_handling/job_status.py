"""Fetches the failed SageMaker job's status and FailureReason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .events import JobRef


@dataclass(frozen=True)
class Describer:
    operation: str
    name_parameter: str
    status_field: str


DESCRIBERS = {
    "training": Describer("describe_training_job", "TrainingJobName", "TrainingJobStatus"),
    "processing": Describer("describe_processing_job", "ProcessingJobName", "ProcessingJobStatus"),
    "tuning": Describer(
        "describe_hyper_parameter_tuning_job",
        "HyperParameterTuningJobName",
        "HyperParameterTuningJobStatus",
    ),
    "transform": Describer("describe_transform_job", "TransformJobName", "TransformJobStatus"),
    "endpoint": Describer("describe_endpoint", "EndpointName", "EndpointStatus"),
}


@dataclass(frozen=True)
class JobStatus:
    status: str | None
    failure_reason: str | None
    # Why the job could not be described (unknown name, access denied, ...):
    # reported in the record and the message, never fatal.
    lookup_problem: str | None = None


def describe_job(sagemaker: Any, job: JobRef) -> JobStatus:
    describer = DESCRIBERS.get(job.type)
    if describer is None or not job.name:
        return JobStatus(status=None, failure_reason=None)
    try:
        response = getattr(sagemaker, describer.operation)(**{describer.name_parameter: job.name})
    except ClientError as error:
        return JobStatus(None, None, lookup_problem=_explain(error, job))
    except BotoCoreError as error:  # connection trouble outlasting the retries
        return JobStatus(None, None, lookup_problem=f"could not describe {job.type} job {job.name}: {error}")
    return JobStatus(
        status=response.get(describer.status_field),
        failure_reason=response.get("FailureReason") or None,
    )


def _explain(error: ClientError, job: JobRef) -> str:
    details = error.response.get("Error", {})
    message = details.get("Message", "")
    # SageMaker answers an unknown name with ValidationException "Could not find ...".
    if "could not find" in message.lower() or details.get("Code") == "ResourceNotFound":
        return f"SageMaker does not know {job.type} job {job.name!r} (it may never have been created)"
    return f"could not describe {job.type} job {job.name}: {details.get('Code')}: {message}"
