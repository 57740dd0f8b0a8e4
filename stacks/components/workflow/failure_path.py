"""Where every caught error goes: describe it, hand it to the failure handler, end in a Fail state.

Each task's Catch keeps the task's input and adds the error at `$.error`; a Pass state per step then
names the step and its SageMaker job, because one shared handler cannot know which step failed. That event
is the handler's CatchInput (lambdas/failure_handler/failure_handling/catch_input.py), checked field by field.
"""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from lambdas.failure_handler.failure_handling.catch_input import CATCH_SOURCE, CatchInput
from stacks.components.workflow.error_handling import add_retries
from stacks.support.state_paths import checked_parameters


class FailurePath(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, failure_handler: lambda_.IFunction) -> None:
        super().__init__(scope, construct_id)
        handle = tasks.LambdaInvoke(
            self,
            "HandleFailure",
            state_name="HandleFailure",
            comment="Record the failure, stop what the run left running, announce it",
            lambda_function=failure_handler,
            payload=sfn.TaskInput.from_json_path_at("$.failure_event"),
            result_selector={
                "error.$": "$.Payload.error",
                "cause.$": "$.Payload.cause",
                "record_uri.$": "$.Payload.record_uri",
            },
            result_path="$.handled",
            retry_on_service_exceptions=False,
        )
        add_retries(handle)
        handle.add_catch(
            sfn.Fail(
                self,
                "FailedUnrecorded",
                state_name="PipelineFailedUnrecorded",
                comment="The failure handler failed too: the original error stands; "
                "the backstop rule retries the handling",
                error_path="$.error.Error",
                cause_path="$.error.Cause",
            ),
            errors=["States.ALL"],
            result_path="$.handler_error",
        )
        self._handle = handle.next(
            sfn.Fail(
                self,
                "Failed",
                state_name="PipelineFailed",
                comment="The error and cause name the failed step and why",
                error_path="$.handled.error",
                cause_path="$.handled.cause",
            )
        )

    def catch(
        self,
        state: sfn.TaskStateBase | sfn.CustomState,
        *,
        step: str,
        job_type: str,
        job_name_path: str | None,
        action: str | None = None,
        action_path: str | None = None,
    ) -> None:
        """Retries for `state`, then a catch-all that routes to the failure handler."""
        add_retries(state)
        describe = self.describe(
            step=step, job_type=job_type, job_name_path=job_name_path, action=action, action_path=action_path
        )
        state.add_catch(describe, errors=["States.ALL"], result_path="$.error")

    def describe(
        self,
        *,
        step: str,
        job_type: str,
        job_name_path: str | None,
        action: str | None = None,
        action_path: str | None = None,
    ) -> sfn.Pass:
        """A Pass state that builds the failure handler's event for `step` (expects `$.error`).

        `action` ("create"/"update") tells the handler whether a failed endpoint ever served traffic.
        """
        job: dict[str, str] = {"type": job_type}  # a CaughtJob
        if job_name_path:
            job["name.$"] = job_name_path
        if action:
            job["action"] = action
        if action_path:
            job["action.$"] = action_path
        return sfn.Pass(
            self,
            f"Describe{step}Failure",
            state_name=f"{step}Failed",
            parameters=checked_parameters(
                CatchInput,
                {
                    "source": CATCH_SOURCE,
                    "execution_arn.$": "$$.Execution.Id",
                    "execution_name.$": "$$.Execution.Name",
                    "state_machine_arn.$": "$$.StateMachine.Id",
                    "redrive_count.$": "$$.Execution.RedriveCount",
                    "step": step,
                    "job": job,
                    "error.$": "$.error",
                    "input.$": "$",
                },
            ),
            result_path="$.failure_event",
        ).next(self._handle)
