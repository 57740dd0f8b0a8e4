"""The AWS backend against moto: stacks deployed with CloudFormation, a state machine executed by moto's ASL
interpreter with the pipeline's terminal shapes, and sagemaker-runtime answered through botocore's Stubber."""

from __future__ import annotations

import io
import json
from pathlib import Path

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws

from pipeline_client import OptionError, PipelineError, RunFailed, RunOptions, ScoringOptions
from pipeline_client.aws import AwsPipeline

REGION = "us-east-1"
SUMMARY = {"metrics": {"accuracy": 0.95}, "threshold.$": "$.objective.threshold", "run_id": "r1"}
# The pipeline's ends, reached by the input: kmeans fails in "Train", a threshold above 0.99 is rejected.
DEFINITION = {
    "StartAt": "PrepareRun",
    "States": {
        "PrepareRun": {"Type": "Pass", "Next": "Train?"},
        "Train?": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.algorithm", "StringEquals": "kmeans", "Next": "PipelineFailed"},
                {"Variable": "$.objective.threshold", "NumericGreaterThan": 0.99, "Next": "DescribeRejection"},
            ],
            "Default": "Summarize",
        },
        "PipelineFailed": {"Type": "Fail", "Error": "TrainFailed", "Cause": "Train: AlgorithmError: injected"},
        "DescribeRejection": {
            "Type": "Pass",
            "Parameters": {
                "status": "REJECTED_BY_QUALITY_GATE",
                "metric": "accuracy",
                "value": 0.95,
                "goal": "Maximize",
                **SUMMARY,
            },
            "Next": "QualityGateNotMet",
        },
        "QualityGateNotMet": {"Type": "Succeed"},
        "Summarize": {
            "Type": "Pass",
            "Parameters": {
                "status": "DEPLOYED",
                "objective": {"name": "accuracy", "value": 0.95, "goal": "Maximize"},
                "endpoint_name": "pipeline-endpoint",
                **SUMMARY,
            },
            "Next": "Succeeded",
        },
        "Succeeded": {"Type": "Succeed"},
    },
}


PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/pipeline-models/3"
# The scoring workflow's ends: a given version ending in /9 is not approved; otherwise the output is written
# (the transform job's .out objects are put in place by the tests).
SCORING = {
    "StartAt": "PrepareScoring",
    "States": {
        "PrepareScoring": {"Type": "Pass", "Next": "PackageGiven?"},
        "PackageGiven?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.model_package_arn", "IsPresent": True, "Next": "Approved?"}],
            "Default": "Summarize",
        },
        "Approved?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.model_package_arn", "StringMatches": "*/9", "Next": "NotApproved"}],
            "Default": "Summarize",
        },
        "NotApproved": {
            "Type": "Fail",
            "Error": "ModelPackageNotApproved",
            "Cause": "Only an Approved model package scores data: approve it in the model registry first",
        },
        "Summarize": {
            "Type": "Pass",
            "Parameters": {
                "status": "SCORED",
                "run_id": "r1",
                "model_package_arn": PACKAGE,
                "input.$": "$.data",
                "output": "s3://artifacts-bucket/scoring/r1/",
                "transform_job": "score-r1",
            },
            "Next": "Scored",
        },
        "Scored": {"Type": "Succeed"},
    },
}


def _stack(cloudformation, name: str, resources: dict, outputs: dict) -> None:
    template = {"Resources": resources, "Outputs": {k: {"Value": v} for k, v in outputs.items()}}
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine, scoring = (
            sfn.create_state_machine(
                name=name, definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/sfn"
            )["stateMachineArn"]
            for name, definition in (("pipeline", DEFINITION), ("scoring", SCORING))
        )
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        buckets = {
            "Data": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "data-bucket"}},
            "Artifacts": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "artifacts-bucket"}},
        }
        outputs = {"DataBucketName": {"Ref": "Data"}, "ArtifactsBucketName": {"Ref": "Artifacts"}}
        _stack(cloudformation, "SageMakerPipeline-dev-Storage", buckets, outputs)
        topic = {"T": {"Type": "AWS::SNS::Topic"}}
        outputs = {
            "StateMachineArn": machine,
            "EndpointName": "pipeline-endpoint",
            "NotificationTopicArn": {"Ref": "T"},
            "ScoringStateMachineArn": scoring,
        }
        _stack(cloudformation, "SageMakerPipeline-dev-Pipeline", topic, outputs)
        yield AwsPipeline(env="dev", session=boto3.session.Session(region_name=REGION), poll_seconds=0.02)


