"""Alarms that roll back a bad endpoint update, and the pipeline's CloudWatch dashboard."""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.config import EndpointDeployment

VARIANT = "AllTraffic"
ONE_MINUTE = Duration.minutes(1)
# The SageMaker jobs the workflows run (.sync integrations): Step Functions measures each per resource.
SYNC_JOBS = {
    "Processing and evaluation": "createProcessingJob",
    "Training": "createTrainingJob",
    "Tuning": "createHyperParameterTuningJob",
    "Batch transform": "createTransformJob",
}


def _job_metric(name: str, api: str, *, statistic: str, period: Duration) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/States",
        metric_name=name,
        statistic=statistic,
        period=period,
        dimensions_map={"ServiceIntegrationResourceArn": f"arn:{Aws.PARTITION}:states:::sagemaker:{api}.sync"},
    )


def _endpoint_metric(
    name: str,
    endpoint_name: str,
    *,
    statistic: str,
    namespace: str = "AWS/SageMaker",
    period: Duration = ONE_MINUTE,
) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=name,
        statistic=statistic,
        period=period,
        dimensions_map={"EndpointName": endpoint_name, "VariantName": VARIANT},
    )


class EndpointAlarms(Construct):
    """SageMaker watches these during a blue/green update and rolls back when one goes off."""

    def __init__(
        self, scope: Construct, construct_id: str, *, endpoint_name: str, limits: EndpointDeployment, topic: sns.ITopic
    ) -> None:
        super().__init__(scope, construct_id)
        self.errors = _endpoint_metric("Invocation5XXErrors", endpoint_name, statistic="Sum").create_alarm(
            self,
            "Errors5xx",
            threshold=limits.max_5xx_errors_per_minute,
            evaluation_periods=2,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"{endpoint_name}: 5XX errors from the model container",
        )
        # ModelLatency is in microseconds.
        self.latency = _endpoint_metric("ModelLatency", endpoint_name, statistic="p99").create_alarm(
            self,
            "LatencyP99",
            threshold=limits.max_p99_latency_ms * 1000,
            evaluation_periods=3,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"{endpoint_name}: p99 model latency above {limits.max_p99_latency_ms} ms",
        )
        for alarm in (self.errors, self.latency):
            alarm.add_alarm_action(actions.SnsAction(topic))

    @property
    def rollback_alarm_names(self) -> list[str]:
        return [self.errors.alarm_name, self.latency.alarm_name]

    @property
    def rollback_alarm_arns(self) -> list[str]:
        """Built from the names, as SageMaker's auto-rollback reads the alarms by name."""
        return [
            Stack.of(self).format_arn(
                service="cloudwatch", resource="alarm", resource_name=name, arn_format=ArnFormat.COLON_RESOURCE_NAME
            )
            for name in self.rollback_alarm_names
        ]

    def grant_read_rollback_alarms(self, grantee: iam.IGrantable) -> None:
        """SageMaker reads the auto-rollback alarms during a rollout as the endpoint's execution role ("Ensure
        that your IAM execution role has permission to perform cloudwatch:DescribeAlarms on the auto-rollback
        alarms", SageMaker developer guide, Auto-Rollback Configuration and Monitoring)."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["cloudwatch:DescribeAlarms"],
            resource_arns=self.rollback_alarm_arns,
        )


class PipelineDashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        state_machines: dict[str, sfn.IStateMachine],
        functions: list[lambda_.IFunction],
        endpoint_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        five = Duration.minutes(5)

        def runs(machine: sfn.IStateMachine) -> list[cloudwatch.IMetric]:
            return [
                machine.metric_started(period=five),
                machine.metric_succeeded(period=five),
                machine.metric_failed(period=five),
                machine.metric_timed_out(period=five),
                machine.metric_aborted(period=five),
            ]

        endpoint = {
            name: _endpoint_metric(name, endpoint_name, statistic=stat, period=five)
            for name, stat in (
                ("Invocations", "Sum"),
                ("Invocation4XXErrors", "Sum"),
                ("Invocation5XXErrors", "Sum"),
                ("ModelLatency", "p50"),
                ("OverheadLatency", "p50"),
            )
        }
        host = [
            _endpoint_metric(
                name, endpoint_name, statistic="Average", namespace="/aws/sagemaker/Endpoints", period=five
            )
            for name in ("CPUUtilization", "MemoryUtilization")
        ]
        dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.days(7))
        width = 24 // (len(state_machines) + 1)
        dashboard.add_widgets(
            *(
                cloudwatch.GraphWidget(title=f"{title} executions", left=runs(machine), width=width)
                for title, machine in state_machines.items()
            ),
            cloudwatch.GraphWidget(
                title="Execution time",
                left=[m.metric_time(period=five, label=title) for title, m in state_machines.items()],
                width=width,
            ),
        )
        hour = Duration.hours(1)
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="SageMaker jobs started per hour",
                left=[
                    _job_metric("ServiceIntegrationsStarted", api, statistic="Sum", period=hour).with_(label=label)
                    for label, api in SYNC_JOBS.items()
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="SageMaker jobs failed or timed out per hour",
                left=[
                    _job_metric(name, api, statistic="Sum", period=hour).with_(label=f"{label} {kind}")
                    for label, api in SYNC_JOBS.items()
                    for name, kind in (
                        ("ServiceIntegrationsFailed", "failed"),
                        ("ServiceIntegrationsTimedOut", "timed out"),
                    )
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Step duration, p50 (ms)",
                left=[
                    _job_metric("ServiceIntegrationTime", api, statistic="p50", period=hour).with_(label=label)
                    for label, api in SYNC_JOBS.items()
                ],
                width=8,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Endpoint invocations and errors",
                left=[endpoint["Invocations"]],
                right=[endpoint["Invocation4XXErrors"], endpoint["Invocation5XXErrors"]],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Endpoint latency (microseconds)",
                left=[
                    endpoint["ModelLatency"],
                    endpoint["OverheadLatency"],
                    _endpoint_metric("ModelLatency", endpoint_name, statistic="p99", period=five),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(title="Endpoint CPU and memory (%)", left=host, width=8),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Lambda errors", left=[f.metric_errors(period=five) for f in functions], width=12
            ),
            cloudwatch.GraphWidget(
                title="Lambda duration", left=[f.metric_duration(period=five) for f in functions], width=12
            ),
        )
