"""The run CLI against moto, as against AWS: finds the bucket and the state machine through the stacks' outputs
(CloudFormation DescribeStacks, which the local cloud serves too), checks the file, uploads it, starts the
execution with the input. moto's CloudFormation stands in for AWS's stack states, which the local cloud has not."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from pipeline_client import PipelineError, check_dataset
from tools.start_run import main

ROWS = "1,0.5,2\n0,0.1,3\n1,0.7,2\n0,0.2,4\n"  # the fewest rows the processing job can split
DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        machine = boto3.client("stepfunctions").create_state_machine(
            name="pipeline", definition=DEFINITION, roleArn="arn:aws:iam::123456789012:role/sfn"
        )["stateMachineArn"]
        storage = {"Data": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "data-bucket"}}}
        _stack("SageMakerPipeline-dev-Storage", storage, DataBucketName={"Ref": "Data"}, ArtifactsBucketName="a")
        topic = {"Topic": {"Type": "AWS::SNS::Topic"}}
        outputs = {"StateMachineArn": machine, "EndpointName": "e", "NotificationTopicArn": {"Ref": "Topic"}}
        _stack("SageMakerPipeline-dev-Pipeline", topic, **outputs)
        yield machine


def _stack(name: str, resources: dict, **outputs) -> None:
    template = {"Resources": resources, "Outputs": {k: {"Value": v} for k, v in outputs.items()}}
    boto3.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))


def _csv(tmp_path, text: str, name: str = "data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_uploads_and_starts_with_the_options(aws, tmp_path, capsys) -> None:
    path = _csv(tmp_path, ROWS)
    code = main(["--csv", str(path), "--algorithm", "ridge", "--no-tuning", "--threshold", "0.8"])
    assert code == 0
    started = json.loads(capsys.readouterr().out)
    execution = boto3.client("stepfunctions").describe_execution(executionArn=started["executionArn"])
    assert execution["stateMachineArn"] == aws  # the pipeline stack's StateMachineArn output
    payload = json.loads(execution["input"])
    assert payload["algorithm"] == "ridge" and payload["tuning"] == {"enabled": False}
    assert payload["objective"] == {"threshold": 0.8}
    bucket, key = payload["data"].removeprefix("s3://").split("/", 1)
    assert boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read() == ROWS.encode()


def test_an_environment_that_is_not_deployed_is_named_with_the_fix(aws, tmp_path, capsys) -> None:
    assert main(["--csv", str(_csv(tmp_path, ROWS)), "--env", "prod"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: stack SageMakerPipeline-prod-Storage is not deployed in us-east-1: deploy it")
    assert "make deploy ENV=prod" in error and "Traceback" not in error


def test_a_stack_from_an_older_version_asks_for_a_redeploy(aws, tmp_path, capsys) -> None:
    boto3.client("cloudformation").delete_stack(StackName="SageMakerPipeline-dev-Pipeline")
    _stack("SageMakerPipeline-dev-Pipeline", {"Topic": {"Type": "AWS::SNS::Topic"}}, StateMachineArn=aws)
    assert main(["--csv", str(_csv(tmp_path, ROWS))]) == 2
    assert "has no output EndpointName, NotificationTopicArn" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("missing.csv", None, "no such file; give the path of a CSV"),
        ("data.json", "{}", "not a .csv file; export the dataset as CSV"),
        ("empty.csv", "", "no data rows; the file is empty"),
        ("bad.csv", "1,2\n0,abc\n", "bad.csv line 2, column 2: 'abc' is not a number"),
    ],
)
def test_bad_files_are_named_and_nothing_is_uploaded(tmp_path, name: str, text: str | None, message: str) -> None:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(PipelineError, match=message):
        check_dataset(path)


def test_a_header_row_is_accepted(tmp_path) -> None:
    assert check_dataset(_csv(tmp_path, "label,a,b\n" + ROWS)).features == 2


def test_every_option_of_the_execution_input_has_a_flag(aws, tmp_path, capsys) -> None:
    argv = ["--csv", str(_csv(tmp_path, ROWS))]
    argv += ["--algorithm", "xgboost", "--hyperparameter", "objective=binary:logistic", "--hyperparameter"]
    argv += ["max_depth=4", "--metric", "f1", "--threshold", "0.7", "--training-instance-type", "ml.m5.xlarge"]
    assert main([*argv, "--no-deploy"]) == 0
    started = json.loads(capsys.readouterr().out)
    payload = json.loads(started["input"])
    assert payload["hyperparameters"] == {"objective": "binary:logistic", "max_depth": "4"}
    assert payload["objective"] == {"metric": "f1", "threshold": 0.7}
    assert payload["instance_types"] == {"training": "ml.m5.xlarge"} and payload["deploy"] is False


def test_a_threshold_out_of_the_metrics_range_fails_before_the_upload(aws, tmp_path, capsys) -> None:
    argv = ["--csv", str(_csv(tmp_path, ROWS))]
    assert main([*argv, "--threshold", "2"]) == 2
    assert "threshold: 2 is outside the range of accuracy" in capsys.readouterr().err
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket="data-bucket")


def test_cli_reports_errors_on_one_line(tmp_path, capsys) -> None:
    assert main(["--csv", str(tmp_path / "nope.csv")]) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"error: dataset {tmp_path / 'nope.csv'}: no such file; give the path of a CSV, label in the first "
        "column, numbers only, no header file"
    )
