"""A job's embedded-metric-format log lines become CloudWatch metrics, and an alarm on them fires its actions,
as CloudWatch Logs and CloudWatch do on AWS: the monitoring's violation alarm reaches the project's topic."""

from __future__ import annotations

import json

import boto3

from local_runner import LocalCloud
from local_runner.sagemaker.embedded_metrics import metric_data

NAMESPACE = "SageMakerPipeline/Monitoring"


def _emf(value: int, endpoint: str = "ep") -> str:
    return json.dumps(
        {
            "_aws": {
                "Timestamp": 1_700_000_000_000,
                "CloudWatchMetrics": [
                    {"Namespace": NAMESPACE, "Dimensions": [["Endpoint"]], "Metrics": [{"Name": "ViolationCount"}]}
                ],
            },
            "Endpoint": endpoint,
            "ViolationCount": value,
        }
    )


def test_emf_lines_are_read_and_other_lines_left_alone() -> None:
    log = "\n".join(["starting", _emf(3), "{not json", json.dumps({"no": "_aws"}), _emf(0, "other")])
    data = metric_data(log)
    assert [(d["namespace"], d["metric"]["MetricName"], d["metric"]["Value"]) for d in data] == [
        (NAMESPACE, "ViolationCount", 3.0),
        (NAMESPACE, "ViolationCount", 0.0),
    ]
    assert data[0]["metric"]["Dimensions"] == [{"Name": "Endpoint", "Value": "ep"}]


def test_a_breaching_datapoint_sets_the_alarm_and_notifies_its_topic(tmp_path) -> None:
    with LocalCloud(tmp_path / "state", persist=False) as cloud:
        topic = boto3.client("sns", region_name=cloud.region).create_topic(Name="alerts")["TopicArn"]
        watch = boto3.client("cloudwatch", region_name=cloud.region)
        watch.put_metric_alarm(
            AlarmName="violations",
            Namespace=NAMESPACE,
            MetricName="ViolationCount",
            Dimensions=[{"Name": "Endpoint", "Value": "ep"}],
            Statistic="Maximum",
            Period=3600,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            AlarmActions=[topic],
        )
        cloudwatch = cloud.sagemaker.cloudwatch
        cloudwatch.put_embedded(_emf(0) + "\n" + _emf(5, "other"))  # below the threshold; another endpoint
        assert watch.describe_alarms(AlarmNames=["violations"])["MetricAlarms"][0]["StateValue"] != "ALARM"
        assert cloudwatch.notifications == []
        cloudwatch.put_embedded(_emf(2))
        assert watch.describe_alarms(AlarmNames=["violations"])["MetricAlarms"][0]["StateValue"] == "ALARM"
        assert cloudwatch.notifications == [("violations", topic)]
        listed = watch.list_metrics(Namespace=NAMESPACE, MetricName="ViolationCount")["Metrics"]
        assert {d["Value"] for m in listed for d in m["Dimensions"]} == {"ep", "other"}
        cloudwatch.put_embedded(_emf(0))  # the next period without violations: OK again
        assert watch.describe_alarms(AlarmNames=["violations"])["MetricAlarms"][0]["StateValue"] == "OK"
