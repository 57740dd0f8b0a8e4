"""The monitoring loop end to end on the local cloud, with the synthesized templates of an environment that
captures and monitors: a run deploys, drifted traffic is captured, the monitoring workflow finds the
violations, starts a retraining run, and a second monitoring run within the cool-down starts none."""

from __future__ import annotations

import datetime
import json

import aws_cdk as cdk
import boto3
import pytest
from pipeline_harness import execution_input, stack_resources

from local_runner import Assembly, LocalCloud, s3
from stacks.app_builder import build_app
from stacks.config import parse_config
from tests.conftest import REPO_ROOT, cdk_json_context

pytestmark = pytest.mark.slow
DRIFTED_FEATURE = 0  # mean radius, the first feature: tripled


@pytest.fixture(scope="module")
def monitored_assembly(tmp_path_factory) -> Assembly:
    """dev with an instance endpoint that captures everything, monitoring on, retraining on drift."""
    raw = {**json.loads((REPO_ROOT / "config" / "dev.json").read_text()), "environment": "dev"}
    raw["endpoint"] = {**raw["endpoint"], "serverless": None, "data_capture_percent": 100, "autoscaling": None}
    raw["monitoring"] = {**raw["monitoring"], "enabled": True, "retrain_on_drift": True}
    raw["monitoring"]["drift"] = {**raw["monitoring"]["drift"], "min_rows": 50}
    out = tmp_path_factory.mktemp("monitored") / "cdk.out"
    context = {**cdk_json_context(), "env": "dev", "aws:cdk:enable-asset-metadata": True}
    app = cdk.App(context=context, outdir=str(out))
    build_app(app, [parse_config(raw)])
    app.synth()
    return Assembly.load(out)


def _monitoring_arn(arns: dict[str, str]) -> str:
    (arn,) = [arn for logical_id, arn in arns.items() if logical_id.startswith("MonitoringWorkflow")]
    return arn


def _this_hour() -> str:
    """A scheduled time whose window (the last full hour before it) is the current hour."""
    return (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_drift_is_found_announced_and_retrains_once(tmp_path, monitored_assembly, dataset):
    with LocalCloud(tmp_path / "state", code_dir=REPO_ROOT, persist=False, time_scale=0.02) as cloud:
        try:
            arns = cloud.deploy(monitored_assembly)
            resources = stack_resources(cloud, env="dev")
            data_uri = f"s3://{resources.data_bucket}/datasets/breast_cancer.csv"
            s3.upload_file(dataset, data_uri)
            monitoring = _monitoring_arn(arns)

            before = cloud.run(monitoring, {"scheduled_time": _this_hour()}, timeout=120)
            assert before.status == "SUCCEEDED" and before.visited[-1] == "NothingToMonitor"
            assert before.output["monitoring"]["reason"].endswith("no model is serving")

            deployed = cloud.run(resources.state_machine_arn, execution_input(data_uri, tuning=False), timeout=600)
            assert deployed.status == "SUCCEEDED", (deployed.error, deployed.cause)
            (endpoint,) = cloud.client("sagemaker").list_endpoints()["Endpoints"]
            runtime = cloud.client("sagemaker-runtime")
            for line in dataset.read_text().splitlines()[:200]:
                features = line.split(",")[1:]
                features[DRIFTED_FEATURE] = str(float(features[DRIFTED_FEATURE]) * 3)
                runtime.invoke_endpoint(
                    EndpointName=endpoint["EndpointName"], ContentType="text/csv", Body=",".join(features).encode()
                )

            first = cloud.run(monitoring, {"scheduled_time": _this_hour()}, timeout=300)
            assert first.status == "SUCCEEDED", (first.error, first.cause)
            assert first.visited[-2:] == ["StartRetraining", "RetrainingStarted"]
            output = first.output
            assert output["violations"]["count"] >= 1
            client = boto3.client("s3", region_name="us-east-1")

            def fetch(uri: str) -> str:
                bucket, key = s3.split_uri(uri)
                return client.get_object(Bucket=bucket, Key=key)["Body"].read().decode()

            def read(name: str) -> str:
                return fetch(f"{output['monitoring']['s3']['output']}{name}")

            (baseline,) = [
                i["S3Input"]["S3Uri"] for i in output["monitoring"]["inputs"] if i["InputName"] == "baseline"
            ]
            drifted = json.loads(fetch(f"{baseline}statistics.json"))["features"][DRIFTED_FEATURE]["name"]
            violations = json.loads(read("constraint_violations.json"))["violations"]
            assert (drifted, "baseline_drift_check") in {
                (v["feature_name"], v["constraint_check_type"]) for v in violations
            }
            assert {v["feature_name"] for v in violations} == {drifted}  # the other features came as they were
            assert drifted in read("drift_report.html")
            # What the violation alarm reads: ViolationCount for the endpoint, from the job's EMF lines.
            (total,) = [json.loads(line) for line in read("cloudwatch_metrics.jsonl").splitlines()[:1]]
            assert total["Endpoint"] == endpoint["EndpointName"] and total["ViolationCount"] == len(violations)
            # ... and, delivered through CloudWatch Logs, the alarm on it fires to the project's topic (its key
            # policy letting cloudwatch.amazonaws.com publish: a denied notification would be in lost_notifications)
            notified = cloud.sagemaker.cloudwatch.notifications
            assert [(alarm, topic) for alarm, topic in notified if "ViolationAlarm" in alarm] == [
                (next(a for a, _ in notified if "ViolationAlarm" in a), resources.notification_topic_arn)
            ], (notified, cloud.sagemaker.cloudwatch.lost_notifications)

            executions = cloud.client("stepfunctions").list_executions(stateMachineArn=resources.state_machine_arn)
            retraining = [e for e in executions["executions"] if e["name"].startswith("drift-")]
            assert [e["name"] for e in retraining] == [output["monitoring"]["retrain"]["name"]]
            started = cloud.client("stepfunctions").describe_execution(executionArn=retraining[0]["executionArn"])
            assert json.loads(started["input"]) == {"data": f"s3://{resources.data_bucket}/datasets/"}

            second = cloud.run(monitoring, {"scheduled_time": _this_hour()}, timeout=300)
            assert second.status == "SUCCEEDED" and second.visited[-1] == "ViolationsFound"
            assert "within the 24-hour cool-down" in second.output["monitoring"]["retrain"]["reason"]
            executions = cloud.client("stepfunctions").list_executions(stateMachineArn=resources.state_machine_arn)
            assert len([e for e in executions["executions"] if e["name"].startswith("drift-")]) == 1
            cloud.client("stepfunctions").stop_execution(executionArn=retraining[0]["executionArn"])
            cloud.wait(retraining[0]["executionArn"], timeout=120)  # no run of this cloud outlives the test
        finally:
            cloud.sagemaker.stop_endpoints()
