"""Retries, the backstop after a Catch, publish failures and malformed events."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from failure_handler_testkit import (
    REGION,
    ROLE_ARN,
    AwsWorld,
    backstop_event,
    catch_event,
    create_training_job,
)
from failure_handling.handling import handle_failure

RECORD_KEY = "failures/run-1/failure.json"


def test_retried_invocation_writes_no_second_record_and_sends_no_second_message(world: AwsWorld) -> None:
    create_training_job("train-run-1", "Failed", "AlgorithmError: out of memory")
    event = catch_event("Train", "training", "train-run-1")

    first = handle_failure(event, world.settings(), world.clients())
    retried = handle_failure(event, world.settings(), world.clients())

    assert len(world.messages()) == 1
    # One version for the create and one for marking it notified: nothing from the retry.
    assert world.record_versions(RECORD_KEY) == 2
    assert retried["record_uri"] == first["record_uri"]
    assert (retried["error"], retried["cause"]) == (first["error"], first["cause"])
    assert (first["notified"], retried["notified"]) == (True, False)
    assert retried["already_recorded"] is True


def test_backstop_after_the_catch_path_is_silent(world: AwsWorld) -> None:
    create_training_job("train-run-1", "Failed", "AlgorithmError: out of memory")
    handle_failure(catch_event("Train", "training", "train-run-1"), world.settings(), world.clients())
    # The Fail state after the handler makes the execution FAILED, which fires the rule.
    fail_state_event = backstop_event("run-1", error="TrainFailed", cause="Step Train failed ...")

    result = handle_failure(fail_state_event, world.settings(), world.clients())

    assert len(world.messages()) == 1
    assert result["already_recorded"] is True
    assert result["error"] == "TrainFailed"
    assert world.record(RECORD_KEY)["source"] == "catch"


def test_publish_failure_raises_after_recording_and_the_retry_sends_once(world: AwsWorld) -> None:
    sns = boto3.client("sns", region_name=REGION)
    topic_arn = sns.list_topics()["Topics"][0]["TopicArn"]
    sns.delete_topic(TopicArn=topic_arn)  # publishing now fails with NotFound
    event = catch_event("Evaluate", "none", None, error="States.TaskFailed", cause="metric below threshold")

    with pytest.raises(ClientError, match="NotFound"):
        handle_failure(event, world.settings(), world.clients())
    record = world.record(RECORD_KEY)
    assert record["notified"] is False
    assert record["reason"] == "metric below threshold"

    world.queue_url = AwsWorld.subscribe_queue(REGION)  # the topic is back (same name, same ARN)
    result = handle_failure(event, world.settings(), world.clients())

    assert result["notified"] is True
    assert result["already_recorded"] is True
    [message] = world.messages()
    assert "metric below threshold" in message["Message"]
    assert world.record(RECORD_KEY)["notified"] is True
    assert world.record(RECORD_KEY)["message_id"]


@pytest.mark.parametrize("malformed", [None, "boom", [1, 2], {}, {"source": "catch"}, {"detail": "x"}])
def test_malformed_event_is_recorded_and_announced_once(world: AwsWorld, malformed: object) -> None:
    first = handle_failure(malformed, world.settings(), world.clients())
    retried = handle_failure(malformed, world.settings(), world.clients())

    assert first["error"] == "PipelineFailed"
    assert first["cause"].startswith("The pipeline (step unknown) failed: Unknown (no cause given)")
    assert retried["record_uri"] == first["record_uri"]
    key = first["record_uri"].removeprefix("s3://pipeline-artifacts/")
    assert key.startswith("failures/unidentified-")
    record = world.record(key)
    assert record["raw_event"] == malformed
    assert record["notes"]  # says what did not match
    [message] = world.messages()
    assert message["Subject"] == "[staging] churn-model: unknown step failed"


def test_backstop_names_the_failed_state_from_the_execution_history(executing_world: AwsWorld) -> None:
    world = executing_world
    execution_arn = _run_failing_execution("run-7", missing_job="train-run-7")
    detail = boto3.client("stepfunctions", region_name=REGION).describe_execution(executionArn=execution_arn)
    event = backstop_event("run-7", error=detail["error"], cause=detail["cause"])
    event["detail"]["executionArn"] = execution_arn
    event["detail"]["stateMachineArn"] = detail["stateMachineArn"]

    result = handle_failure(event, world.settings(), world.clients())

    assert result["error"] == "TrainFailed"
    assert result["cause"].startswith("Step Train failed on training job train-run-7: Could not find training job")
    record = world.record("failures/run-7/failure.json")
    assert record["source"] == "backstop"
    assert record["execution_status"] == "FAILED"
    assert record["job"]["type"] == "training"
    assert record["input"] == {"run_id": "run-7"}
    [message] = world.messages()
    assert message["Subject"] == "[staging] churn-model: Train failed"


def test_backstop_for_an_unknown_execution_still_records_and_announces(world: AwsWorld) -> None:
    event = backstop_event("run-9", status="ABORTED", error=None, cause=None)

    result = handle_failure(event, world.settings(), world.clients())

    assert result["error"] == "PipelineFailed"
    assert result["cause"] == "The pipeline (step unknown) failed: the execution was aborted."
    record = world.record("failures/run-9/failure.json")
    assert record["error"] == "ExecutionAborted"
    assert any("execution history unavailable" in note for note in record["notes"])
    assert len(world.messages()) == 1


def test_redriven_execution_that_fails_again_gets_its_own_record(world: AwsWorld) -> None:
    event = catch_event("Evaluate", "none", None, cause="metric below threshold")
    handle_failure(event, world.settings(), world.clients())
    redriven = {**event, "redrive_count": 1}

    result = handle_failure(redriven, world.settings(), world.clients())

    assert result["record_uri"].endswith("failures/run-1/redrive-1/failure.json")
    assert len(world.messages()) == 2


def _run_failing_execution(name: str, missing_job: str) -> str:
    """Runs, in moto, a pipeline whose Train task fails without a Catch."""
    stepfunctions = boto3.client("stepfunctions", region_name=REGION)
    definition = {
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Next": "Train"},
            "Train": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sagemaker:describeTrainingJob",
                "Parameters": {"TrainingJobName": missing_job},
                "End": True,
            },
        },
    }
    state_machine_arn = stepfunctions.create_state_machine(
        name="ml-pipeline", definition=json.dumps(definition), roleArn=ROLE_ARN
    )["stateMachineArn"]
    execution_arn = stepfunctions.start_execution(
        stateMachineArn=state_machine_arn, name=name, input=json.dumps({"run_id": name})
    )["executionArn"]
    deadline = time.monotonic() + 10
    while stepfunctions.describe_execution(executionArn=execution_arn)["status"] == "RUNNING":
        assert time.monotonic() < deadline, "moto's execution did not finish"
        time.sleep(0.05)
    return execution_arn


def test_backstop_delivers_the_message_a_failed_catch_path_could_not(world: AwsWorld) -> None:
    sns = boto3.client("sns", region_name=REGION)
    sns.delete_topic(TopicArn=sns.list_topics()["Topics"][0]["TopicArn"])
    with pytest.raises(ClientError, match="NotFound"):
        handle_failure(catch_event("Gate", "none", None, cause="AUC 0.61 < 0.75"), world.settings(), world.clients())
    world.queue_url = AwsWorld.subscribe_queue(REGION)

    result = handle_failure(backstop_event("run-1"), world.settings(), world.clients())

    assert (result["notified"], result["already_recorded"]) == (True, True)
    assert result["error"] == "GateFailed"  # from the Catch path's record, which knew the step
    [message] = world.messages()
    assert message["Subject"] == "[staging] churn-model: Gate failed"


def test_failure_is_announced_even_when_the_record_cannot_be_written(world: AwsWorld) -> None:
    boto3.client("s3", region_name=REGION).delete_bucket(Bucket="pipeline-artifacts")
    event = catch_event("Train", "none", None, cause="out of memory")

    with pytest.raises(ClientError, match="NoSuchBucket"):
        handle_failure(event, world.settings(), world.clients())

    [message] = world.messages()
    assert "out of memory" in message["Message"]
    assert "the failure record could not be written" in message["Message"]
