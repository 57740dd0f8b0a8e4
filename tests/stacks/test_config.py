"""A wrong configuration value fails synthesis with one line: the key, the value, what is allowed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from stacks.config import ConfigError, load_config, parse_config
from tests.conftest import REPO_ROOT


def _dev_with(**changes: object) -> dict:
    raw = json.loads((REPO_ROOT / "config" / "dev.json").read_text())
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        node = raw
        for parent in parents:
            node = node[parent]
        node[leaf] = value
    return {**raw, "environment": "dev"}


def test_shipped_environments_are_valid() -> None:
    dev, prod = load_config("dev"), load_config("prod")
    assert dev.account is None and dev.region is None  # synthesizes with no AWS account
    assert prod.storage.removal_policy == "retain" and prod.termination_protection


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"training__instance_type": "ml.foo.large"},
            "training.instance_type = 'ml.foo.large': not a SageMaker training instance type",
        ),
        (
            {"endpoint__instance_type": "m5.large"},
            "endpoint.instance_type = 'm5.large': not a SageMaker endpoint instance type",
        ),
        ({"log_retention_days": -3}, "log_retention_days = -3: must be one of CloudWatch's retention periods: 1, 3,"),
        (
            {"storage__noncurrent_version_expiration_days": -1},
            "storage.noncurrent_version_expiration_days = -1: Input should be greater than or equal to 1",
        ),
        ({"storage__generation": 0}, "storage.generation = 0: Input should be greater than or equal to 1"),
        ({"training__memory_fraction": 0}, "training.memory_fraction = 0: Input should be greater than 0"),
        ({"training__memory_fraction": 1.5}, "training.memory_fraction = 1.5: Input should be less than or equal to 1"),
        ({"notification_email": "ops@"}, "notification_email = 'ops@': must be an e-mail address"),
        ({"account": "12345"}, "account = '12345': must be a 12-digit AWS account id"),
        ({"region": "moon-1"}, "region = 'moon-1': must be an AWS region such as eu-west-1"),
        (
            {"storage__removal_policy": "delete"},
            "storage.removal_policy = 'delete': Input should be 'retain' or 'destroy'",
        ),
        ({"tuning__max_parallel_jobs": 9}, "max_parallel_jobs (9) must be <= max_jobs (8)"),
        (
            {"training__max_wait_seconds": 60},
            "max_wait_seconds (60) must be >= max_runtime_seconds (3600) when use_spot is true",
        ),
        (
            {"training__instance_type": "ml.c5.2xlarge"},
            "training.instance_type 'ml.c5.2xlarge' must be one of allowed_instance_types.training",
        ),
        ({"trainng": {}}, "trainng: not a configuration key; did you mean 'training'?"),
        (
            {"training__instance_type": "ml.m5.larg"},
            "not a SageMaker training instance type: did you mean 'ml.m5.large'? (nearest: ml.m5.large, ml.m5.xlarge",
        ),
        ({"endpoint__instance_type": "m5.large"}, "not a SageMaker endpoint instance type: did you mean 'ml.m5.large'"),
        ({"pipeline__objective_metrc": "f1"}, "pipeline.objective_metrc: not a configuration key; did you mean"),
        (
            {"pipeline__threshold": 1.5},
            "objective.threshold: 1.5 is outside the range of accuracy; give a number from 0 to 1",
        ),
        (
            {"pipeline__task_objectives": {"regression": {"metric": "accuracy", "threshold": 0.5}}},
            "objective.metric: 'accuracy' is not measured for task_objectives.regression (regression)",
        ),
        (
            {"endpoint__serverless__memory_size_mb": 1000},
            "endpoint.serverless.memory_size_mb = 1000: Input should be 1024, 2048, 3072, 4096, 5120 or 6144",
        ),
        (
            {"endpoint__serverless__provisioned_concurrency": 9},
            "provisioned_concurrency (9) must be <= max_concurrency (5)",
        ),
        (
            {"endpoint__data_capture_percent": 10},
            "data_capture_percent must be 0 with a serverless endpoint",
        ),
        (
            {"endpoint__autoscaling": {"min_instances": 1, "max_instances": 2}},
            "autoscaling must be null with a serverless endpoint",
        ),
        (
            {"endpoint__deployment__traffic_shift": "CANARY"},
            "deployment.traffic_shift must be ALL_AT_ONCE with a serverless endpoint",
        ),
        (
            {"batch_transform__instance_type": "ml.t3.medium"},
            "batch_transform.instance_type = 'ml.t3.medium': not a SageMaker batch transform instance type",
        ),
        (
            {"notebook__enabled": True},
            "an enabled notebook needs subnet_id and security_group_ids",
        ),
        (
            {"notebook__subnet_id": "vpc-123"},
            "notebook.subnet_id = 'vpc-123': must be a subnet id such as subnet-0123456789abcdef0",
        ),
    ],
)
def test_bad_value_names_key_value_and_what_is_allowed(change: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(_dev_with(**change))
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("invalid configuration for environment 'dev': ")
    assert expected in message


def test_prod_refuses_destroy_removal_policy() -> None:
    raw = json.loads((REPO_ROOT / "config" / "prod.json").read_text())
    raw["storage"]["removal_policy"] = "destroy"
    with pytest.raises(ConfigError, match=r"storage\.removal_policy must be 'retain' in prod"):
        parse_config({**raw, "environment": "prod"})


def test_unknown_environment_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown environment 'qa': known environments are dev, prod"):
        load_config("qa")


def test_overrides_are_validated_too() -> None:
    config = load_config("dev", {"account": "123456789012", "region": "eu-west-1"})
    assert (config.account, config.region) == ("123456789012", "eu-west-1")
    with pytest.raises(ConfigError, match="account = 'abc'"):
        load_config("dev", {"account": "abc"})


def test_synth_fails_with_one_line_for_an_unknown_environment() -> None:
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CDK_CONTEXT_JSON": json.dumps({"env": "qa"})},
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: unknown environment 'qa': known environments are dev, prod "
        "(pass one with -c env=NAME, or add config/qa.json)"
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"termination_protection": False}, "termination_protection must be true in prod"),
        (
            {"pipeline": {"model_approval_status": "Approved"}},
            "pipeline.model_approval_status must be PendingManualApproval in prod",
        ),
        (
            {"endpoint": {"deployment": {"traffic_shift": "ALL_AT_ONCE"}}},
            "endpoint.deployment.traffic_shift must be CANARY or LINEAR in prod",
        ),
        ({"notification_email": None}, "notification_email must be set in prod"),
    ],
)
def test_prod_is_stricter_than_dev(change: dict, expected: str) -> None:
    raw = json.loads((REPO_ROOT / "config" / "prod.json").read_text())

    def merge(node: dict, update: dict) -> None:
        for key, value in update.items():
            if isinstance(value, dict):
                merge(node[key], value)
            else:
                node[key] = value

    merge(raw, change)
    with pytest.raises(ConfigError) as error:
        parse_config({**raw, "environment": "prod"})
    assert expected in str(error.value)


def test_every_retention_the_configuration_accepts_is_one_cloudwatch_logs_has() -> None:
    """The periods are listed once (stacks/config/retention.py): each maps to the CDK's RetentionDays, whose
    value is that number of days in the template, and the CDK has no finite period the list lacks."""
    from aws_cdk import Stack
    from aws_cdk import aws_logs as logs
    from aws_cdk.assertions import Template

    from stacks.config import LOG_RETENTION_DAYS
    from stacks.support.log_retention import log_retention

    stack = Stack()
    for days in LOG_RETENTION_DAYS:
        logs.LogGroup(stack, f"Logs{days}", retention=log_retention(days))
    groups = Template.from_stack(stack).find_resources("AWS::Logs::LogGroup")
    assert sorted(g["Properties"]["RetentionInDays"] for g in groups.values()) == sorted(LOG_RETENTION_DAYS)
    assert len(LOG_RETENTION_DAYS) == len([r for r in logs.RetentionDays if r is not logs.RetentionDays.INFINITE])
