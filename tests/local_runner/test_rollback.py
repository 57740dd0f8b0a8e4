"""Blue/green endpoint updates that roll back on a CloudWatch alarm, as SageMaker's deployment guardrails do."""

from __future__ import annotations

import datetime
import json

import botocore.exceptions
import pytest
from fixture_assembly import (  # noqa: F401  (fixtures)
    MODEL_URI,
    ROW,
    endpoint_config,
    model_artifact_fixture,
    model_cloud_fixture,
    settled,
    wait_for,
)
from pipeline_harness import _deploys, _endpoints
from test_failure_scenarios import FailurePath

from local_runner.sagemaker import endpoints, lifetime

pytestmark = pytest.mark.slow


def _serving_directories(cloud, endpoint: str) -> set[str]:
    """The model directories of every live process serving `endpoint` (SAGEMAKER_BASE_DIR, or the fork
    server's record of a forked server and its workers), as `stop` finds them."""
    root = cloud.sagemaker.workdir / "endpoints" / endpoint
    return {lifetime.base_dir(process) for process in lifetime.started_under(root)} - {None}


def _sum(cloud, metric: str, endpoint: str) -> float:
    now = datetime.datetime.now(datetime.UTC)
    points = cloud.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName=metric,
        Dimensions=[{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": "AllTraffic"}],
        StartTime=now - datetime.timedelta(hours=1),
        EndTime=now + datetime.timedelta(hours=1),
        Period=3600,
        Statistics=["Sum"],
    )["Datapoints"]
    return sum(p["Sum"] for p in points)


def test_a_canary_that_trips_an_alarm_rolls_back_to_the_blue_fleet(model_cloud):
    sagemaker = model_cloud.client("sagemaker")
    runtime = model_cloud.client("sagemaker-runtime")
    cloudwatch = model_cloud.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="fixture-4xx",
        Namespace="AWS/SageMaker",
        MetricName="Invocation4XXErrors",
        Dimensions=[{"Name": "EndpointName", "Value": "canary"}, {"Name": "VariantName", "Value": "AllTraffic"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    # The green model's container refuses any request over 100 bytes (413): whoever answers is known.
    sagemaker.create_model(
        ModelName="tiny-payloads",
        PrimaryContainer={
            "Image": "i",
            "ModelDataUrl": MODEL_URI,
            "Environment": {"SAGEMAKER_MAX_PAYLOAD_IN_MB": "0.0001"},
        },
        ExecutionRoleArn="arn:aws:iam::123456789012:role/fixture",
    )
    endpoint_config(sagemaker, "blue")
    endpoint_config(sagemaker, "green", model="tiny-payloads")
    sagemaker.create_endpoint(EndpointName="canary", EndpointConfigName="blue")
    assert settled(sagemaker, "canary")["EndpointStatus"] == "InService"
    blue = model_cloud.sagemaker.store.get("endpoints", "canary")["local"]
    deployment = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "WaitIntervalInSeconds": 900,  # 18 s at the test's time scale: the alarm ends it long before
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 50},
            },
            "TerminationWaitInSeconds": 0,
            "MaximumExecutionTimeoutInSeconds": 3600,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "fixture-4xx"}]},
    }
    sagemaker.update_endpoint(EndpointName="canary", EndpointConfigName="green", DeploymentConfig=deployment)

    baking = wait_for(
        lambda: sagemaker.describe_endpoint(EndpointName="canary"),
        lambda d: "PendingDeploymentSummary" in d or d["EndpointStatus"] != "Updating",
    )
    pending = baking["PendingDeploymentSummary"]
    assert baking["EndpointStatus"] == "Updating" and pending["EndpointConfigName"] == "green"
    assert pending["ProductionVariants"][0]["VariantStatus"][0]["Status"] == "ActivatingTraffic"
    green = model_cloud.sagemaker.store.get("endpoints", "canary")["green"]
    outcomes = []
    for _ in range(40):
        try:
            runtime.invoke_endpoint(EndpointName="canary", ContentType="text/csv", Body=ROW)
            outcomes.append("blue")
        except runtime.exceptions.ModelError as refused:
            assert "(413)" in str(refused)
            outcomes.append("green")
    assert 5 <= outcomes.count("green") <= 35, outcomes  # half the traffic on the canary
    assert _sum(model_cloud, "Invocations", "canary") == 40
    assert _sum(model_cloud, "Invocation4XXErrors", "canary") == outcomes.count("green")

    # The documented way to test a rollback: the alarm is set to ALARM.
    cloudwatch.set_alarm_state(AlarmName="fixture-4xx", StateValue="ALARM", StateReason="test")
    described = settled(sagemaker, "canary")
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "blue")
    assert "fixture-4xx" in described["FailureReason"] and "Rolled back" in described["FailureReason"]
    assert described["LastDeploymentConfig"] == deployment
    assert "PendingDeploymentSummary" not in described
    assert not endpoints.alive(green["pid"]) and endpoints.alive(blue["pid"])
    assert _serving_directories(model_cloud, "canary") == {blue["directory"]}
    for _ in range(10):  # all traffic is on the blue fleet again
        assert runtime.invoke_endpoint(EndpointName="canary", ContentType="text/csv", Body=ROW)["Body"].read()


