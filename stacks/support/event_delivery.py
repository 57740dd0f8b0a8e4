"""How every EventBridge rule of the pipeline delivers: retried for hours, then kept in a dead-letter
queue whose alarm tells someone. One place, so the three rules cannot drift apart."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn

RETRY_ATTEMPTS = 4
MAX_EVENT_AGE = Duration.hours(6)


def start_execution(
    machine: sfn.IStateMachine, execution_input: dict[str, Any], *, dead_letters: sqs.IQueue
) -> targets.SfnStateMachine:
    return targets.SfnStateMachine(
        machine,
        input=events.RuleTargetInput.from_object(execution_input),
        dead_letter_queue=dead_letters,
        retry_attempts=RETRY_ATTEMPTS,
        max_event_age=MAX_EVENT_AGE,
    )


def invoke(function: lambda_.IFunction, *, dead_letters: sqs.IQueue) -> targets.LambdaFunction:
    return targets.LambdaFunction(
        function, dead_letter_queue=dead_letters, retry_attempts=RETRY_ATTEMPTS, max_event_age=MAX_EVENT_AGE
    )
