"""Model monitoring per environment: an EventBridge Scheduler schedule starts the monitoring workflow.

Not SageMaker Model Monitor (MonitoringSchedule, data-quality job definitions): it "is no longer open to new
customers", so a new team could not turn it on. The same loop from EventBridge Scheduler, Step Functions
and SageMaker Processing, with Model Monitor's report files (docs/monitoring.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.components.monitoring.observability import monitoring_widgets, violation_alarm
from stacks.components.monitoring.permissions import grant_monitor_job, grant_planner
from stacks.components.monitoring.planner_function import planner_function
from stacks.components.monitoring.settings import MonitoringSettings
from stacks.components.monitoring.workflow import MonitoringResources, MonitoringWorkflow
from stacks.support.event_delivery import MAX_EVENT_AGE, RETRY_ATTEMPTS

# Minutes past the period's end: data capture delivers within a few minutes, so the period is complete.
SCHEDULES = {"hour": {"minute": "10"}, "day": {"minute": "15", "hour": "0"}}


@dataclass(frozen=True)
class MonitoringInputs:
    endpoint_name: str
    pipeline: sfn.IStateMachine
    failure_handler: lambda_.IFunction
    sagemaker_role: iam.IRole
    image_uri: str
    data_bucket: s3.IBucket
    artifacts_bucket: s3.IBucket
    key: kms.IKey
    topic: sns.ITopic
    dead_letters: sqs.IQueue


class ModelMonitoring(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: MonitoringSettings, inputs: MonitoringInputs
    ) -> None:
        super().__init__(scope, construct_id)
        monitoring = settings.monitoring
        self._config, self._endpoint_name = monitoring, inputs.endpoint_name
        self.planner = planner_function(
            self,
            settings=settings,
            key=inputs.key,
            endpoint_name=inputs.endpoint_name,
            data_bucket=inputs.data_bucket.bucket_name,
            artifacts_bucket=inputs.artifacts_bucket.bucket_name,
            pipeline_arn=inputs.pipeline.state_machine_arn,
        )
        grant_planner(
            self.planner,
            endpoint_name=inputs.endpoint_name,
            artifacts_bucket=inputs.artifacts_bucket,
            data_bucket=inputs.data_bucket,
            pipeline=inputs.pipeline,
            key=inputs.key,
        )
        workflow = MonitoringWorkflow(
            self,
            "Workflow",
            settings=settings,
            resources=MonitoringResources(
                plan_monitoring=self.planner,
                failure_handler=inputs.failure_handler,
                pipeline=inputs.pipeline,
                artifacts_bucket=inputs.artifacts_bucket,
                key=inputs.key,
                image_uri=inputs.image_uri,
                role_arn=inputs.sagemaker_role.role_arn,
            ),
        )
        self.state_machine = workflow.state_machine
        grant_monitor_job(self.state_machine, sagemaker_role=inputs.sagemaker_role, key=inputs.key)
        # The job reads the captures (the role may only write them so far) and writes its reports.
        inputs.artifacts_bucket.grant_read(inputs.sagemaker_role, "data-capture/*")
        inputs.artifacts_bucket.grant_put(inputs.sagemaker_role, "monitoring/*")
        # Its own role: the dead-letter queue is encrypted with the pipeline's key, which CDK's target does not grant.
        schedule_role = iam.Role(
            self,
            "ScheduleRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
        )
        inputs.key.grant(schedule_role, "kms:GenerateDataKey", "kms:Decrypt")
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            description=f"Monitor the endpoint's captured traffic every {monitoring.period}",
            schedule=scheduler.ScheduleExpression.cron(**SCHEDULES[monitoring.period]),
            target=targets.StepFunctionsStartExecution(
                self.state_machine,
                input=scheduler.ScheduleTargetInput.from_object(
                    {"scheduled_time": scheduler.ContextAttribute.scheduled_time}
                ),
                dead_letter_queue=inputs.dead_letters,
                retry_attempts=RETRY_ATTEMPTS,
                max_event_age=MAX_EVENT_AGE if monitoring.period == "day" else Duration.minutes(50),
                role=schedule_role,
            ),
        )
        self.alarm = violation_alarm(
            self,
            namespace=monitoring.metrics_namespace,
            endpoint_name=inputs.endpoint_name,
            period=monitoring.period,
            topic=inputs.topic,
        )

    def add_to_dashboard(self, dashboard: cloudwatch.Dashboard) -> None:
        monitoring = self._config
        dashboard.add_widgets(
            *monitoring_widgets(
                namespace=monitoring.metrics_namespace,
                endpoint_name=self._endpoint_name,
                period=monitoring.period,
                alarm=self.alarm,
            )
        )
