"""The violation alarm (to the project's SNS topic) and the dashboard widgets: drift per feature.

The container publishes its metrics as embedded metric format lines (training_code/monitoring/metrics.py);
features are not known at synthesis, so the per-feature graphs are CloudWatch SEARCH expressions.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct

PERIODS = {"hour": Duration.hours(1), "day": Duration.days(1)}


def violation_alarm(
    scope: Construct, *, namespace: str, endpoint_name: str, period: str, topic: sns.ITopic
) -> cloudwatch.Alarm:
    metric = cloudwatch.Metric(
        namespace=namespace,
        metric_name="ViolationCount",
        dimensions_map={"Endpoint": endpoint_name},
        statistic="Maximum",
        period=PERIODS[period],
    )
    alarm = cloudwatch.Alarm(
        scope,
        "ViolationAlarm",
        metric=metric,
        threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=1,
        # No monitoring run in the period (nothing captured) is not a violation.
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=f"Model monitoring found violations on {endpoint_name}: see the run's "
        "constraint_violations.json and drift_report.html under s3://<artifacts>/monitoring/",
    )
    alarm.add_alarm_action(actions.SnsAction(topic))
    return alarm


def _per_feature(namespace: str, endpoint_name: str, metric: str, seconds: int) -> cloudwatch.MathExpression:
    query = f'{{"{namespace}",Endpoint,Feature}} MetricName="{metric}" Endpoint="{endpoint_name}"'
    return cloudwatch.MathExpression(
        expression=f"SEARCH('{query}', 'Maximum', {seconds})", label="", period=Duration.seconds(seconds)
    )


def monitoring_widgets(
    *, namespace: str, endpoint_name: str, period: str, alarm: cloudwatch.Alarm
) -> list[cloudwatch.IWidget]:
    """Drift and missing rate per feature, and the violation alarm, for the pipeline's dashboard (which
    already graphs every state machine's runs, the monitoring workflow's included)."""
    seconds = int(PERIODS[period].to_seconds())
    return [
        cloudwatch.GraphWidget(
            title="Drift per feature (population stability index)",
            left=[_per_feature(namespace, endpoint_name, "FeatureDrift", seconds)],
            width=12,
        ),
        cloudwatch.GraphWidget(
            title="Missing rate per feature",
            left=[_per_feature(namespace, endpoint_name, "MissingRate", seconds)],
            width=12,
        ),
        cloudwatch.AlarmWidget(title="Monitoring violations per run", alarm=alarm, width=24),
    ]
