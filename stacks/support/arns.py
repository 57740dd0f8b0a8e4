"""ARNs the constructs grant on, written once."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_stepfunctions as sfn


def execution_arns(stack: Stack, machines: Iterable[sfn.IStateMachine]) -> list[str]:
    """Every execution of each state machine: `arn:...:execution:MACHINE:*` (what an execution-level
    action such as GetExecutionHistory or StopExecution is granted on)."""
    return [
        stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{machine.state_machine_name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        for machine in machines
    ]
