"""The engine on a hand-written definition that uses the integrations as the real pipeline does."""

from __future__ import annotations

import itertools
import json
import time
from types import SimpleNamespace

import boto3
import pytest
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_callback

pytestmark = pytest.mark.slow


def _training_jobs(harness):
    return harness.sagemaker.store.values("training_jobs")


def test_happy_path_tunes_in_parallel_and_serves(harness):
    result = harness.run()
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    jobs = _training_jobs(harness)
    assert len(jobs) == 4 and all(j["TrainingJobStatus"] == "Completed" for j in jobs)
    spans = sorted((j["TrainingStartTime"], j["TrainingEndTime"]) for j in jobs)
    assert any(b[0] < a[1] for a, b in itertools.pairwise(spans)), "no two training jobs overlapped"
    best = result.output["best"]
    assert best["value"] >= 0.8 and best["name"].startswith("hpo-")
    assert result.output["endpoint"]["EndpointStatus"] == "InService"
    runtime = boto3.client("sagemaker-runtime", region_name="us-east-1")
    row = "17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871,1.095,0.9053,8.589,153.4,0.006399,"
    row += "0.04904,0.05373,0.01587,0.03003,0.006193,25.38,17.33,184.6,2019,0.1622,0.6656,0.7119,0.2654,0.4601,0.1189"
    answer = runtime.invoke_endpoint(EndpointName="fixture-endpoint", ContentType="text/csv", Body=row)
    assert answer["Body"].read()
    # The model registry and the Lambda's own boto3 calls saw the same local state.
    package = boto3.client("sagemaker", region_name="us-east-1").describe_model_package(
        ModelPackageName=result.output["package"]["arn"]
    )
    assert package["ModelApprovalStatus"] == "Approved"
    assert result.output["function"] == "Pipeline-ValidateFn"


def test_unreachable_threshold_stops_at_the_quality_gate(harness):
    result = harness.run(threshold=1.0)
    assert result.status == "FAILED"
    assert result.error == "QualityGateFailed"
    assert "CreateModel" not in result.visited
    assert harness.sagemaker.store.values("endpoints") == []


def test_bad_input_is_rejected_with_the_field_named(harness):
    result = harness.run(threshold=None)
    assert result.status == "FAILED" and result.error == "InvalidInput"
    assert "threshold" in json.loads(result.cause)["errorMessage"]
    assert result.visited == ["Validate", "InvalidInput"]


def test_throttled_create_is_retried(harness):
    harness.faults.throttle("CreateHyperParameterTuningJob", times=1)
    result = harness.run(threshold=1.0)  # stop at the gate: the retry is what matters here
    assert result.error == "QualityGateFailed", result.cause
    assert result.state("Tune").attempts == 2


def test_processing_failure_reports_the_reason(harness):
    harness.faults.fail_job("processing", "*", "ClientError: injected processing failure")
    result = harness.run()
    assert result.status == "FAILED" and result.error == "States.TaskFailed"
    cause = json.loads(result.cause)
    assert cause["ProcessingJobStatus"] == "Failed"
    assert cause["FailureReason"] == "ClientError: injected processing failure"


def test_bad_training_data_fails_training_with_the_containers_reason(harness):
    bad = "s3://" + harness.bucket + "/input/bad.csv"
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=harness.bucket, Key="input/bad.csv", Body=b"1,a,b\n0,c,d\n" * 20
    )
    result = harness.run(data_uri=bad)
    assert result.status == "FAILED"
    assert result.error == "States.TaskFailed"
    cause = json.loads(result.cause)
    assert cause.get("FailureReason"), cause
    statuses = {j["TrainingJobStatus"] for j in _training_jobs(harness)} or {"none"}
    assert "Completed" not in statuses


def test_a_sync_task_goes_on_when_its_job_ends_not_after_the_interpreters_poll_sleep(harness, monkeypatch):
    """moto's `.sync` loop sleeps 0.5 s each time it finds the job still running; the local SageMaker tells the
    integration when a job changes, so the workflow goes on as soon as the job ends (here Process, which fails)."""
    sleeps: list[float] = []
    recording = SimpleNamespace(sleep=sleeps.append, monotonic=time.monotonic, time=time.time)
    monkeypatch.setattr(state_task_service_callback, "time", recording)
    bad = "s3://" + harness.bucket + "/input/bad.csv"
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=harness.bucket, Key="input/bad.csv", Body=b"1,a,b\n0,c,d\n" * 20
    )
    result = harness.run(data_uri=bad)
    assert result.status == "FAILED" and "Process" in result.visited, result.visited
    assert sleeps == []


def test_tuning_failure_when_every_training_job_fails(harness):
    harness.faults.fail_job("training", "hpo-*", "AlgorithmError: injected")
    result = harness.run()
    assert result.status == "FAILED" and result.error == "States.TaskFailed"
    cause = json.loads(result.cause)
    assert cause["HyperParameterTuningJobStatus"] == "Failed"
    assert "AlgorithmError: injected" in cause["FailureReason"]
    assert cause["TrainingJobStatusCounters"]["NonRetryableError"] == 4


def test_endpoint_failure_ends_in_the_endpoint_failed_state(harness):
    harness.faults.fail_endpoint("fixture-endpoint", "The primary container did not pass the ping health check.")
    result = harness.run()
    assert result.status == "FAILED" and result.error == "EndpointFailed"
    assert result.cause == "The primary container did not pass the ping health check."


def test_lambda_service_exception_is_retried(harness):
    harness.faults.api_error("lambda", "Invoke", "ServiceException", status=500, times=1)
    result = harness.run(threshold=1.0)
    assert result.error == "QualityGateFailed", result.cause
    assert result.state("Validate").attempts == 2


def test_state_persists_between_runs_and_the_endpoint_keeps_serving(tmp_path, fixture_assembly, dataset):
    """Two separate runs (two processes' worth of state): S3 and SageMaker state live under the state dir."""
    from local_runner import Assembly, LocalCloud, s3

    state = tmp_path / "state"
    with LocalCloud(state, time_scale=0.02) as cloud:
        arns = cloud.deploy(Assembly.load(fixture_assembly))
        bucket = cloud.assembly.resolver("Pipeline").resolve({"Fn::ImportValue": "Storage:DataBucketName"})
        s3.upload_file(dataset, f"s3://{bucket}/input/data.csv")
        payload = {"algorithm": "xgboost", "threshold": 0.8, "data_uri": f"s3://{bucket}/input/data.csv"}
        first = cloud.run(arns["StateMachine"], payload)
        url = cloud.sagemaker.endpoint_url("fixture-endpoint")
    assert first.status == "SUCCEEDED", first.cause
    assert (state / "s3" / bucket / "input" / "data.csv").is_file()
    try:
        with LocalCloud(state, time_scale=0.02) as cloud:
            assert cloud.sagemaker.endpoint_url("fixture-endpoint") == url  # still serving
            arns = cloud.deploy(Assembly.load(fixture_assembly))
            second = cloud.run(arns["StateMachine"], payload)
            assert second.status == "SUCCEEDED", second.cause
            assert "UpdateEndpoint" in second.visited and "CreateEndpoint" not in second.visited
    finally:
        with LocalCloud(state) as cloud:
            cloud.sagemaker.stop_endpoints(delete=True)
