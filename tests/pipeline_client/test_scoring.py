"""Batch-scoring options and data, without a backend: what the PrepareScoring Lambda accepts is built, what it
would reject fails early and says why; rows and files become the headerless CSV the transform job sends."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline_client import OptionError, PipelineError, Rows, ScoringOptions
from pipeline_client.scoring_data import check_scoring_file, write_scoring_rows
from stacks.config import load_config, scoring_defaults

from .committed_app import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "lambdas" / "prepare_run"))  # the function's own imports, as in Lambda
from run_planning.run_input import InvalidExecutionInput
from run_planning.scoring_plan import plan_scoring
from run_planning.settings import ScoringSettings

DATA = "s3://data-bucket/scoring/rows-x/rows.csv"
PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/pipeline-models/3"
SETTINGS = ScoringSettings("data-bucket", "artifacts-bucket", "pipeline-models", scoring_defaults(load_config("dev")))


def _plan(payload: dict) -> dict:
    return plan_scoring(payload, SETTINGS, execution_name="scoring-x", start_time="2026-01-01T00:00:00Z")


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"skip_first_column": True, "join_input": False},
        {"model_package_arn": PACKAGE, "instance_type": "ml.m5.large", "instance_count": 2},
    ],
)
def test_the_input_is_one_the_pipeline_plans(options: dict) -> None:
    plan = _plan(ScoringOptions.parse(options).to_input(DATA))
    assert plan["s3"]["input"] == DATA
    assert plan["model_package_arn"] == options.get("model_package_arn")
    assert plan["data_processing"]["InputFilter"] == ("$[1:]" if options.get("skip_first_column") else "$")
    assert plan["data_processing"]["JoinSource"] == ("None" if options.get("join_input") is False else "Input")
    assert plan["resources"]["InstanceCount"] == options.get("instance_count", 1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"join_inputs": False}, "unknown option 'join_inputs': did you mean 'join_input'?"),
        ({"skip_first_column": "yes"}, "skip_first_column='yes': expected True or False"),
        ({"join_input": 1}, "join_input=1: expected True or False"),
        ({"model_package_arn": "pipeline-models/3"}, "model_package_arn='pipeline-models/3': not a model package"),
        ({"instance_type": "ml.m5.larg"}, "instance_type='ml.m5.larg' is not a SageMaker transform instance type: did"),
        ({"instance_type": "ml.t3.medium"}, "allowed_instance_types.transform in config/<env>.json"),
        ({"instance_count": 0}, "instance_count=0: expected a whole number from 1 to 100"),
        ({"instance_count": True}, "instance_count=True: expected a whole number"),
    ],
)
def test_a_bad_option_names_itself_and_the_fix(options: dict, message: str) -> None:
    with pytest.raises(OptionError) as raised:
        ScoringOptions.parse(options)
    assert message in str(raised.value)


def test_a_package_of_another_group_is_left_to_the_pipeline_which_names_its_group() -> None:
    other = PACKAGE.replace("pipeline-models", "other-models")
    payload = ScoringOptions.parse({"model_package_arn": other}).to_input(DATA)  # the group is not known here
    with pytest.raises(InvalidExecutionInput, match="not a version of this pipeline's model group 'pipeline-models'"):
        _plan(payload)


def test_rows_become_a_headerless_csv_with_missing_values_empty(tmp_path: Path) -> None:
    written = write_scoring_rows(
        [[1, 0.5, None], [2, float("nan"), 3.25]], tmp_path / "rows.csv", skip_first_column=False
    )
    assert (written.rows, written.columns) == (2, 3)
    assert written.path.read_text() == "1,0.5,\n2,,3.25\n"


def test_rows_a_dataframe_and_read_rows_are_all_accepted(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": ["a-1", "b-2"], "x": [0.5, math.nan], "y": [1, 2]})
    written = write_scoring_rows(frame, tmp_path / "frame.csv", skip_first_column=True)  # the id column is dropped
    assert written.path.read_text() == "a-1,0.5,1\nb-2,,2\n"
    written = write_scoring_rows(
        Rows(labels=[1], features=[[0.25, 4.0]]), tmp_path / "rows.csv", skip_first_column=False
    )
    assert written.path.read_text() == "0.25,4.0\n"


@pytest.mark.parametrize(
    ("rows", "skip", "message"),
    [
        ([], False, "give a non-empty list of rows"),
        ("1,2", False, "give a non-empty list of rows"),
        ([5], False, "row 1 is int; give a list of numbers"),
        ([[1, 2], [3]], False, "row 2 has 1 values, row 1 has 2"),
        ([["id-1", 2]], False, "column 1 holds 'id-1'; features are numbers; a label or id in the first column: pass"),
        ([[1, "x"]], True, "row 1, column 2 holds 'x'; features are numbers"),
        ([[1, True]], False, "column 2 holds True"),
        ([[1, float("inf")]], False, "column 2 is inf; features are finite numbers"),
        ([["a,b", 1]], True, "holds a comma, quote or line break"),
        ([[1]], True, "with skip_first_column the first column is dropped"),
    ],
)
def test_rows_that_are_not_features_are_refused(tmp_path: Path, rows, skip: bool, message: str) -> None:
    with pytest.raises(PipelineError) as raised:
        write_scoring_rows(rows, tmp_path / "rows.csv", skip_first_column=skip)
    assert message in str(raised.value)


def test_a_header_line_is_dropped_from_a_copy(tmp_path: Path) -> None:
    path = tmp_path / "features.csv"
    path.write_text("id,radius,texture\nx-1,1.5,2\nx-2,,3\n")
    checked = check_scoring_file(path, skip_first_column=True, copy_to=tmp_path / "copy" / "features.csv")
    assert (checked.rows, checked.columns, checked.header_dropped) == (2, 3, True)
    assert checked.path.read_text() == "x-1,1.5,2\nx-2,,3\n"
    plain = tmp_path / "plain.csv"
    plain.write_text("1.5,2\n")
    assert check_scoring_file(plain, skip_first_column=False, copy_to=tmp_path / "unused.csv").path == plain


@pytest.mark.parametrize(
    ("name", "text", "skip", "message"),
    [
        ("rows.txt", "1,2\n", False, "not a .csv file"),
        ("rows.csv", "a,b\n", False, "no rows; the file is empty or holds only a header"),
        ("rows.csv", "1,2\n3\n", False, "line 2: 1 columns, line 1 has 2"),
        ("rows.csv", "1,2\n3,red\n", False, "line 2, column 2: 'red' is not a number; the model takes numbers only"),
        ("rows.csv", "1,2\nid-7,3\n", False, "column 1: 'id-7' is not a number; the model takes numbers only; a label"),
        ("rows.csv", "7\n", True, "with skip_first_column the first column is dropped"),
    ],
)
def test_an_unusable_file_is_refused_with_the_fix(tmp_path: Path, name: str, text: str, skip: bool, message: str):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(PipelineError) as raised:
        check_scoring_file(path, skip_first_column=skip, copy_to=tmp_path / "copy.csv")
    assert message in str(raised.value)
