"""Run options: what the prepare-run Lambda accepts is built, what it would reject fails early and says why."""

from __future__ import annotations

import sys

import pytest

from pipeline_client import OptionError, RunOptions
from stacks.config import load_config, run_defaults

from .committed_app import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "lambdas" / "prepare_run"))  # the function's own imports, as in Lambda
from run_planning.run_plan import plan_run
from run_planning.settings import Settings

DATA = "s3://data-bucket/datasets/cancer.csv"
GOOD = [
    {},
    {"algorithm": "xgboost", "tuning": False, "threshold": 0.8},
    {
        "algorithm": "ridge",
        "tuning": True,
        "max_jobs": 4,
        "parallel": 2,
        "strategy": "Random",
        "metric": "rmse",
        "threshold": 0.5,
    },
    {"algorithm": "random-forest", "hyperparameters": {"n_estimators": 50}, "deploy": False, "threshold": 1},
]


@pytest.mark.parametrize("options", GOOD)
def test_the_input_is_one_the_pipeline_plans(options: dict) -> None:
    payload = RunOptions.parse(options).to_input(DATA)
    settings = Settings("data-bucket", "artifacts-bucket", "endpoint", run_defaults(load_config("dev")))
    plan = plan_run(payload, settings, execution_name="notebook-x", start_time="2026-01-01T00:00:00Z")
    assert plan["algorithm"] == options.get("algorithm", "xgboost")
    if "tuning" in options:
        assert plan["tuning"]["enabled"] is options["tuning"]
    if "threshold" in options:
        assert plan["objective"]["threshold"] == options["threshold"]


def test_the_input_has_the_shape_of_docs_pipeline_md() -> None:
    options = {"algorithm": "ridge", "tuning": True, "threshold": 0.5, "max_jobs": 6, "parallel": 3}
    assert RunOptions.parse(options).to_input(DATA) == {
        "data": DATA,
        "algorithm": "ridge",
        "tuning": {"enabled": True, "max_jobs": 6, "max_parallel_jobs": 3},
        "objective": {"threshold": 0.5},
    }


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"algorithm": "xgbost"}, "algorithm='xgbost' is not known: did you mean 'xgboost'?"),
        ({"tunning": False}, "unknown option 'tunning': did you mean 'tuning'?"),
        ({"tuning": "no"}, "tuning='no': expected True or False"),
        ({"threshold": "high"}, "threshold='high': expected a finite number"),
        ({"threshold": float("nan")}, "threshold=nan: expected a finite number"),
        ({"max_jobs": 0}, "max_jobs=0: expected a whole number from 1 to 500"),
        ({"parallel": 4, "max_jobs": 2}, "parallel=4 exceeds max_jobs=2; lower parallel"),
        ({"tuning": False, "max_jobs": 4}, "max_jobs need tuning; set tuning=True or drop them"),
        ({"strategy": "Greedy"}, "strategy='Greedy' is not known: did you mean 'Grid'? choose one of Bayesian, Random"),
        ({"metric": "acuracy"}, "metric='acuracy' is not known: did you mean 'accuracy'?"),
        ({"hyperparameters": {"layers": [1, 2]}}, "hyperparameters['layers']=[1, 2]: expected a string, number"),
    ],
)
def test_a_bad_option_names_itself_and_the_fix(options: dict, message: str) -> None:
    with pytest.raises(OptionError) as raised:
        RunOptions.parse(options)
    assert message in str(raised.value)


def test_bad_hyperparameters_are_explained_by_the_containers_parser() -> None:
    with pytest.raises(OptionError, match="max_depth") as raised:
        RunOptions.parse({"algorithm": "xgboost", "hyperparameters": {"max_depth": "deep"}})
    assert "deep" in str(raised.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"threshold": 2}, "threshold: 2 is outside the range of accuracy; give a number from 0 to 1"),
        ({"algorithm": "kmeans", "metric": "accuracy"}, "metric: 'accuracy' is not measured for kmeans (clustering)"),
        ({"algorithm": "ridge", "metric": "mae"}, "threshold: this environment has no default threshold for mae"),
        ({"instance_types": {"trainig": "ml.m5.large"}}, "unknown option 'trainig': did you mean 'training'?"),
        ({"instance_types": {"training": "ml.m5.larg"}}, "did you mean 'ml.m5.large'? choose one of"),
    ],
)
def test_with_the_environments_defaults_the_gate_and_instances_are_checked_too(options: dict, message: str) -> None:
    with pytest.raises(OptionError) as raised:
        RunOptions.parse(options, run_defaults(load_config("dev")))
    assert message in str(raised.value)


def test_instance_types_go_into_the_execution_input() -> None:
    options = RunOptions.parse({"instance_types": {"training": "ml.m5.xlarge"}}, run_defaults(load_config("dev")))
    assert options.to_input(DATA)["instance_types"] == {"training": "ml.m5.xlarge"}
