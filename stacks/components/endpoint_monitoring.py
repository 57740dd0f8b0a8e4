"""Alarms that roll back a bad endpoint update, and the pipeline's CloudWatch dashboard."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.config import EndpointDeployment

VARIANT = "AllTraffic"
ONE_MINUTE = Duration.minutes(1)


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


class PipelineDashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        state_machine: sfn.IStateMachine,
        functions: list[lambda_.IFunction],
        endpoint_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        five = Duration.minutes(5)
        runs = [
            state_machine.metric_started(period=five),
            state_machine.metric_succeeded(period=five),
            state_machine.metric_failed(period=five),
            state_machine.metric_timed_out(period=five),
            state_machine.metric_aborted(period=five),
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
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Pipeline executions", left=runs, width=12),
            cloudwatch.GraphWidget(title="Execution time", left=[state_machine.metric_time(period=five)], width=12),
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
