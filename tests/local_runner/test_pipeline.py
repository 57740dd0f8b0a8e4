"""The synthesized pipeline definition, end to end: real processing, training, tuning, evaluation and endpoint."""

from __future__ import annotations

import csv
import itertools
import json

import boto3
import pytest
from pipeline_harness import _deploys, _endpoints, execution_input

pytestmark = pytest.mark.slow

ROW = (
    "17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871,1.095,0.9053,8.589,153.4,0.006399,"
    "0.04904,0.05373,0.01587,0.03003,0.006193,25.38,17.33,184.6,2019,0.1622,0.6656,0.7119,0.2654,0.4601,0.1189"
)
# A gate no model clears that is still a valid input: log loss is above 0 for any model short of certainty.
UNREACHABLE = {"objective": {"metric": "log_loss", "threshold": 0}}


def test_tuned_run_deploys_an_endpoint_that_answers_and_a_second_run_updates_it(run, request):
    _deploys(run, request)
    # a threshold every model clears: this test is about the deploy path, not the model's quality
    result = run(tuning=True, max_jobs=4, parallel=2, threshold=0.8)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["status"] == "DEPLOYED"
    jobs = run.cloud.sagemaker.store.values("training_jobs")
    statuses = {j["TrainingJobName"]: (j["TrainingJobStatus"], j.get("FailureReason")) for j in jobs}
    assert len(jobs) >= 4 and all(status == "Completed" for status, _ in statuses.values()), statuses
    # the environment's training.memory_fraction reaches every job's container, the tuned ones too
    assert all(j["Environment"] == {"TRAINING_MEMORY_FRACTION": "0.25"} for j in jobs), statuses
    spans = sorted((j["TrainingStartTime"], j["TrainingEndTime"]) for j in jobs)
    assert any(b[0] < a[1] for a, b in itertools.pairwise(spans)), "no two training jobs ran at once"
    assert max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans) <= 2, "more than 2 at once"
    assert "CreateEndpoint" in result.visited
    [endpoint] = _endpoints(run)
    assert endpoint["EndpointStatus"] == "InService"
    runtime = boto3.client("sagemaker-runtime", region_name="us-east-1")
    answer = runtime.invoke_endpoint(EndpointName=endpoint["EndpointName"], ContentType="text/csv", Body=ROW)
    assert answer["Body"].read()

    second = run(tuning=False, threshold=0.8)
    assert second.status == "SUCCEEDED", (second.error, second.cause)
    assert "UpdateEndpoint" in second.visited and "CreateEndpoint" not in second.visited
    [updated] = _endpoints(run)
    assert updated["EndpointStatus"] == "InService"
    assert updated["EndpointConfigName"] != endpoint["EndpointConfigName"]
    assert runtime.invoke_endpoint(EndpointName=endpoint["EndpointName"], ContentType="text/csv", Body=ROW)

    rejected = run(tuning=False, extra=UNREACHABLE)
    assert rejected.status == "SUCCEEDED" and rejected.visited[-1] == "QualityGateNotMet"
    [unchanged] = _endpoints(run)
    assert unchanged["EndpointConfigName"] == updated["EndpointConfigName"]
    assert unchanged["EndpointStatus"] == "InService"


def test_an_unreachable_threshold_ends_at_the_quality_gate_without_endpoint_change(run):
    result = run(tuning=False, extra=UNREACHABLE)
    assert result.status == "SUCCEEDED"
    assert result.visited[-1] == "QualityGateNotMet"
    assert result.output["status"] == "REJECTED_BY_QUALITY_GATE"
    assert _endpoints(run) == [] and run.cloud.sagemaker.store.values("models") == []


def test_a_bad_execution_input_is_rejected_with_the_field_named(run):
    result = run({"data": run.data_uri, "tuning": {"max_jobs": 0}})
    assert result.status == "FAILED" and result.error == "InvalidExecutionInput"
    assert "tuning.max_jobs" in result.cause
    assert "Process" not in result.visited


def test_a_processing_failure_fails_the_run_with_the_jobs_reason(run):
    run.cloud.faults.fail_job("processing", "process-*", "ClientError: injected processing failure")
    result = run(tuning=False)
    assert result.status == "FAILED"
    assert "Process" in result.error
    assert "injected processing failure" in result.cause


