"""A batch-scoring input: validated, planned into names and paths, or rejected with the field and the fix."""

from __future__ import annotations

import pytest
from prepare_run_testkit import START
from run_planning.run_input import InvalidExecutionInput
from run_planning.scoring_plan import plan_scoring
from run_planning.settings import ScoringSettings

from stacks.config import load_config, scoring_defaults

GROUP = "sagemakerpipeline-dev-storage-models"


@pytest.fixture
def settings() -> ScoringSettings:
    return ScoringSettings("data-bucket", "artifacts-bucket", GROUP, scoring_defaults(load_config("dev")))


def test_minimal_input_scores_with_the_newest_approved_model(settings: ScoringSettings) -> None:
    plan = plan_scoring({"data": "s3://data-bucket/scoring/batch"}, settings, execution_name="e", start_time=START)
    assert plan["model_package_arn"] is None
    assert plan["s3"] == {
        "input": "s3://data-bucket/scoring/batch/",
        "output": f"s3://artifacts-bucket/scoring/{plan['id']}/",
    }
    assert plan["jobs"] == {"model": f"score-model-{plan['id']}", "transform": f"score-{plan['id']}"}
    assert all(len(name) <= 63 for name in plan["jobs"].values())
    assert plan["resources"] == {"InstanceType": "ml.m5.large", "InstanceCount": 1}
    assert plan["data_processing"] == {"InputFilter": "$", "JoinSource": "Input", "OutputFilter": "$"}


def test_a_labelled_dataset_drops_its_first_column(settings: ScoringSettings) -> None:
    plan = plan_scoring(
        {"data": "s3://data-bucket/x.csv", "skip_first_column": True, "join_input": False},
        settings,
        execution_name="e",
        start_time=START,
    )
    assert plan["data_processing"] == {"InputFilter": "$[1:]", "JoinSource": "None", "OutputFilter": "$"}
    assert plan["s3"]["input"] == "s3://data-bucket/x.csv"


def test_a_given_package_of_this_group_is_used(settings: ScoringSettings) -> None:
    arn = f"arn:aws:sagemaker:eu-west-1:123456789012:model-package/{GROUP}/7"
    plan = plan_scoring(
        {"data": "s3://data-bucket/d/", "model_package_arn": arn}, settings, execution_name="e", start_time=START
    )
    assert plan["model_package_arn"] == arn


@pytest.mark.parametrize(
    ("execution_input", "message"),
    [
        ({}, "(input): must contain ['data'] properties; the scoring input is {\"data\": "),
        ({"data": "s3://other/x.csv"}, "data: 's3://other/x.csv' is outside the pipeline's data bucket"),
        (
            {"data": "s3://data-bucket/d/", "model_package_arn": "arn:aws:sagemaker:eu-west-1:1:model-package/x/1"},
            f"model_package_arn: 'arn:aws:sagemaker:eu-west-1:1:model-package/x/1' is not a version of this "
            f"pipeline's model group '{GROUP}'",
        ),
        (
            {"data": "s3://data-bucket/d/", "instance_type": "ml.p3.2xlarge"},
            "instance_type: 'ml.p3.2xlarge' is not allowed in this environment; use one of ml.m5.large, ml.m5.xlarge",
        ),
        (
            {"data": "s3://data-bucket/d/", "instance_count": 0},
            "instance_count: instance_count must be bigger than or equal to 1",
        ),
        ({"data": "s3://data-bucket/d/", "algorithm": "xgboost"}, "(input): must not contain {'algorithm'} properties"),
    ],
)
def test_rejection_names_the_field_and_the_fix(settings: ScoringSettings, execution_input: dict, message: str) -> None:
    with pytest.raises(InvalidExecutionInput) as error:
        plan_scoring(execution_input, settings, execution_name="e", start_time=START)
    assert message in str(error.value)
