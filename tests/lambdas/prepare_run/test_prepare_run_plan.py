"""Run planning: defaults from the environment, names within SageMaker's limits, paths per run."""

from __future__ import annotations

import re

import pytest
from prepare_run_testkit import START
from run_planning.run_input import InvalidExecutionInput
from run_planning.run_plan import plan_run, run_id
from run_planning.settings import Settings

NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


def test_minimal_input_gets_the_environments_defaults(settings: Settings) -> None:
    run = plan_run({"data": "s3://data-bucket/datasets/cancer.csv"}, settings, execution_name="e1", start_time=START)
    defaults = settings.defaults
    assert run["algorithm"] == defaults["algorithm"] == "xgboost"
    assert run["hyperparameters"] == {**defaults["hyperparameters"], "algorithm": "xgboost"}
    assert run["task"] == "classification"
    assert run["objective"] == {"metric": "accuracy", "goal": "Maximize", "threshold": defaults["threshold"]}
    assert run["tuning"]["enabled"] is defaults["tuning"]["enabled"]
    assert run["instances"]["training"]["InstanceType"] == defaults["training"]["instance_type"]
    assert run["s3"]["input"] == "s3://data-bucket/datasets/cancer.csv"


def test_job_names_are_unique_per_execution_and_within_limits(dev_settings: Settings) -> None:
    one = plan_run({"data": "s3://data-bucket/d/"}, dev_settings, execution_name="a", start_time=START)["jobs"]
    two = plan_run({"data": "s3://data-bucket/d/"}, dev_settings, execution_name="b", start_time=START)["jobs"]
    assert set(one.values()).isdisjoint(two.values())
    for name in one.values():
        assert NAME.match(name) and len(name) <= 63
    assert len(one["tune"]) <= 32
    # SageMaker names a tuning job's training jobs <tuning name>-NNN-<8 hex>: those must fit in 63 too.
    assert len(one["tune"]) + 13 <= 63


def test_run_id_sorts_by_start_time() -> None:
    assert run_id("x", "2026-11-26T04:15:00Z") < run_id("x", "2026-11-26T04:15:01Z")
    assert run_id("x", START).startswith("20261126041500-")


def test_every_output_of_a_run_lives_under_its_own_prefix(dev_settings: Settings) -> None:
    run = plan_run({"data": "s3://data-bucket/d/"}, dev_settings, execution_name="e", start_time=START)
    prefix = f"s3://artifacts-bucket/runs/{run['id']}/"
    for key in ("train", "validation", "test", "baseline", "models", "checkpoints", "evaluation"):
        assert run["s3"][key].startswith(prefix), key
    assert run["s3"]["evaluation_key"] == f"runs/{run['id']}/evaluation/evaluation.json"


def test_a_prefix_without_slash_is_read_as_a_prefix(dev_settings: Settings) -> None:
    run = plan_run({"data": "s3://data-bucket/datasets"}, dev_settings, execution_name="e", start_time=START)
    assert run["s3"]["input"] == "s3://data-bucket/datasets/"


def test_tuning_uses_the_catalogs_ranges_and_keeps_the_rest_static(dev_settings: Settings) -> None:
    run = plan_run(
        {"data": "s3://data-bucket/d/", "tuning": {"enabled": True, "max_jobs": 4, "max_parallel_jobs": 2}},
        dev_settings,
        execution_name="e",
        start_time=START,
    )
    tuning = run["tuning"]
    tuned = {r["Name"] for kind in tuning["ranges"].values() for r in kind}
    assert {"max_depth", "eta"} <= tuned
    assert tuning["static_hyperparameters"] == {"objective": "binary:logistic", "algorithm": "xgboost"}
    assert tuning["objective"] == {"MetricName": "validation:accuracy", "Type": "Maximize"}
    assert tuning["resource_limits"] == {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2}
    assert tuning["early_stopping"] == "Auto"


def test_user_ranges_replace_the_catalogs(dev_settings: Settings) -> None:
    run = plan_run(
        {
            "data": "s3://data-bucket/d/",
            "tuning": {
                "enabled": True,
                "ranges": {
                    "max_depth": {"min": 3, "max": 5},
                    "eta": {"min": 0.05, "max": 0.3, "scaling": "Logarithmic"},
                },
            },
        },
        dev_settings,
        execution_name="e",
        start_time=START,
    )
    ranges = run["tuning"]["ranges"]
    assert ranges["IntegerParameterRanges"] == [
        {"Name": "max_depth", "MinValue": "3", "MaxValue": "5", "ScalingType": "Auto"}
    ]
    assert ranges["ContinuousParameterRanges"][0]["ScalingType"] == "Logarithmic"
    assert "num_round" in run["tuning"]["static_hyperparameters"] or "num_round" not in run["hyperparameters"]


