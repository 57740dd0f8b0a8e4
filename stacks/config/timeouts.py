"""The workflow's task timeouts, derived from the configuration's job limits, and the longest run they allow.

One place for both: the tasks' TimeoutSeconds (pipeline_workflow.py, deployment.py) and the check that the
execution's own timeout outlasts the longest path through them, so a long tuning job is never killed by
the execution's timeout while its task still waits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lambdas.prepare_run.run_planning.training_limits import longest_job_seconds, training_limits

if TYPE_CHECKING:  # the sections import nothing from here; the types are for annotations only
    from stacks.config.sections import EndpointDeployment, ProcessingConfig, TrainingConfig, TuningConfig

SLACK_SECONDS = 1800  # queueing and provisioning on top of a job's own limit
DEPLOY_SLACK_SECONDS = 1800  # SageMaker's own provisioning of the new fleet, on top of the traffic shift
# Step Functions: the PrepareRun and ReadEvaluation calls, the registry and the endpoint polling around
# the jobs; minutes, not hours.
BOOKKEEPING_SECONDS = 900


def blue_green_timeout_seconds(shift: EndpointDeployment) -> int:
    """UpdateEndpoint's MaximumExecutionTimeoutInSeconds: every traffic step's wait, the old fleet's
    termination wait and provisioning, within SageMaker's 600..28800."""
    steps = -(-100 // shift.step_percent) if shift.traffic_shift == "LINEAR" else 1
    timeout = steps * shift.wait_seconds + shift.termination_wait_seconds + DEPLOY_SLACK_SECONDS
    return min(max(timeout, 600), 28800)


@dataclass(frozen=True)
class TaskTimeouts:
    processing: int
    training: int
    tuning: int
    deployment: int

    @property
    def longest_run(self) -> int:
        """Process, then the longer of training and tuning (an execution may ask for either), evaluate
        (a processing job), deploy."""
        return self.processing + max(self.training, self.tuning) + self.processing + self.deployment

    def describe_longest_run(self) -> str:
        hours = {
            "processing": self.processing,
            "training or tuning": max(self.training, self.tuning),
            "evaluation": self.processing,
            "deployment": self.deployment,
            "bookkeeping": BOOKKEEPING_SECONDS,
        }
        return " + ".join(f"{name} {round(seconds / 3600, 2):g} h" for name, seconds in hours.items())


def task_timeouts(
    processing: ProcessingConfig, training: TrainingConfig, tuning: TuningConfig, shift: EndpointDeployment
) -> TaskTimeouts:
    job = longest_job_seconds(training_limits(training.model_dump())) + SLACK_SECONDS
    rounds = math.ceil(tuning.max_jobs / tuning.max_parallel_jobs)
    return TaskTimeouts(
        processing=processing.max_runtime_seconds + SLACK_SECONDS,
        training=job,
        tuning=rounds * job + SLACK_SECONDS,
        deployment=blue_green_timeout_seconds(shift),
    )


def minimum_execution_minutes(timeouts: TaskTimeouts) -> int:
    return math.ceil((timeouts.longest_run + BOOKKEEPING_SECONDS) / 60)
