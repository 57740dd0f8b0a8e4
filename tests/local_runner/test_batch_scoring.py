"""The synthesized batch-scoring workflow, end to end: a run registers a model, then a dataset is scored."""

from __future__ import annotations

import csv
import io

import boto3
import pytest

from local_runner import s3

pytestmark = pytest.mark.slow


def _scoring_arn(run) -> str:
    machines = run.cloud.client("stepfunctions").list_state_machines()["stateMachines"]
    (arn,) = [m["stateMachineArn"] for m in machines if "ScoringStateMachine" in m["name"]]
    return arn


def _rows(dataset, count: int) -> list[list[str]]:
    with open(dataset, newline="") as handle:
        return [row[1:] for row in list(csv.reader(handle))[:count]]  # features only, as callers have them


def test_a_dataset_is_scored_by_the_newest_approved_model(run, dataset):
    trained = run(tuning=False, threshold=0.8)
    assert trained.status == "SUCCEEDED", (trained.error, trained.cause)
    package = trained.output["model_package_arn"]

    rows = _rows(dataset, 40)
    first = run.upload("scoring-batch/part-1.csv", rows[:25])
    run.upload("scoring-batch/part-2.csv", rows[25:])
    prefix = first.rsplit("/", 1)[0] + "/"
    scored = run.cloud.run(_scoring_arn(run), {"data": prefix}, timeout=300)

    assert scored.status == "SUCCEEDED", (scored.error, scored.cause)
    assert "FindApprovedModel" in scored.visited and scored.visited[-1] == "Scored"
    output = scored.output
    assert output["status"] == "SCORED" and output["model_package_arn"] == package
    bucket, key = s3.split_uri(output["output"])
    client = boto3.client("s3", region_name="us-east-1")
    for part, expected in (("part-1.csv", rows[:25]), ("part-2.csv", rows[25:])):
        body = client.get_object(Bucket=bucket, Key=f"{key}{part}.out")["Body"].read().decode()
        lines = list(csv.reader(io.StringIO(body)))
        assert len(lines) == len(expected), part
        for line, row in zip(lines, expected, strict=True):
            # JoinSource Input: the input row, then the model's prediction for it
            assert line[: len(row)] == row and len(line) > len(row)
    transform = run.cloud.sagemaker.store.values("transform_jobs")
    assert [job["TransformJobStatus"] for job in transform] == ["Completed"]


def test_scoring_without_an_approved_model_says_so(run):
    uri = run.upload("scoring-nothing/x.csv", [["1", "2"]])
    result = run.cloud.run(_scoring_arn(run), {"data": uri}, timeout=120)
    assert result.status == "FAILED" and result.error == "NoApprovedModel"
    assert "approve one, or pass model_package_arn" in result.cause


def test_a_bad_scoring_input_names_the_field(run):
    result = run.cloud.run(_scoring_arn(run), {"data": "s3://elsewhere/x.csv"}, timeout=60)
    assert result.status == "FAILED" and result.error == "InvalidExecutionInput"
    assert "data: 's3://elsewhere/x.csv' is outside the pipeline's data bucket" in result.cause