@pytest.mark.parametrize("strategy", ["Hyperband", "Grid"])
def test_auto_early_stopping_only_where_sagemaker_allows_it(dev_settings: Settings, strategy: str) -> None:
    run = plan_run(
        {
            "data": "s3://data-bucket/d/",
            "algorithm": "decision-tree",
            "tuning": {"enabled": True, "strategy": strategy},
        },
        dev_settings,
        execution_name="e",
        start_time=START,
    )
    assert run["tuning"]["early_stopping"] == "Off"


def test_grid_search_takes_categorical_ranges_and_no_job_count(dev_settings: Settings) -> None:
    run = plan_run(
        {"data": "s3://data-bucket/d/", "algorithm": "decision-tree", "tuning": {"enabled": True, "strategy": "Grid"}},
        dev_settings,
        execution_name="e",
        start_time=START,
    )
    ranges = run["tuning"]["ranges"]
    assert ranges["CategoricalParameterRanges"] and not ranges["IntegerParameterRanges"]
    assert "MaxNumberOfTrainingJobs" not in run["tuning"]["resource_limits"]


def test_spot_training_waits_longer_than_it_runs(dev_settings: Settings) -> None:
    run = plan_run({"data": "s3://data-bucket/d/"}, dev_settings, execution_name="e", start_time=START)
    assert run["training"]["use_spot"] is True
    stopping = run["training"]["stopping_condition"]
    assert stopping["MaxWaitTimeInSeconds"] >= stopping["MaxRuntimeInSeconds"]


def test_a_regression_run_measures_rmse_and_minimizes_it(dev_settings: Settings) -> None:
    run = plan_run(
        {"data": "s3://data-bucket/d/", "algorithm": "ridge", "objective": {"metric": "rmse", "threshold": 50}},
        dev_settings,
        execution_name="e",
        start_time=START,
    )
    assert run["objective"] == {"metric": "rmse", "goal": "Minimize", "threshold": 50}
    assert run["evaluation"]["arguments"] == ["--objective-metric", "rmse"]
    assert "--no-stratify" in run["processing"]["arguments"]


def test_hyperparameters_are_passed_as_strings(dev_settings: Settings) -> None:
    run = plan_run(
        {
            "data": "s3://data-bucket/d/",
            "algorithm": "kmeans",
            "objective": {"metric": "silhouette"},
            "hyperparameters": {"k": 3, "init_method": "random"},
        },
        dev_settings,
        execution_name="e",
        start_time=START,
    )
    assert run["hyperparameters"] == {"k": "3", "init_method": "random", "algorithm": "kmeans"}


@pytest.mark.parametrize(
    ("algorithm", "metric", "goal"),
    [
        ("ridge", "r2", "Maximize"),
        ("kmeans", "silhouette", "Maximize"),
        ("isolation-forest", "roc_auc", "Maximize"),
        ("pca", "explained_variance_ratio", "Maximize"),
        ("random-forest", "accuracy", "Maximize"),
    ],
)
def test_each_task_gets_its_own_default_gate(dev_settings: Settings, algorithm: str, metric: str, goal: str) -> None:
    run = plan_run(
        {"data": "s3://data-bucket/d/", "algorithm": algorithm}, dev_settings, execution_name="e", start_time=START
    )
    task = run["task"]
    expected = dev_settings.defaults["task_objectives"][task]
    assert run["objective"] == {"metric": metric, "goal": goal, "threshold": expected["threshold"]}


@pytest.mark.parametrize(
    ("objective", "message"),
    [
        ({"threshold": 2}, "objective.threshold: 2 is outside the range of accuracy; give a number from 0 to 1"),
        ({"threshold": -1}, "objective.threshold: -1 is outside the range of accuracy; give a number from 0 to 1"),
        ({"metric": "log_loss", "threshold": -0.5}, "give a number of at least 0 (the gate passes when log_loss <="),
        ({"metric": "f1"}, "objective.threshold: this environment has no default threshold for f1; give one"),
    ],
)
def test_a_threshold_the_metric_cannot_reach_is_rejected_at_once(
    dev_settings: Settings, objective: dict, message: str
) -> None:
    with pytest.raises(InvalidExecutionInput, match=re.escape(message)):
        plan_run(
            {"data": "s3://data-bucket/d/", "objective": objective}, dev_settings, execution_name="e", start_time=START
        )
