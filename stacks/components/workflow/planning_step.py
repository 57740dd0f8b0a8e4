"""A workflow's first state: a Lambda that validates the execution input and plans the run.

A rejected input ends at once in `InvalidInput` (error InvalidExecutionInput) with the function's own
message as the cause, which names the field and the fix; anything else goes to the failure path.
"""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from stacks.components.workflow.failure_path import FailurePath


def planning_step(
    scope: Construct,
    state_id: str,
    *,
    function: lambda_.IFunction,
    plan_key: str,
    comment: str,
    failures: FailurePath,
) -> tasks.LambdaInvoke:
    """The plan replaces the raw input at `$.<plan_key>`: every later state reads the validated plan."""
    plan = tasks.LambdaInvoke(
        scope,
        state_id,
        state_name=state_id,
        comment=comment,
        lambda_function=function,
        payload=sfn.TaskInput.from_object(
            {"input.$": "$", "execution_name.$": "$$.Execution.Name", "start_time.$": "$$.Execution.StartTime"}
        ),
        result_selector={f"{plan_key}.$": "$.Payload"},
        result_path="$",
        retry_on_service_exceptions=False,
    )
    rejected = sfn.Pass(
        scope,
        "ExplainInvalidInput",
        state_name="ExplainInvalidInput",
        parameters={"details.$": "States.StringToJson($.error.Cause)"},
        result_path="$.rejection",
    ).next(
        sfn.Fail(
            scope,
            "InvalidInput",
            state_name="InvalidInput",
            comment="A bad execution input: the cause names the field and the fix",
            error="InvalidExecutionInput",
            cause_path="$.rejection.details.errorMessage",
        )
    )
    plan.add_catch(rejected, errors=["InvalidExecutionInput"], result_path="$.error")
    failures.catch(plan, step=state_id, job_type="none", job_name_path=None)
    return plan
