"""Stops what a failed execution left running, and never touches a serving endpoint.

A job still InProgress after its step failed (a timeout, an aborted execution)
keeps billing instances, so it is stopped. Stopping a tuning job stops its training
jobs. An endpoint is deleted only when its *creation* failed: a Failed endpoint that
was being updated may be the previous model's, and SageMaker rolls failed updates
back to the old configuration, which must go on serving.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .events import JobRef
from .job_status import JobStatus


@dataclass(frozen=True)
class Stopper:
    operation: str
    name_parameter: str
    resource_type: str  # as in the SageMaker ARN, for the report


STOPPERS = {
    "training": Stopper("stop_training_job", "TrainingJobName", "training-job"),
    "processing": Stopper("stop_processing_job", "ProcessingJobName", "processing-job"),
    "tuning": Stopper("stop_hyper_parameter_tuning_job", "HyperParameterTuningJobName", "hyper-parameter-tuning-job"),
    "transform": Stopper("stop_transform_job", "TransformJobName", "transform-job"),
}
RUNNING_STATUS = "InProgress"


@dataclass
class CleanupOutcome:
    stopped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def stop_leftovers(sagemaker: Any, job: JobRef, status: JobStatus) -> CleanupOutcome:
    outcome = CleanupOutcome()
    if not job.name or status.status is None:
        return outcome  # nothing known to be running
    if job.type == "endpoint":
        _clean_up_endpoint(sagemaker, job, status, outcome)
    elif job.type in STOPPERS and status.status == RUNNING_STATUS:
        stopper = STOPPERS[job.type]
        _call(
            outcome,
            lambda: getattr(sagemaker, stopper.operation)(**{stopper.name_parameter: job.name}),
            done=f"{stopper.resource_type}/{job.name}",
        )
    return outcome


def _clean_up_endpoint(sagemaker: Any, job: JobRef, status: JobStatus, outcome: CleanupOutcome) -> None:
    if status.status == "Failed" and job.action == "create":
        _call(
            outcome,
            lambda: sagemaker.delete_endpoint(EndpointName=job.name),
            done=f"endpoint/{job.name}",
        )
        return
    # InService (a rolled-back update still serving), Updating, UpdateRollbackFailed,
    # or Failed without proof it never served: leave it for a human.
    outcome.notes.append(f"endpoint {job.name} left as it is (status {status.status})")


def _call(outcome: CleanupOutcome, action: Any, done: str) -> None:
    try:
        action()
    except (ClientError, BotoCoreError) as error:
        # A failed clean-up is reported with the failure; it must not stop the record.
        outcome.notes.append(f"could not stop {done}: {error}")
        return
    outcome.stopped.append(done)