def test_a_linear_update_without_alarms_completes_and_bad_policies_are_refused(model_cloud):
    sagemaker = model_cloud.client("sagemaker")
    endpoint_config(sagemaker, "first")
    endpoint_config(sagemaker, "second")
    sagemaker.create_endpoint(EndpointName="linear", EndpointConfigName="first")
    assert settled(sagemaker, "linear")["EndpointStatus"] == "InService"
    blue = model_cloud.sagemaker.store.get("endpoints", "linear")["local"]

    def policy(routing: dict, timeout: int = 600) -> dict:
        return {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": routing,
                "MaximumExecutionTimeoutInSeconds": timeout,
            }
        }

    percent = {"Type": "CAPACITY_PERCENT", "Value": 60}
    refused = {
        "requires CanarySize": policy({"Type": "CANARY", "WaitIntervalInSeconds": 1}),
        "less than or equal to 50%": policy({"Type": "CANARY", "WaitIntervalInSeconds": 1, "CanarySize": percent}),
        "must be 10-50%": policy({"Type": "LINEAR", "WaitIntervalInSeconds": 1, "LinearStepSize": percent}),
        "must be larger than the total waiting time": policy({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 600}),
    }
    for message, deployment in refused.items():
        with pytest.raises(botocore.exceptions.ClientError) as error:
            sagemaker.update_endpoint(EndpointName="linear", EndpointConfigName="second", DeploymentConfig=deployment)
        assert error.value.response["Error"]["Code"] == "ValidationException" and message in str(error.value)
    assert sagemaker.describe_endpoint(EndpointName="linear")["EndpointStatus"] == "InService"

    deployment = policy(
        {"Type": "LINEAR", "WaitIntervalInSeconds": 5, "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 50}}
    )
    sagemaker.update_endpoint(EndpointName="linear", EndpointConfigName="second", DeploymentConfig=deployment)
    described = settled(sagemaker, "linear")
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "second")
    assert "FailureReason" not in described and described["LastDeploymentConfig"] == deployment
    green = model_cloud.sagemaker.store.get("endpoints", "linear")["local"]
    assert not endpoints.alive(blue["pid"]) and _serving_directories(model_cloud, "linear") == {green["directory"]}


