"""The client on AWS, where the local cloud cannot stand in: stacks in CloudFormation's states (not deployed, from
an older version, without scoring), no region, errors of the endpoint and of IAM (botocore's Stubber), and the
scoring result read from transform outputs laid out by hand (several input files, ids kept beside the scores).
moto plays AWS: its CloudFormation and its ASL interpreter running the pipeline's terminal shapes. The rest of
the client is tested against the local cloud (test_client.py), the path production takes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws

from pipeline_client import PipelineClient, PipelineError, RunFailed, ScoringOptions

REGION = "us-east-1"
DEFINITION = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}  # runs are test_client.py's


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
        yield PipelineClient(env="dev", session=boto3.session.Session(region_name=REGION), poll_seconds=0.02)


def test_describe_reads_the_stacks_outputs(aws: PipelineClient) -> None:
    described = aws.describe()
    assert (described.data_bucket, described.artifacts_bucket) == ("data-bucket", "artifacts-bucket")
    assert described.state_machine_arn.endswith(":stateMachine:pipeline")
    assert described.endpoint_name == "pipeline-endpoint"
    assert described.notification_topic_arn.startswith(f"arn:aws:sns:{REGION}:")
    assert described.scoring_state_machine_arn.endswith(":stateMachine:scoring")


def test_a_stack_that_is_not_deployed_says_how_to_deploy_it(aws: PipelineClient) -> None:
    with pytest.raises(PipelineError, match=r"stack SageMakerPipeline-prod-Storage is not deployed in us-east-1: "):
        PipelineClient(env="prod", session=boto3.session.Session(region_name=REGION))


def test_a_stack_without_an_output_asks_for_a_redeploy(aws: PipelineClient) -> None:
    cloudformation = aws.client("cloudformation")
    bucket = {"Data": {"Type": "AWS::S3::Bucket"}}
    _stack(cloudformation, "SageMakerPipeline-old-Storage", bucket, {"DataBucketName": {"Ref": "Data"}})
    _stack(cloudformation, "SageMakerPipeline-old-Pipeline", {"T": {"Type": "AWS::SNS::Topic"}}, {})
    with pytest.raises(PipelineError, match=r"no output ArtifactsBucketName: .*make deploy ENV=old"):
        PipelineClient(env="old", session=boto3.session.Session(region_name=REGION))


def test_an_endpoint_url_nothing_listens_on_says_to_start_the_local_cloud(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # refused at once: no retries to wait for
    session = boto3.session.Session(region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s")
    with pytest.raises(PipelineError, match=r"cannot reach http://127.0.0.1:9/: start the local cloud \(make up\)"):
        PipelineClient(env="dev", session=session, endpoint_url="http://127.0.0.1:9/")


def test_no_region_is_explained(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(PipelineError, match="no AWS region is set: set AWS_DEFAULT_REGION"):
        PipelineClient(env="dev", session=boto3.session.Session())


def _answer(document: dict) -> dict:
    body = json.dumps(document).encode()
    return {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentType": "application/json"}


def test_predict_sends_csv_and_returns_one_prediction_per_row(aws: PipelineClient) -> None:
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
def test_predict_explains_what_the_endpoint_refused(aws: PipelineClient, code: str, message: str, fix: str) -> None:
    with Stubber(aws.client("sagemaker-runtime")) as stub:
        stub.add_client_error("invoke_endpoint", service_error_code=code, service_message=message, http_status_code=400)
        with pytest.raises(PipelineError) as raised:
            aws.predict([[1.0, 2.0, 3.0]])
    assert message in str(raised.value) and fix in str(raised.value)


def _scored(aws: PipelineClient, name: str, lines: list[str]) -> None:
    """What the transform job writes: `<input file>.out` under the scoring run's output prefix."""
    body = "".join(f"{line}\n" for line in lines).encode()
    aws.client("s3").put_object(Bucket="artifacts-bucket", Key=f"scoring/r1/{name}.out", Body=body)


def _input(aws: PipelineClient, run) -> dict:
    return json.loads(aws.client("stepfunctions").describe_execution(executionArn=run.execution_arn)["input"])


def test_rows_are_uploaded_under_scoring_scored_and_read_back(aws: PipelineClient) -> None:
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


def test_files_given_by_uri_are_scored_where_they_are(aws: PipelineClient) -> None:
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


def test_several_prediction_columns_come_back_as_a_list_per_row(aws: PipelineClient) -> None:
    result = aws.score_dataset([[0.5, 2]], join_input=False).wait()
    _scored(aws, "rows.csv", ["0.25,-1.5"])  # dimensionality reduction: a projection per row
    assert result.predictions() == [[0.25, -1.5]]


def test_a_version_that_is_not_approved_fails_with_the_fix(aws: PipelineClient) -> None:
    scoring = aws.score_dataset([[0.5, 2]], model_package_arn=PACKAGE[:-1] + "9")
    with pytest.raises(RunFailed) as raised:
        scoring.wait()
    message = str(raised.value)
    assert message.startswith(f"scoring {scoring.name} FAILED: ModelPackageNotApproved: Only an Approved model")
    assert "fix: approve that version in the model registry, or leave model_package_arn out" in message
    result = scoring.wait(check=False)
    with pytest.raises(PipelineError, match=r"ended FAILED \(ModelPackageNotApproved\): it wrote no output"):
        result.rows()


def test_a_stack_without_scoring_says_how_to_enable_it(aws: PipelineClient) -> None:
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
    lean = PipelineClient(env="lean", session=boto3.session.Session(region_name=REGION))
    assert lean.describe().scoring_state_machine_arn is None
    with pytest.raises(PipelineError) as raised:
        lean.score_dataset([[1.0]])
    assert str(raised.value) == (
        "the lean pipeline has no batch scoring (its stack has no output ScoringStateMachineArn): set "
        '"batch_transform": {"enabled": true} in config/lean.json, then deploy the stacks again (make deploy '
        "ENV=lean) and connect again"
    )


def test_refused_calls_name_the_permission(aws: PipelineClient) -> None:
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