@pytest.fixture
def uploaded(aws: AwsPipeline, tmp_path: Path) -> str:
    path = tmp_path / "cancer.csv"
    path.write_text("1,0.5,2\n0,0.1,3\n1,0.7,2\n0,0.2,4\n")  # the fewest rows the processing job can split
    return aws.upload_dataset(path)


def test_describe_reads_the_stacks_outputs(aws: AwsPipeline) -> None:
    described = aws.describe()
    assert (described.data_bucket, described.artifacts_bucket) == ("data-bucket", "artifacts-bucket")
    assert described.state_machine_arn.endswith(":stateMachine:pipeline")
    assert described.endpoint_name == "pipeline-endpoint"
    assert described.notification_topic_arn.startswith(f"arn:aws:sns:{REGION}:")
    assert described.scoring_state_machine_arn.endswith(":stateMachine:scoring")


def test_a_stack_that_is_not_deployed_says_how_to_deploy_it(aws: AwsPipeline) -> None:
    with pytest.raises(PipelineError, match=r"stack SageMakerPipeline-prod-Storage is not deployed in us-east-1: "):
        AwsPipeline(env="prod", session=boto3.session.Session(region_name=REGION))


def test_a_stack_without_an_output_asks_for_a_redeploy(aws: AwsPipeline) -> None:
    cloudformation = aws.client("cloudformation")
    bucket = {"Data": {"Type": "AWS::S3::Bucket"}}
    _stack(cloudformation, "SageMakerPipeline-old-Storage", bucket, {"DataBucketName": {"Ref": "Data"}})
    _stack(cloudformation, "SageMakerPipeline-old-Pipeline", {"T": {"Type": "AWS::SNS::Topic"}}, {})
    with pytest.raises(PipelineError, match=r"no output ArtifactsBucketName: .*make deploy ENV=old"):
        AwsPipeline(env="old", session=boto3.session.Session(region_name=REGION))