def test_a_breached_alarm_rolls_the_pipelines_update_back_and_fails_the_run(run, request):
    """Two runs of the synthesized pipeline: the second one's UpdateEndpoint is rolled back by its 5XX alarm."""
    _deploys(run, request)
    failures = FailurePath(run)
    first = run(tuning=False, threshold=0.8)
    assert first.status == "SUCCEEDED", (first.error, first.cause)
    [deployed] = _endpoints(run)
    blue = deployed["local"]
    cloudwatch = run.cloud.client("cloudwatch")
    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    [errors_alarm] = [n for n in alarms if "Errors5xx" in n]  # the template's alarm, under its resolved name
    assert alarms[errors_alarm]["Dimensions"][0] == {"Name": "EndpointName", "Value": deployed["EndpointName"]}

    run.cloud.faults.breach_alarm("*Errors5xx*")
    second = run(tuning=False, threshold=0.8)
    assert second.status == "FAILED", second.visited
    assert "UpdateEndpoint" in second.visited and "DeploymentRolledBack" in second.visited
    assert second.visited[-3:] == ["DeployFailed", "HandleFailure", "PipelineFailed"]
    assert second.error == "DeployFailed", (second.error, second.cause)
    assert "Rolled back to the previous endpoint configuration" in second.cause and errors_alarm in second.cause

    [kept] = _endpoints(run)
    assert (kept["EndpointStatus"], kept["EndpointConfigName"]) == ("InService", deployed["EndpointConfigName"])
    assert errors_alarm in kept["FailureReason"]
    rollback = kept["LastDeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    assert {"AlarmName": errors_alarm} in rollback
    assert kept["local"]["pid"] == blue["pid"] and endpoints.alive(blue["pid"])
    assert _serving_directories(run.cloud, deployed["EndpointName"]) == {blue["directory"]}  # the green one is gone
    answer = run.cloud.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=deployed["EndpointName"], ContentType="text/csv", Body=ROW
    )
    assert answer["Body"].read()
    assert cloudwatch.describe_alarms(AlarmNames=[errors_alarm])["MetricAlarms"][0]["StateValue"] == "OK"

    name = second.arn.rsplit(":", 1)[-1]
    record = failures.record(name)
    assert record["step"] == "Deploy" and record["error"] == "DeploymentRolledBack"
    assert record["job"]["name"] == deployed["EndpointName"] and record["job"]["action"] == "update"
    assert record["stopped"] == []  # an updated endpoint is never deleted by the handler
    # The topic hears twice: the alarm's own action (CloudWatch publishes as cloudwatch.amazonaws.com, which the
    # topic's and the key's policies must allow) and the failure handler's notification.
    messages = failures.messages()
    alarms = [m for m in messages if m["Message"].startswith("{") and json.loads(m["Message"]).get("AlarmName")]
    handled = [m for m in messages if m not in alarms]
    assert [json.loads(m["Message"])["AlarmName"] for m in alarms] == [errors_alarm]
    assert json.loads(alarms[0]["Message"])["NewStateValue"] == "ALARM"
    [message] = handled
    assert "Deploy" in message["Subject"]
    assert run.cloud.sagemaker.cloudwatch.lost_notifications == []


def test_an_update_whose_new_fleet_fails_keeps_the_old_one_serving(run, request):
    """SageMaker: a failed update leaves the endpoint InService on its old config, with a FailureReason."""
    _deploys(run, request)
    failures = FailurePath(run)
    first = run(tuning=False, threshold=0.8)
    assert first.status == "SUCCEEDED", (first.error, first.cause)
    [deployed] = _endpoints(run)

    reason = "The primary container for production variant AllTraffic did not pass the ping health check."
    run.cloud.faults.fail_endpoint("*", reason)
    second = run(tuning=False, threshold=0.8)
    assert second.status == "FAILED" and second.error == "DeployFailed", (second.error, second.cause)
    assert "DeploymentRolledBack" in second.visited and reason in second.cause

    [kept] = _endpoints(run)
    assert (kept["EndpointStatus"], kept["EndpointConfigName"]) == ("InService", deployed["EndpointConfigName"])
    assert kept["FailureReason"] == reason
    answer = run.cloud.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=deployed["EndpointName"], ContentType="text/csv", Body=ROW
    )
    assert answer["Body"].read()
    record = failures.record(second.arn.rsplit(":", 1)[-1])
    assert record["job"]["action"] == "update" and record["stopped"] == []  # never delete a serving endpoint
