"""Each failure kind through the handler logic, against moto's emulated APIs."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from failure_handler_testkit import (
    REGION,
    AwsWorld,
    catch_event,
    create_endpoint,
    create_processing_job,
    create_training_job,
    endpoint_exists,
    sagemaker_backend,
)
from failure_handling.handling import handle_failure

RECORD_KEY = "failures/run-1/failure.json"


def test_training_failure_reports_the_jobs_failure_reason(world: AwsWorld) -> None:
    create_training_job("train-run-1", "Failed", "AlgorithmError: loss became NaN at epoch 3")
    # Step Functions puts the DescribeTrainingJob response of a failed .sync job into Cause.
    cause = json.dumps({"TrainingJobName": "train-run-1", "TrainingJobStatus": "Failed"})
    event = catch_event("Train", "training", "train-run-1", cause=cause)

    result = handle_failure(event, world.settings(), world.clients())

    assert result["error"] == "TrainFailed"
    assert result["cause"] == (
        "Step Train failed on training job train-run-1: AlgorithmError: loss became NaN at epoch 3."
    )
    assert result["record_uri"] == f"s3://pipeline-artifacts/{RECORD_KEY}"
    assert result["notified"] is True
    assert result["stopped"] == []  # a Failed job runs nothing
    record = world.record(RECORD_KEY)
    assert record["job"] == {
        "type": "training",
        "name": "train-run-1",
        "action": None,
        "status": "Failed",
        "failure_reason": "AlgorithmError: loss became NaN at epoch 3",
    }
    assert record["input"] == event["input"]
    assert record["execution_arn"] == event["execution_arn"]
    assert record["notified"] is True
    [message] = world.messages()
    assert message["Subject"] == "[staging] churn-model: Train failed"
    body = message["Message"]
    for expected in (
        "churn-model",
        "staging",
        "Step:        Train",
        "training job train-run-1, status Failed",
        "AlgorithmError: loss became NaN at epoch 3",
        event["execution_arn"],
        f"https://{REGION}.console.aws.amazon.com/states/home?region={REGION}#/v2/executions/details/",
        f"https://{REGION}.console.aws.amazon.com/sagemaker/home?region={REGION}#/jobs/train-run-1",
    ):
        assert expected in body


def test_timed_out_processing_job_still_running_is_stopped(world: AwsWorld) -> None:
    create_processing_job("prep-run-1", "InProgress")
    event = catch_event("Preprocess", "processing", "prep-run-1", error="States.Timeout", cause="")

    result = handle_failure(event, world.settings(), world.clients())

    assert result["stopped"] == ["processing-job/prep-run-1"]
    assert sagemaker_backend().processing_jobs["prep-run-1"].processing_job_status == "Stopped"
    assert result["error"] == "PreprocessFailed"
    assert "States.Timeout (no cause given)" in result["cause"]
    assert "#/processing-jobs/prep-run-1" in world.messages()[0]["Message"]


def test_failed_processing_job_is_not_stopped_again(world: AwsWorld) -> None:
    create_processing_job("prep-run-1", "Failed", "ClientError: input file missing")
    event = catch_event("Preprocess", "processing", "prep-run-1", cause="not json at all")

    result = handle_failure(event, world.settings(), world.clients())

    assert result["stopped"] == []
    assert result["cause"].endswith("processing job prep-run-1: ClientError: input file missing.")


def test_timed_out_training_job_is_stopped(world: AwsWorld) -> None:
    # moto has no StopTrainingJob, so this one client is a Stubber over the real model.
    clients = world.clients()
    clients.sagemaker = boto3.client("sagemaker", region_name=REGION)
    with Stubber(clients.sagemaker) as stubber:
        stubber.add_response(
            "describe_training_job",
            _training_description("train-run-1", "InProgress"),
            {"TrainingJobName": "train-run-1"},
        )
        stubber.add_response("stop_training_job", {}, {"TrainingJobName": "train-run-1"})
        result = handle_failure(
            catch_event("Train", "training", "train-run-1", error="States.Timeout"), world.settings(), clients
        )
        stubber.assert_no_pending_responses()
    assert result["stopped"] == ["training-job/train-run-1"]


# moto has neither tuning nor transform jobs' Stop: a Stubber over the real SageMaker model for these two.
JOB_KINDS = {
    "tuning": (
        "Tune",
        "tune-run-1",
        "hyper_parameter_tuning_job",
        "HyperParameterTuningJobName",
        "hyper-parameter-tuning-job",
        "hyper-tuning-jobs",
        "All training jobs failed",
    ),
    "transform": (
        "Transform",
        "score-run-1",
        "transform_job",
        "TransformJobName",
        "transform-job",
        "transform-jobs",
        "ClientError: See job logs for more information",
    ),
}


@pytest.mark.parametrize("kind", list(JOB_KINDS))
@pytest.mark.parametrize("status", ["InProgress", "Failed"])
def test_a_job_left_running_is_stopped_and_a_failed_one_explained(world: AwsWorld, kind: str, status: str) -> None:
    step, name, operation, key, arn_type, console, reason = JOB_KINDS[kind]
    describe = _tuning_description if kind == "tuning" else _transform_description
    clients = world.clients()
    clients.sagemaker = boto3.client("sagemaker", region_name=REGION)
    with Stubber(clients.sagemaker) as stubber:
        stubber.add_response(f"describe_{operation}", describe(name, status, reason), {key: name})
        if status == "InProgress":  # the Catch saw a failure (a timeout, its own retries) while the job ran on
            stubber.add_response(f"stop_{operation}", {}, {key: name})
        event = catch_event(step, kind, name, error="States.Timeout", cause="")
        result = handle_failure(event, world.settings(), clients)
        stubber.assert_no_pending_responses()
    running = status == "InProgress"
    assert result["stopped"] == ([f"{arn_type}/{name}"] if running else [])
    explained = "States.Timeout (no cause given)" if running else reason
    assert result["cause"] == f"Step {step} failed on {kind} job {name}: {explained}."
    assert f"#/{console}/{name}" in world.messages()[0]["Message"]


def test_endpoint_whose_creation_failed_is_deleted(world: AwsWorld) -> None:
    create_endpoint("churn-staging", "Failed", "The primary container did not pass the ping health check.")
    event = catch_event("WaitForEndpoint", "endpoint", "churn-staging", action="create")

    result = handle_failure(event, world.settings(), world.clients())

    assert result["stopped"] == ["endpoint/churn-staging"]
    assert not endpoint_exists("churn-staging")
    assert "did not pass the ping health check" in result["cause"]


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("InService", "update"),  # a failed update SageMaker rolled back: still serving
        ("Failed", "update"),  # Failed after an update: may hold the previous model
        ("InService", "create"),  # "create" collided with a live endpoint of that name
        ("Failed", None),  # no proof that it never served
    ],
)
def test_endpoint_that_may_serve_is_never_touched(world: AwsWorld, status: str, action: str | None) -> None:
    create_endpoint("churn-prod", status, "Model failed the canary alarm; rolled back")
    extra = {"action": action} if action else {}
    event = catch_event("UpdateEndpoint", "endpoint", "churn-prod", **extra)

    result = handle_failure(event, world.settings(), world.clients())

    assert result["stopped"] == []
    assert endpoint_exists("churn-prod")
    assert sagemaker_backend().endpoints["churn-prod"].endpoint_status == status
    assert f"endpoint churn-prod left as it is (status {status})" in world.record(RECORD_KEY)["notes"]


def test_throttled_describe_is_retried_then_reports_the_failure(world: AwsWorld) -> None:
    create_training_job("train-run-1", "Failed", "ResourceLimitExceeded: ml.p3.2xlarge")
    clients = world.clients()
    attempts: list[str] = []

    def throttle_first_attempt(request: object, **_: object) -> AWSResponse | None:
        attempts.append("describe")
        if len(attempts) == 1:
            body = b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'
            return AWSResponse("https://sagemaker", 400, {}, _RawBody(body))
        return None  # let moto answer

    # Registered first so that it runs before moto's own before-send responder.
    clients.sagemaker.meta.events.register_first("before-send.sagemaker.DescribeTrainingJob", throttle_first_attempt)
    # The state machine's own SageMaker call was throttled until its retries ran out.
    event = catch_event(
        "Train", "training", "train-run-1", error="SageMaker.AmazonSageMakerException", cause="Rate exceeded"
    )

    result = handle_failure(event, world.settings(), clients)

    assert attempts == ["describe", "describe"]  # boto3's standard retry mode
    assert result["cause"].endswith("ResourceLimitExceeded: ml.p3.2xlarge.")


def test_throttled_before_the_job_existed_reports_unknown_job(world: AwsWorld) -> None:
    event = catch_event(
        "Train",
        "training",
        "train-never-created",
        error="SageMaker.AmazonSageMakerException",
        cause="Rate exceeded (Service: AmazonSageMaker; Status Code: 400; Error Code: ThrottlingException)",
    )

    result = handle_failure(event, world.settings(), world.clients())

    assert result["cause"] == (
        "Step Train failed on training job train-never-created: Rate exceeded (Service: AmazonSageMaker; "
        "Status Code: 400; Error Code: ThrottlingException)."
    )
    notes = world.record(RECORD_KEY)["notes"]
    assert any("does not know training job 'train-never-created'" in note for note in notes)
    assert "does not know training job" in world.messages()[0]["Message"]


@pytest.mark.parametrize(
    ("error", "expected_reason"),
    [
        # A Lambda task's error document.
        (
            {
                "Error": "ValueError",
                "Cause": json.dumps({"errorMessage": "metric below threshold", "errorType": "ValueError"}),
            },
            "metric below threshold",
        ),
        # A JSON Cause without any known message key.
        ({"Error": "Custom.Error", "Cause": json.dumps({"weird": [1, 2]})}, "Custom.Error (no cause given)"),
        # Error given as a bare string rather than {Error, Cause}.
        ("States.Runtime", "States.Runtime (no cause given)"),
    ],
)
def test_unknown_error_shapes_are_still_recorded_and_announced(
    world: AwsWorld, error: object, expected_reason: str
) -> None:
    event = catch_event("Evaluate", "none", None)
    event["error"] = error

    result = handle_failure(event, world.settings(), world.clients())

    assert result["error"] == "EvaluateFailed"
    assert result["cause"] == f"Step Evaluate failed: {expected_reason}."
    assert world.record(RECORD_KEY)["reason"] == expected_reason
    assert len(world.messages()) == 1


class _RawBody:
    """The minimal raw stream botocore reads an error response body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: object) -> object:
        yield self._body

    def read(self, *_: object) -> bytes:
        return self._body


