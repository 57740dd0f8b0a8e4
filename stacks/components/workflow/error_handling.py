"""Retries by error class for every task, and the catch that routes a failure to the failure handler.

- transient (throttling, 5xx, Lambda service errors): short exponential backoff with full jitter;
- capacity and quota (`ResourceLimitExceeded`): a long schedule, capacity frees up in minutes;
- client errors (validation, access denied, a job that failed on its own): never retried, they would
  fail the same way again; the catch records, explains and announces them.
"""

from __future__ import annotations

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


def add_retries(state: sfn.TaskStateBase | sfn.CustomState) -> None:
    """Transient errors: short backoff; capacity and quota errors: a long schedule."""
    state.add_retry(
        errors=TRANSIENT_ERRORS,
        interval=Duration.seconds(2),
        max_attempts=6,
        backoff_rate=2,
        max_delay=Duration.seconds(60),
        jitter_strategy=sfn.JitterType.FULL,
    )
    state.add_retry(
        errors=AMBIGUOUS_SAGEMAKER_ERRORS,
        interval=Duration.seconds(5),
        max_attempts=2,
        backoff_rate=4,
        jitter_strategy=sfn.JitterType.FULL,
    )
    state.add_retry(
        errors=CAPACITY_ERRORS,
        interval=Duration.seconds(60),
        max_attempts=8,
        backoff_rate=2,
        max_delay=Duration.minutes(15),
        jitter_strategy=sfn.JitterType.FULL,
    )