def test_no_region_is_explained(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(PipelineError, match="no AWS region is set: set AWS_DEFAULT_REGION"):
        AwsPipeline(env="dev", session=boto3.session.Session())


def test_upload_puts_the_file_under_a_new_key(aws: AwsPipeline, uploaded: str, tmp_path: Path) -> None:
    bucket, key = uploaded.removeprefix("s3://").split("/", 1)
    assert bucket == "data-bucket" and key.startswith("datasets/cancer-") and key.endswith("/cancer.csv")
    body = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body == b"1,0.5,2\n0,0.1,3\n1,0.7,2\n0,0.2,4\n"


def test_an_unusable_csv_is_not_uploaded(aws: AwsPipeline, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("1,2\nx,3\n")
    with pytest.raises(PipelineError, match="line 2, column 1"):
        aws.upload_dataset(path)
    assert aws.client("s3").list_objects_v2(Bucket="data-bucket")["KeyCount"] == 0


def test_a_run_ends_deployed_with_the_input_it_was_given(aws: AwsPipeline, uploaded: str) -> None:
    seen = []
    run = aws.start_run(uploaded, algorithm="xgboost", tuning=False, threshold=0.9)
    result = run.wait(progress=seen.append)
    assert result.status == "SUCCEEDED" and result.metrics == {"accuracy": 0.95}
    assert result.decision is not None and result.decision.outcome == "DEPLOYED" and result.decision.passed
    assert result.decision.threshold == 0.9
    given = json.loads(aws.client("stepfunctions").describe_execution(executionArn=run.execution_arn)["input"])
    assert given == RunOptions(algorithm="xgboost", tuning=False, threshold=0.9).to_input(uploaded)
    steps = [step.name for progress in seen for step in progress.steps]
    assert steps == ["PrepareRun", "Train?", "Summarize", "Succeeded"]
    assert seen[-1].finished and not any(p.finished for p in seen[:-1])


def test_a_rejected_model_is_a_decision_not_an_error(aws: AwsPipeline, uploaded: str) -> None:
    result = aws.start_run(uploaded, threshold=0.999).wait()
    assert result.status == "SUCCEEDED"
    assert result.decision is not None and not result.decision.passed
    assert str(result.decision).startswith("quality gate rejected the model: accuracy 0.95 < 0.999")


def test_a_failed_run_raises_with_the_cause_and_where_to_look(aws: AwsPipeline, uploaded: str) -> None:
    run = aws.start_run(uploaded, algorithm="kmeans")
    seen = []
    with pytest.raises(RunFailed) as raised:
        run.wait(progress=seen.append)
    message = str(raised.value)
    assert f"run {run.name} FAILED: TrainFailed: Train: AlgorithmError: injected" in message
    assert f"s3://artifacts-bucket/failures/{run.name}/failure.json" in message
    assert raised.value.result.error == "TrainFailed"
    assert [(s.name, s.error) for p in seen for s in p.steps][-1] == ("PipelineFailed", "TrainFailed")
    assert run.wait(check=False).status == "FAILED"


def test_options_and_data_are_checked_before_anything_starts(aws: AwsPipeline, uploaded: str) -> None:
    with pytest.raises(OptionError, match="algorithm='xgbost' is not known"):
        aws.start_run(uploaded, algorithm="xgbost")
    with pytest.raises(OptionError, match="outside the pipeline's data bucket"):
        aws.start_run("s3://other-bucket/data.csv")
    with pytest.raises(PipelineError, match="nothing there; upload the dataset with upload_dataset"):
        aws.start_run("s3://data-bucket/datasets/missing.csv")
    machine = aws.describe().state_machine_arn
    assert aws.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"] == []


def _answer(document: dict) -> dict:
    body = json.dumps(document).encode()
    return {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentType": "application/json"}


def test_predict_sends_csv_and_returns_one_prediction_per_row(aws: AwsPipeline) -> None:
    runtime = aws.client("sagemaker-runtime")
    predictions = [{"predicted_label": 1, "score": 0.9}, {"predicted_label": 0, "score": 0.2}]
    expected = {
        "EndpointName": "pipeline-endpoint",
        "ContentType": "text/csv",
        "Accept": "application/json",
        "Body": "0.5,2.0\n0.1,",  # None is a missing value: an empty cell
    }
    with Stubber(runtime) as stub:
        stub.add_response("invoke_endpoint", _answer({"predictions": predictions}), expected)
        assert aws.predict([[0.5, 2], [0.1, None]]) == predictions
        stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "message", "fix"),
    [
        ("ModelError", "row 1 has 3 columns; the model expects 2 features", "send the features only (no label"),
        ("ValidationError", "Endpoint pipeline-endpoint of account 1 not found.", "run the pipeline to a DEPLOYED"),
    ],
)
def test_predict_explains_what_the_endpoint_refused(aws: AwsPipeline, code: str, message: str, fix: str) -> None:
    with Stubber(aws.client("sagemaker-runtime")) as stub:
        stub.add_client_error("invoke_endpoint", service_error_code=code, service_message=message, http_status_code=400)
        with pytest.raises(PipelineError) as raised:
            aws.predict([[1.0, 2.0, 3.0]])
    assert message in str(raised.value) and fix in str(raised.value)


@pytest.mark.parametrize("rows", [[], "1,2", [["a", 1]], [[True, 1]], [5]])
def test_predict_refuses_rows_that_are_not_numbers(aws: AwsPipeline, rows) -> None:
    with pytest.raises(PipelineError, match=r"predict\(rows\): "):
        aws.predict(rows)


def _scored(aws: AwsPipeline, name: str, lines: list[str]) -> None:
    """What the transform job writes: `<input file>.out` under the scoring run's output prefix."""
    body = "".join(f"{line}\n" for line in lines).encode()
    aws.client("s3").put_object(Bucket="artifacts-bucket", Key=f"scoring/r1/{name}.out", Body=body)


def _input(aws: AwsPipeline, run) -> dict:
    return json.loads(aws.client("stepfunctions").describe_execution(executionArn=run.execution_arn)["input"])


def test_rows_are_uploaded_under_scoring_scored_and_read_back(aws: AwsPipeline) -> None:
    seen = []
    scoring = aws.score_dataset([[0.5, 2], [0.1, None]])
    given = _input(aws, scoring)
    assert given == ScoringOptions().to_input(given["data"]) == {**given, "skip_first_column": False}
    bucket, key = given["data"].removeprefix("s3://").split("/", 1)
    assert bucket == "data-bucket" and key.startswith("scoring/rows-") and key.endswith("/rows.csv")
    assert aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read() == b"0.5,2\n0.1,\n"

    result = scoring.wait(progress=seen.append)
    assert result.succeeded and result.output["status"] == "SCORED" and result.model_package_arn == PACKAGE
    assert result.output_uri == "s3://artifacts-bucket/scoring/r1/"
    assert [step.name for p in seen for step in p.steps] == ["PrepareScoring", "PackageGiven?", "Summarize", "Scored"]
    _scored(aws, "rows.csv", ["0.5,2,1", "0.1,,0"])  # JoinSource Input: the row, then its predicted label
    assert result.objects() == ["s3://artifacts-bucket/scoring/r1/rows.csv.out"]
    assert result.lines(limit=1) == ["0.5,2,1"]
    assert result.rows() == [[0.5, 2, 1], [0.1, None, 0]]
    assert result.predictions() == [1, 0]


def test_files_given_by_uri_are_scored_where_they_are(aws: AwsPipeline) -> None:
    s3 = aws.client("s3")
    for part, body in (("part-1.csv", b"id-7,0.5,2\nid-8,0.1,3\n"), ("part-2.csv", b"id-9,0.2,4\n")):
        s3.put_object(Bucket="data-bucket", Key=f"scoring/batch/{part}", Body=body)
    scoring = aws.score_dataset("s3://data-bucket/scoring/batch/", skip_first_column=True, model_package_arn=PACKAGE)
    assert _input(aws, scoring) == {
        "data": "s3://data-bucket/scoring/batch/",
        "skip_first_column": True,
        "join_input": True,
        "model_package_arn": PACKAGE,
    }
    result = scoring.wait()
    _scored(aws, "part-1.csv", ["id-7,0.5,2,1", "id-8,0.1,3,0"])
    _scored(aws, "part-2.csv", ["id-9,0.2,4,1"])
    assert [row[0] for row in result.rows()] == ["id-7", "id-8", "id-9"]  # the ids stay beside their scores
    assert result.predictions() == [1, 0, 1]  # the input's width read from its first object


def test_several_prediction_columns_come_back_as_a_list_per_row(aws: AwsPipeline) -> None:
    result = aws.score_dataset([[0.5, 2]], join_input=False).wait()
    _scored(aws, "rows.csv", ["0.25,-1.5"])  # dimensionality reduction: a projection per row
    assert result.predictions() == [[0.25, -1.5]]


def test_a_version_that_is_not_approved_fails_with_the_fix(aws: AwsPipeline) -> None:
    scoring = aws.score_dataset([[0.5, 2]], model_package_arn=PACKAGE[:-1] + "9")
    with pytest.raises(RunFailed) as raised:
        scoring.wait()
    message = str(raised.value)
    assert message.startswith(f"scoring {scoring.name} FAILED: ModelPackageNotApproved: Only an Approved model")
    assert "fix: approve that version in the model registry, or leave model_package_arn out" in message
    result = scoring.wait(check=False)
    with pytest.raises(PipelineError, match=r"ended FAILED \(ModelPackageNotApproved\): it wrote no output"):
        result.rows()


def test_scoring_options_and_data_are_checked_before_anything_starts(aws: AwsPipeline, tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="unknown option 'skip_first_col': did you mean 'skip_first_column'"):
        aws.score_dataset([[1.0]], skip_first_col=True)
    with pytest.raises(OptionError, match="instance_count=0"):
        aws.score_dataset([[1.0]], instance_count=0)
    with pytest.raises(OptionError, match=r"outside the pipeline's data bucket.*score_dataset\(path or rows\)"):
        aws.score_dataset("s3://other-bucket/rows.csv")
    with pytest.raises(PipelineError, match="nothing there"):
        aws.score_dataset("s3://data-bucket/scoring/missing.csv")
    with pytest.raises(PipelineError, match="column 2 holds 'x'"):
        aws.score_dataset([[1.0, "x"]])
    with pytest.raises(PipelineError, match="no such file"):
        aws.score_dataset(tmp_path / "missing.csv")
    assert aws.client("s3").list_objects_v2(Bucket="data-bucket").get("KeyCount") == 0
    machine = aws.describe().scoring_state_machine_arn
    assert aws.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"] == []


def test_a_file_with_a_header_is_uploaded_without_it(aws: AwsPipeline, tmp_path: Path) -> None:
    path = tmp_path / "new customers.csv"
    path.write_text("radius,texture\n1.5,2\n")
    data = _input(aws, aws.score_dataset(path))["data"]
    bucket, key = data.removeprefix("s3://").split("/", 1)
    assert key.startswith("scoring/new customers-") and key.endswith("/new customers.csv")
    assert aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read() == b"1.5,2\n"
    assert path.read_text() == "radius,texture\n1.5,2\n"  # the user's file is left as it was


def test_a_stack_without_scoring_says_how_to_enable_it(aws: AwsPipeline) -> None:
    cloudformation = aws.client("cloudformation")
    buckets = {"D": {"Type": "AWS::S3::Bucket"}, "A": {"Type": "AWS::S3::Bucket"}}
    _stack(
        cloudformation,
        "SageMakerPipeline-lean-Storage",
        buckets,
        {"DataBucketName": {"Ref": "D"}, "ArtifactsBucketName": {"Ref": "A"}},
    )
    outputs = {"StateMachineArn": "arn:x", "EndpointName": "e", "NotificationTopicArn": {"Ref": "T"}}
    _stack(cloudformation, "SageMakerPipeline-lean-Pipeline", {"T": {"Type": "AWS::SNS::Topic"}}, outputs)
    lean = AwsPipeline(env="lean", session=boto3.session.Session(region_name=REGION))
    assert lean.describe().scoring_state_machine_arn is None
    with pytest.raises(PipelineError) as raised:
        lean.score_dataset([[1.0]])
    assert str(raised.value) == (
        "the lean pipeline has no batch scoring (its stack has no output ScoringStateMachineArn): set "
        '"batch_transform": {"enabled": true} in config/lean.json, then deploy the stacks again (make deploy '
        "ENV=lean) and connect again"
    )


def test_refused_calls_name_the_permission(aws: AwsPipeline) -> None:
    with Stubber(aws.client("stepfunctions")) as stub:
        stub.add_client_error("start_execution", service_error_code="AccessDeniedException", service_message="no")
        with pytest.raises(PipelineError, match=r"cannot start scoring: AccessDeniedException: no\nfix: .*StartExec"):
            aws.score_dataset([[1.0]])
    result = aws.score_dataset([[1.0]]).wait()
    with Stubber(aws.client("s3")) as stub:
        stub.add_client_error("list_objects_v2", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(PipelineError) as raised:
            result.rows()
    message = str(raised.value)
    assert message.startswith("cannot read s3://artifacts-bucket/scoring/r1/: AccessDenied")
    assert "s3:GetObject, s3:ListBucket" in message and "kms:Decrypt" in message