def _training_description(name: str, status: str) -> dict[str, object]:
    return {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:aws:sagemaker:{REGION}:123456789012:training-job/{name}",
        "ModelArtifacts": {"S3ModelArtifacts": "s3://pipeline-artifacts/models/x"},
        "TrainingJobStatus": status,
        "SecondaryStatus": "Training",
        "AlgorithmSpecification": {"TrainingInputMode": "File"},
        "ResourceConfig": {"VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "CreationTime": datetime(2026, 11, 26, tzinfo=UTC),
    }


def _tuning_description(name: str, status: str, reason: str) -> dict[str, object]:
    description: dict[str, object] = {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobArn": f"arn:aws:sagemaker:{REGION}:123456789012:hyper-parameter-tuning-job/{name}",
        "HyperParameterTuningJobConfig": {"Strategy": "Bayesian", "ResourceLimits": {"MaxParallelTrainingJobs": 2}},
        "HyperParameterTuningJobStatus": status,
        "CreationTime": datetime(2026, 11, 26, tzinfo=UTC),
        "TrainingJobStatusCounters": {},
        "ObjectiveStatusCounters": {},
    }
    if status == "Failed":
        description["FailureReason"] = reason
    return description


def _transform_description(name: str, status: str, reason: str) -> dict[str, object]:
    description: dict[str, object] = {
        "TransformJobName": name,
        "TransformJobArn": f"arn:aws:sagemaker:{REGION}:123456789012:transform-job/{name}",
        "TransformJobStatus": status,
        "ModelName": "score-model-run-1",
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://data/x/"}}},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        "CreationTime": datetime(2026, 11, 26, tzinfo=UTC),
    }
    if status == "Failed":
        description["FailureReason"] = reason
    return description
