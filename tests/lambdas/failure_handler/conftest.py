"""Fixtures for the failure handler's tests: its directory on sys.path, as in Lambda,
the environment the stack sets, and moto-backed AWS resources to run against."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

FUNCTION_DIR = Path(__file__).resolve().parents[3] / "lambdas" / "failure_handler"
for path in (str(FUNCTION_DIR), str(Path(__file__).resolve().parent)):
    if path not in sys.path:
        sys.path.insert(0, path)

from failure_handler_testkit import REGION, AwsWorld, function_environment  # noqa: E402


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = function_environment()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def world() -> Iterator[AwsWorld]:
    from moto import mock_aws

    with mock_aws():
        yield AwsWorld.create(REGION)


@pytest.fixture
def executing_world() -> Iterator[AwsWorld]:
    """moto that runs state machine definitions, for a real execution history."""
    from moto import mock_aws

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield AwsWorld.create(REGION)
