"""The monitoring state machine: PlanMonitoring -> (skip | Monitor -> ReadViolations -> retrain or not).

Nothing to monitor (no endpoint, no capture in the window, no baseline) ends after one Lambda call. Every task
retries and routes failures through the same failure path as the other workflows (recorded, announced, the
processing job stopped); the state machine logs every event and traces with X-Ray, like the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from stacks.components.monitoring.monitor_job import SYNC, monitor_request
from stacks.components.monitoring.settings import MonitoringSettings
from stacks.components.workflow.failure_path import FailurePath
from stacks.components.workflow.observed_state_machine import observed_state_machine
from stacks.components.workflow.planning_step import planning_step
from stacks.config.timeouts import SLACK_SECONDS


@dataclass(frozen=True)
class MonitoringResources:
    plan_monitoring: lambda_.IFunction
    failure_handler: lambda_.IFunction
    pipeline: sfn.IStateMachine
    artifacts_bucket: s3.IBucket
    key: kms.IKey
    image_uri: str
    role_arn: str


class MonitoringWorkflow(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: MonitoringSettings, resources: MonitoringResources
    ):
        super().__init__(scope, construct_id)
        failures = FailurePath(self, "Failure", failure_handler=resources.failure_handler)
        plan = planning_step(
            self,
            "PlanMonitoring",
            function=resources.plan_monitoring,
            plan_key="monitoring",
            comment="What serves, its baseline, this period's captures; whether retraining may start",
            failures=failures,
        )
        nothing = sfn.Succeed(
            self,
            "NothingToMonitor",
            state_name="NothingToMonitor",
            comment="No model serving, or no data captured in the period: $.monitoring.reason",
        )
        processing = settings.processing
        monitor = sfn.CustomState(
            self,
            "Monitor",
            state_json={
                "Type": "Task",
                "Comment": "Drift and model quality of the period's captures (the container's monitor entry point)",
                "Resource": SYNC,
                "Parameters": monitor_request(
                    image_uri=resources.image_uri,
                    role_arn=resources.role_arn,
                    key_arn=resources.key.key_arn,
                    processing=processing,
                ),
                "ResultSelector": {"name.$": "$.ProcessingJobName", "status.$": "$.ProcessingJobStatus"},
                "ResultPath": "$.job",
                "TimeoutSeconds": processing.max_runtime_seconds + SLACK_SECONDS,
            },
        )
        failures.catch(monitor, step="Monitor", job_type="processing", job_name_path="$.monitoring.jobs.monitor")
        read = tasks.CallAwsService(
            self,
            "ReadViolations",
            state_name="ReadViolations",
            comment="Load constraint_violations.json into the state",
            service="s3",
            action="getObject",
            iam_action="s3:GetObject",
            iam_resources=[resources.artifacts_bucket.arn_for_objects("monitoring/*")],
            parameters={"Bucket": resources.artifacts_bucket.bucket_name, "Key.$": "$.monitoring.s3.violations_key"},
            result_selector={"doc.$": "States.StringToJson($.Body)"},
            result_path="$.violations",
        )
        failures.catch(read, step="ReadViolations", job_type="none", job_name_path=None)
        count = sfn.Pass(
            self,
            "CountViolations",
            state_name="CountViolations",
            parameters={
                "count.$": "States.ArrayLength($.violations.doc.violations)",
                "report.$": "$.monitoring.s3.report",
            },
            result_path="$.violations",
        )
        # The SDK integration (aws-sdk:sfn), not the optimized one (states:startExecution): the same call on AWS,
        # and the one the local runner's interpreter sends as botocore's request (the optimized one it does not).
        retrain = tasks.CallAwsService(
            self,
            "StartRetraining",
            state_name="StartRetraining",
            comment="A training run on the newest data; its name (drift-...) marks the cool-down",
            service="sfn",
            action="startExecution",
            iam_action="states:StartExecution",
            iam_resources=[resources.pipeline.state_machine_arn],
            parameters={
                "StateMachineArn": resources.pipeline.state_machine_arn,
                "Name.$": "$.monitoring.retrain.name",
                "Input.$": "States.JsonToString($.monitoring.retrain.input)",
            },
            result_selector={"execution_arn.$": "$.ExecutionArn"},
            result_path="$.retraining",
        )
        started = sfn.Succeed(self, "RetrainingStarted", state_name="RetrainingStarted")
        # A retried StartExecution of the same name and input is idempotent; another input under that name is not.
        retrain.add_catch(started, errors=["Sfn.ExecutionAlreadyExistsException"], result_path="$.retraining")
        failures.catch(retrain, step="StartRetraining", job_type="none", job_name_path=None)
        retrain.next(started)
        found = sfn.Succeed(
            self,
            "ViolationsFound",
            state_name="ViolationsFound",
            comment="Announced by the violation alarm; retraining off or cooling down",
        )
        clean = sfn.Succeed(self, "NoViolations", state_name="NoViolations")
        decide = (
            sfn.Choice(self, "AnyViolations", state_name="AnyViolations?")
            .when(sfn.Condition.number_equals("$.violations.count", 0), clean)
            .when(sfn.Condition.boolean_equals("$.monitoring.retrain.allowed", True), retrain)
            .otherwise(found)
        )
        monitor.next(read).next(count).next(decide)
        definition = plan.next(
            sfn.Choice(self, "AnythingToMonitor", state_name="AnythingToMonitor?")
            .when(sfn.Condition.string_equals("$.monitoring.action", "skip"), nothing)
            .otherwise(monitor)
        )
        self.state_machine = observed_state_machine(
            self,
            definition=definition,
            key=resources.key,
            log_retention_days=settings.log_retention_days,
            timeout=Duration.seconds(processing.max_runtime_seconds + 4 * SLACK_SECONDS),
            comment="Model monitoring: drift and quality of the endpoint's captured traffic",
        )
