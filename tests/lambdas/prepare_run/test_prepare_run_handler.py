"""The Lambda entry point: the event the state machine builds, settings from the stack's environment."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass

import pytest
from prepare_run_testkit import FUNCTION_DIR
from run_planning.run_input import InvalidExecutionInput

from stacks.config import load_config, run_defaults


@dataclass
class FakeContext:
    function_name: str = "PrepareRun"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:PrepareRun"
    aws_request_id: str = "request-1"


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATA_BUCKET", "data-bucket")
    monkeypatch.setenv("ARTIFACTS_BUCKET", "artifacts-bucket")
    monkeypatch.setenv("ENDPOINT_NAME", "pipeline-endpoint")
    monkeypatch.setenv("RUN_DEFAULTS", json.dumps(run_defaults(load_config("dev"))))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    spec = importlib.util.spec_from_file_location("prepare_run_handler", FUNCTION_DIR / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lambda_handler


def test_handler_plans_the_run(handler) -> None:
    event = {"input": {"data": "s3://data-bucket/x.csv"}, "execution_name": "e-1", "start_time": "2026-11-26T04:00:00Z"}
    run = handler(event, FakeContext())
    assert run["endpoint_name"] == "pipeline-endpoint" and run["s3"]["input"] == "s3://data-bucket/x.csv"
    json.dumps(run)  # the state machine needs plain JSON


def test_handler_raises_the_error_the_state_machine_catches(handler) -> None:
    event = {
        "input": {"data": "s3://data-bucket/x.csv", "algorithm": "nope"},
        "execution_name": "e",
        "start_time": "2026-11-26T04:00:00Z",
    }
    with pytest.raises(InvalidExecutionInput) as error:
        handler(event, FakeContext())
    assert type(error.value).__name__ == "InvalidExecutionInput"  # Step Functions' error name


def test_missing_settings_are_named(handler, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUN_DEFAULTS")
    with pytest.raises(RuntimeError, match="environment variables RUN_DEFAULTS are not set"):
        handler({"input": {}, "execution_name": "e", "start_time": "2026-11-26T04:00:00Z"}, FakeContext())
