"""A bad execution input is rejected with the field and the fix, before any job starts."""

from __future__ import annotations

import pytest
from prepare_run_testkit import START
from run_planning.run_input import InvalidExecutionInput
from run_planning.run_plan import plan_run
from run_planning.settings import Settings


@pytest.mark.parametrize(
    ("execution_input", "message"),
    [
        ({}, "(input): must contain ['data'] properties"),
        ({"data": "/tmp/x.csv"}, "data: must match pattern"),
        ({"data": "s3://other-bucket/x.csv"}, "data: 's3://other-bucket/x.csv' is outside the pipeline's data bucket"),
        ({"data": "s3://data-bucket/x", "algorithm": "foo"}, "algorithm: algorithm must be one of"),
        (
            {"data": "s3://data-bucket/x", "hyperparameters": {"max_depth": "deep"}},
            "hyperparameters: hyperparameter max_depth must be an integer >= 0, got 'deep'",
        ),
        ({"data": "s3://data-bucket/x", "tuning": {"max_jobs": 0}}, "tuning.max_jobs: tuning.max_jobs must be bigger"),
        (
            {"data": "s3://data-bucket/x", "tuning": {"max_jobs": 2, "max_parallel_jobs": 3}},
            "tuning.max_parallel_jobs: 3 exceeds tuning.max_jobs 2",
        ),
        (
            {"data": "s3://data-bucket/x", "tuning": {"strategy": "Genetic"}},
            "tuning.strategy: tuning.strategy must be one of",
        ),
        (
            {"data": "s3://data-bucket/x", "tuning": {"ranges": {"depth": {"min": 1, "max": 3}}}},
            "tuning.ranges.depth: xgboost has no such hyperparameter",
        ),
        (
            {"data": "s3://data-bucket/x", "tuning": {"ranges": {"max_depth": {"min": 5, "max": 3}}}},
            "tuning.ranges.max_depth: give min < max, got min=5, max=3",
        ),
        (
            {"data": "s3://data-bucket/x", "objective": {"metric": "rmse"}},
            "objective.metric: 'rmse' is not measured for xgboost (classification)",
        ),
        (
            {"data": "s3://data-bucket/x", "objective": {"threshold": "high"}},
            "objective.threshold: objective.threshold must be number",
        ),
        (
            {"data": "s3://data-bucket/x", "instance_types": {"training": "ml.p4d.24xlarge"}},
            "instance_types.training: 'ml.p4d.24xlarge' is not allowed in this environment; use one of",
        ),
        (
            {"data": "s3://data-bucket/x", "instance_types": {"endpoint": "ml.m5.large"}},
            "instance_types.endpoint: this environment serves from a serverless endpoint",
        ),
        ({"data": "s3://data-bucket/x", "deploy": "yes"}, "deploy: deploy must be boolean"),
        ({"data": "s3://data-bucket/x", "epochs": 3}, "(input): must not contain {'epochs'} properties"),
    ],
)
def test_rejection_names_the_field(dev_settings: Settings, execution_input: dict, message: str) -> None:
    with pytest.raises(InvalidExecutionInput) as error:
        plan_run(execution_input, dev_settings, execution_name="e", start_time=START)
    assert message in str(error.value)


def test_input_that_is_not_an_object_is_rejected(dev_settings: Settings) -> None:
    with pytest.raises(InvalidExecutionInput, match="execution input must be a JSON object, got list"):
        plan_run(["s3://data-bucket/x"], dev_settings, execution_name="e", start_time=START)


def test_hyperparameters_of_another_algorithm_are_not_applied(dev_settings: Settings) -> None:
    # The environment's default hyperparameters belong to its default algorithm (xgboost).
    run = plan_run(
        {"data": "s3://data-bucket/x", "algorithm": "random-forest"}, dev_settings, execution_name="e", start_time=START
    )
    assert run["hyperparameters"] == {"algorithm": "random-forest"}
