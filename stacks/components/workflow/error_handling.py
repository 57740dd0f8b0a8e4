"""Retries by error class for every task, and the catch that routes a failure to the failure handler.

- transient (throttling, 5xx, Lambda service errors): short exponential backoff with full jitter;
- capacity and quota (`ResourceLimitExceeded`): a long schedule, capacity frees up in minutes;
- client errors (validation, access denied, a job that failed on its own): never retried, they would
  fail the same way again; the catch records, explains and announces them.
"""

from __future__ import annotations

from functools import cache

from aws_cdk import Duration
from aws_cdk import aws_stepfunctions as sfn

TRANSIENT_ERRORS = [
    "ThrottlingException",
    "SageMaker.ThrottlingException",
    "SageMaker.InternalFailureException",
    "SageMaker.ServiceUnavailableException",
    "S3.SlowDownException",
    "S3.InternalErrorException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
CAPACITY_ERRORS = ["SageMaker.ResourceLimitExceededException", "SageMaker.ResourceLimitExceeded"]
# The optimized SageMaker integrations (createTrainingJob.sync, ...) report throttling and client errors
# under this one name, so it gets two quick retries: enough for throttling to clear, and a client
# error (which every request shape is tested against botocore to avoid) fails within half a minute.
AMBIGUOUS_SAGEMAKER_ERRORS = ["SageMaker.AmazonSageMakerException"]


# (errors, first interval s, attempts, backoff rate, longest interval s): transient, ambiguous, capacity.
RETRY_POLICY = (
    (TRANSIENT_ERRORS, 2, 6, 2, 60),
    (AMBIGUOUS_SAGEMAKER_ERRORS, 5, 2, 4, None),
    (CAPACITY_ERRORS, 60, 8, 2, 900),
)


@cache
def _seconds(value: int) -> Duration:
    """One Duration per distinct value: each is a round trip to jsii's Node process, and every task takes
    these same three retries."""
    return Duration.seconds(value)


def add_retries(state: sfn.TaskStateBase | sfn.CustomState) -> None:
    """Transient errors: short backoff; the ambiguous SageMaker name: twice; capacity: a long schedule."""
    for errors, interval, attempts, backoff, longest in RETRY_POLICY:
        state.add_retry(
            errors=errors,
            interval=_seconds(interval),
            max_attempts=attempts,
            backoff_rate=backoff,
            max_delay=_seconds(longest) if longest else None,
            jitter_strategy=sfn.JitterType.FULL,
        )