def test_bad_training_data_fails_training_with_the_containers_reason(run):
    rows = [[i % 3, *([1.5 + i] * 4)] for i in range(120)]  # three classes where the model expects two
    bad = run.upload("three_classes.csv", rows)
    result = run(execution_input(bad, tuning=False, extra={"algorithm": "xgboost"}))
    assert result.status == "FAILED", result.visited
    failed = [j for j in run.cloud.sagemaker.store.values("training_jobs") if j["TrainingJobStatus"] == "Failed"]
    assert failed, result.visited
    assert failed[0]["FailureReason"] in result.cause


def test_a_tuning_failure_fails_the_run_with_the_reason(run):
    run.cloud.faults.fail_job("training", "tune-*", "AlgorithmError: injected training failure")
    result = run(tuning=True, max_jobs=2, parallel=2)
    assert result.status == "FAILED"
    assert "Tune" in result.error
    assert "injected training failure" in result.cause


def test_an_endpoint_failure_fails_the_run_with_the_reason(run, request):
    _deploys(run, request)
    run.cloud.faults.fail_endpoint("*", "The primary container did not pass the ping health check.")
    result = run(tuning=False, threshold=0.8)
    assert result.status == "FAILED"
    assert "ping health check" in result.cause
    # the failure handler cleans up the failed endpoint; nothing is left serving
    assert all(e["EndpointStatus"] != "InService" for e in _endpoints(run))


def test_a_throttled_sdk_call_succeeds_on_retry(run, request):
    _deploys(run, request)
    run.cloud.faults.throttle("ListEndpoints", times=1)
    result = run(tuning=False, threshold=0.8)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.state("FindEndpoint").attempts == 2
    failed = [e for e in result.history if e["type"] == "TaskFailed"]
    assert failed[0]["taskFailedEventDetails"]["error"] == "SageMaker.ThrottlingException"


def test_a_throttled_job_creation_surfaces_as_amazon_sagemaker_exception(run, request):
    """The optimized integrations name unmodeled SageMaker errors SageMaker.AmazonSageMakerException."""
    _deploys(run, request)
    run.cloud.faults.throttle("CreateProcessingJob", times=1)
    result = run(tuning=False, extra=UNREACHABLE)  # the gate ends it: the retry is what matters here
    errors = [e["taskFailedEventDetails"] for e in result.history if e["type"] == "TaskFailed"]
    assert errors[0]["error"] == "SageMaker.AmazonSageMakerException"
    assert "ThrottlingException" in errors[0]["cause"]
    definition = json.loads(
        run.cloud.client("stepfunctions").describe_state_machine(stateMachineArn=run.arn)["definition"]
    )
    retried = any(
        "SageMaker.AmazonSageMakerException" in r["ErrorEquals"] or "States.ALL" in r["ErrorEquals"]
        for r in definition["States"]["Process"].get("Retry", [])
    )
    assert result.status == ("SUCCEEDED" if retried else "FAILED")
    if retried:
        assert result.state("Process").attempts == 2 and result.visited[-1] == "QualityGateNotMet"


def test_the_dataset_helper_writes_label_first(dataset):
    with open(dataset) as handle:
        first = next(csv.reader(handle))
    assert first[0] in ("0", "1") and len(first) == 31


def test_the_cli_runs_the_pipeline_shows_a_prediction_and_scores_a_dataset(pipeline_assembly, tmp_path, capsys):
    from local_runner.cli import main

    state = tmp_path / "state"
    argv = ["--cdk-out", str(pipeline_assembly.directory), "--state-dir", str(state)]
    try:
        assert main(["score", *argv]) == 1  # nothing registered yet
        out = capsys.readouterr().out
        assert "NoApprovedModel" in out and "Register an approved model first: make run" in out

        code = main(["run", "--no-tuning", "--threshold", "0.8", "--time-scale", "0.01", *argv])
        out = capsys.readouterr().out
        assert code == 0, out[-3000:]
        assert "Quality gate: passed" in out and "Sample prediction for the first row" in out
        assert "/invocations" in out

        code = main(["score", "--time-scale", "0.01", *argv])
        out = capsys.readouterr().out
        assert code == 0, out[-3000:]
        assert "Scored with" in out and "breast_cancer.csv.out" in out and "… 569 lines in all" in out
    finally:
        main(["stop", "--state-dir", str(state)])
