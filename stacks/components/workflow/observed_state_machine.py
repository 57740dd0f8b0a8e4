"""A Standard state machine that logs every event to an encrypted, retained log group and traces with X-Ray."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.support.log_retention import log_retention


def observed_state_machine(
    scope: Construct,
    *,
    definition: sfn.IChainable,
    key: kms.IKey,
    log_retention_days: int,
    timeout: Duration,
    comment: str,
) -> sfn.StateMachine:
    """Creates `ExecutionLogs` and `StateMachine` under `scope` (their logical ids derive from these ids)."""
    log_group = logs.LogGroup(
        scope,
        "ExecutionLogs",
        encryption_key=key,
        retention=log_retention(log_retention_days),
        removal_policy=RemovalPolicy.RETAIN,
    )
    return sfn.StateMachine(
        scope,
        "StateMachine",
        state_machine_type=sfn.StateMachineType.STANDARD,
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        timeout=timeout,
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
        comment=comment,
    )
