"""The Lambda entry point: configuration checks and the returned contract."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from failure_handler_testkit import AwsWorld, catch_event, create_training_job, load_handler_module
from failure_handling.settings import ConfigurationError, load_settings


@dataclass
class FakeLambdaContext:
    function_name: str = "failure-handler"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:failure-handler"
    aws_request_id: str = "7f1b3d9e-0000-4000-8000-000000000000"


def test_lambda_handler_returns_the_fail_state_contract(world: AwsWorld) -> None:
    handler = load_handler_module()
    create_training_job("train-run-1", "Failed", "AlgorithmError: label column missing")

    result = handler.lambda_handler(catch_event("Train", "training", "train-run-1"), FakeLambdaContext())

    assert result == {
        "error": "TrainFailed",
        "cause": "Step Train failed on training job train-run-1: AlgorithmError: label column missing.",
        "record_uri": "s3://pipeline-artifacts/failures/run-1/failure.json",
        "notified": True,
        "stopped": [],
        "already_recorded": False,
    }
    json.dumps(result)  # the state machine receives it as JSON


def test_missing_setting_fails_at_invocation_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    handler = load_handler_module()  # importing needs no settings and no AWS
    monkeypatch.delenv("NOTIFICATION_TOPIC_ARN")
    monkeypatch.setenv("PIPELINE_NAME", " ")

    with pytest.raises(ConfigurationError, match="NOTIFICATION_TOPIC_ARN, PIPELINE_NAME"):
        handler.lambda_handler({"source": "catch"}, FakeLambdaContext())


def test_prefix_gets_its_slash_and_region_comes_from_aws_region() -> None:
    settings = load_settings(
        {
            "FAILURE_RECORD_BUCKET": "b",
            "FAILURE_RECORD_PREFIX": "failures",
            "NOTIFICATION_TOPIC_ARN": "arn:aws:sns:us-east-2:1:t",
            "PIPELINE_NAME": "p",
            "ENVIRONMENT_NAME": "dev",
            "POWERTOOLS_SERVICE_NAME": "s",
            "AWS_REGION": "us-east-2",
        }
    )
    assert (settings.record_prefix, settings.region) == ("failures/", "us-east-2")
