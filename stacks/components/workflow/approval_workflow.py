"""Deploy a model a person approved in the registry (prod): the approval event starts this workflow.

EventBridge's "SageMaker Model Package State Change" (ModelApprovalStatus = Approved, our group) starts
it with the package's ARN; it reads the package, checks it is still approved and rolls it out with the
same deployment states the training workflow uses in dev.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from lambdas.prepare_run.run_planning.plan_model import RunPlan
from stacks.components.workflow.deployment import Deployment, DeploymentSettings, describe_model_package_state
from stacks.components.workflow.failure_path import FailurePath
from stacks.components.workflow.observed_state_machine import observed_state_machine
from stacks.config.sections import EndpointConfig
from stacks.support.documents import RUN
from stacks.support.event_delivery import start_execution
from stacks.support.state_paths import checked_parameters


class ApprovalWorkflow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: DeploymentSettings,
        endpoint: EndpointConfig,
        log_retention_days: int,
        failure_handler: lambda_.IFunction,
        key: kms.IKey,
        dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        failures = FailurePath(self, "Failure", failure_handler=failure_handler)
        read = describe_model_package_state(
            self,
            arn_path="$.model_package_arn",
            group_name=settings.model_package_group_name,
            comment="The approved package: its image, its artifact, its run",
            failures=failures,
        )
        plan = sfn.Pass(
            self,
            "PlanDeployment",
            state_name="PlanDeployment",
            comment="Names unique to this deployment; instances and data capture from the configuration",
            parameters={
                "model_package_arn.$": "$.model_package_arn",
                # The part of a run plan the rollout reads: the fields are the plan model's.
                "run": checked_parameters(
                    RunPlan,
                    {
                        "id.$": "$$.Execution.Name",
                        "jobs": {
                            "model.$": "States.Format('model-{}', $$.Execution.Name)",
                            "config.$": "States.Format('config-{}', $$.Execution.Name)",
                        },
                        "endpoint_name": settings.endpoint_name,
                        "instances": {
                            "endpoint": {
                                "InstanceType": endpoint.instance_type,
                                "InitialInstanceCount": endpoint.initial_instance_count,
                            }
                        },
                        "s3": {"data_capture": f"s3://{settings.artifacts_bucket_name}/data-capture/"},
                    },
                    partial=True,
                ),
                "results": {
                    "model": {"image.$": "$.package.container.Image", "artifact.$": "$.package.container.ModelDataUrl"},
                    "model_package": {"arn.$": "$.model_package_arn"},
                },
            },
        )
        done = sfn.Pass(
            self,
            "Summarize",
            state_name="Summarize",
            parameters={
                "status": "DEPLOYED",
                "model_package_arn.$": "$.model_package_arn",
                "endpoint_name.$": RUN("endpoint_name"),
            },
        ).next(sfn.Succeed(self, "Deployed", state_name="Deployed"))
        rollout = Deployment(
            self, "Rollout", settings=settings, failures=failures, approval_status="Approved", done=done, register=False
        )
        not_approved = sfn.Fail(
            self,
            "NotApproved",
            state_name="NotApproved",
            error="ModelPackageNotApproved",
            cause="The package is no longer Approved; nothing was deployed",
        )
        definition = read.next(
            sfn.Choice(self, "StillApproved", state_name="StillApproved?")
            .when(sfn.Condition.string_equals("$.package.status", "Approved"), plan.next(rollout.deploy))
            .otherwise(not_approved)
        )
        self.state_machine = observed_state_machine(
            self,
            definition=definition,
            key=key,
            log_retention_days=log_retention_days,
            timeout=Duration.hours(6),
            comment="Deploy an approved model package to the pipeline's endpoint",
        )
        events.Rule(
            self,
            "OnApproval",
            description="A model package of this pipeline was approved: deploy it",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Model Package State Change"],
                detail={
                    "ModelPackageGroupName": [settings.model_package_group_name],
                    "ModelApprovalStatus": ["Approved"],
                },
            ),
            targets=[
                start_execution(
                    self.state_machine,
                    {"model_package_arn": events.EventField.from_path("$.detail.ModelPackageArn")},
                    dead_letters=dead_letters,
                )
            ],
        )
