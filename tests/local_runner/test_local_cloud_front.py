"""The local cloud's front (local_runner/server/front.py) in process: each protocol's answers and errors, and the
executions kept across a restart. The real clients against the real server: test_local_cloud_clients.py."""

from __future__ import annotations

import json
import time

import pytest
from werkzeug.test import Client

from local_runner import LocalCloud
from local_runner.server.engine import front_for
from local_runner.server.executions import ExecutionArchive
from local_runner.server.front import Front

ARN_PREFIX = "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/"
ROLE = "arn:aws:iam::123456789012:role/local"
PASS = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Result": {"ok": 1}, "End": True}}})


def _auth(service: str, region: str = "us-east-1") -> str:
    return (
        f"AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=0"
    )


class Wire:
    """A client of the front that speaks the wire formats by hand (the SDKs would refuse to send bad input)."""

    def __init__(self, front: Front):
        self.http = Client(front)

    def json(self, service: str, target: str, body, version: str = "1.0", region: str = "us-east-1"):
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        headers = {
            "Authorization": _auth(service, region),
            "X-Amz-Target": target,
            "Content-Type": f"application/x-amz-json-{version}",
        }
        return self.http.post("/", headers=headers, data=data)

    def query(self, service: str, form: str):
        headers = {"Authorization": _auth(service), "Content-Type": "application/x-www-form-urlencoded"}
        return self.http.post("/", headers=headers, data=form)


def _front(cloud: LocalCloud, archive: ExecutionArchive) -> Front:
    return front_for(cloud, archive, lambda: {"ok": True})


@pytest.fixture
def cloud(tmp_path):
    with LocalCloud(tmp_path / "state", persist=False) as started:
        yield started


@pytest.fixture
def wire(cloud, tmp_path) -> Wire:
    return Wire(_front(cloud, ExecutionArchive(tmp_path / "executions.json")))


def _machine(cloud: LocalCloud) -> str:
    return cloud.client("stepfunctions").create_state_machine(name="pass", definition=PASS, roleArn=ROLE)[
        "stateMachineArn"
    ]


def _finish(cloud: LocalCloud, arn: str) -> None:
    assert cloud.wait(arn, timeout=30) == "SUCCEEDED"


def test_an_unnamed_execution_gets_a_uuid_as_on_aws(cloud, wire) -> None:
    machine = _machine(cloud)
    first = wire.json("states", "AWSStepFunctions.StartExecution", {"stateMachineArn": machine, "input": "{}"})
    second = wire.json("states", "AWSStepFunctions.StartExecution", {"stateMachineArn": machine, "input": "{}"})
    assert first.status_code == second.status_code == 200, first.data
    names = [json.loads(r.data)["executionArn"].rsplit(":", 1)[1] for r in (first, second)]
    assert names[0] != names[1]
    assert all(len(name) == 36 and name.count("-") == 4 for name in names), names  # moto's server said "None"


def test_a_missing_parameter_is_a_validation_exception_not_a_traceback(wire) -> None:
    answer = wire.json("states", "AWSStepFunctions.ListMapRuns", {})
    assert answer.status_code == 400
    assert json.loads(answer.data)["__type"] == "ValidationException"
    assert "executionArn" in json.loads(answer.data)["message"]


@pytest.mark.parametrize(
    ("service", "target", "version"),
    [("sagemaker", "SageMaker.ListTrainingJobs", "1.1"), ("states", "AWSStepFunctions.ListStateMachines", "1.0")],
)
def test_a_body_that_is_not_json_is_a_serialization_exception(wire, service, target, version) -> None:
    answer = wire.json(service, target, b"{not json", version)
    assert answer.status_code == 400
    assert json.loads(answer.data)["__type"] == "SerializationException"


@pytest.mark.parametrize(
    ("service", "target", "version"),
    [
        ("sagemaker", "SageMaker.NoSuchOperation", "1.1"),
        ("sagemaker", "SageMaker.ListHubs", "1.1"),  # in botocore's model, not served by the local SageMaker
        ("states", "AWSStepFunctions.NoSuchOperation", "1.0"),
        ("lambda", "AWSLambda.ListFunctions", "1.1"),  # a service the local cloud does not serve
    ],
)
def test_an_operation_not_served_is_an_unknown_operation(wire, service, target, version) -> None:
    answer = wire.json(service, target, {}, version)
    assert answer.status_code == 400
    assert json.loads(answer.data)["__type"] == "UnknownOperationException"


def test_an_action_moto_lacks_is_the_query_protocols_invalid_action(wire) -> None:
    answer = wire.query("sns", "Action=NoSuchAction&Version=2010-03-31")
    assert answer.status_code == 400
    assert b"<Code>InvalidAction</Code>" in answer.data


def test_a_request_signed_for_another_region_names_the_region_to_use(wire) -> None:
    answer = wire.json("sagemaker", "SageMaker.ListTrainingJobs", {}, "1.1", region="eu-west-1")
    assert answer.status_code == 400
    error = json.loads(answer.data)
    assert error["__type"] == "InvalidRegion"
    assert "AWS_DEFAULT_REGION=us-east-1" in error["message"]


def test_sagemaker_answers_in_json_1_1_with_epoch_timestamps(wire) -> None:
    missing = wire.json("sagemaker", "SageMaker.DescribeTrainingJob", {"TrainingJobName": "nope"}, "1.1")
    assert missing.status_code == 400
    assert json.loads(missing.data)["__type"] == "ResourceNotFound"
    bad = wire.json("sagemaker", "SageMaker.DescribeTrainingJob", {}, "1.1")
    assert (bad.status_code, json.loads(bad.data)["__type"]) == (400, "ValidationException")
    created = wire.json("sagemaker", "SageMaker.CreateModelPackageGroup", {"ModelPackageGroupName": "models"}, "1.1")
    assert created.status_code == 200, created.data
    described = json.loads(
        wire.json("sagemaker", "SageMaker.DescribeModelPackageGroup", {"ModelPackageGroupName": "models"}, "1.1").data
    )
    assert isinstance(described["CreationTime"], float)
    assert abs(described["CreationTime"] - time.time()) < 3600


def test_the_runtime_answers_a_missing_endpoint_in_rest_json(wire) -> None:
    answer = wire.http.post(
        "/endpoints/nope/invocations",
        headers={"Authorization": _auth("sagemaker"), "Content-Type": "text/csv"},
        data=b"1,2",
    )
    assert answer.status_code == 400
    assert answer.headers["x-amzn-ErrorType"] == "ValidationException"


def test_executions_of_an_earlier_start_are_still_answered(tmp_path) -> None:
    archive_file = tmp_path / "executions.json"
    with LocalCloud(tmp_path / "first", persist=False) as first:
        machine = _machine(first)
        arn = first.start_execution(machine, {"n": 1})
        _finish(first, arn)
        before = first.client("stepfunctions").describe_execution(executionArn=arn)
        assert ExecutionArchive(archive_file).record(first.client("stepfunctions")) == 1
    with LocalCloud(tmp_path / "second", persist=False) as second:  # a fresh moto: it knows no execution
        wire = Wire(_front(second, ExecutionArchive(archive_file)))
        assert _machine(second) == machine
        described = json.loads(wire.json("states", "AWSStepFunctions.DescribeExecution", {"executionArn": arn}).data)
        assert described["status"] == "SUCCEEDED"
        assert json.loads(described["output"]) == {"ok": 1}
        assert described["startDate"] == pytest.approx(before["startDate"].timestamp())
        history = json.loads(
            wire.json("states", "AWSStepFunctions.GetExecutionHistory", {"executionArn": arn, "maxResults": 2}).data
        )
        assert [e["type"] for e in history["events"]] == ["ExecutionStarted", "PassStateEntered"]
        rest = json.loads(
            wire.json(
                "states",
                "AWSStepFunctions.GetExecutionHistory",
                {"executionArn": arn, "nextToken": history["nextToken"]},
            ).data
        )
        assert rest["events"][-1]["type"] == "ExecutionSucceeded"
        newer = second.start_execution(machine, {"n": 2})
        _finish(second, newer)
        listed = json.loads(wire.json("states", "AWSStepFunctions.ListExecutions", {"stateMachineArn": machine}).data)
        assert [e["executionArn"] for e in listed["executions"]] == [newer, arn]  # newest first, as AWS lists
        again = wire.json(
            "states",
            "AWSStepFunctions.StartExecution",
            {"stateMachineArn": machine, "name": arn.rsplit(":", 1)[1], "input": "{}"},
        )
        assert (again.status_code, json.loads(again.data)["__type"]) == (400, "ExecutionAlreadyExists")


def test_tuning_jobs_are_listed(cloud, wire) -> None:
    counters = {"Completed": 2, "InProgress": 0, "RetryableError": 0, "NonRetryableError": 0, "Stopped": 0}
    for name, created in (("tune-a", 1.0), ("tune-b", 2.0)):
        cloud.sagemaker.store.put(
            "tuning_jobs",
            name,
            {
                "HyperParameterTuningJobName": name,
                "HyperParameterTuningJobArn": ARN_PREFIX + name,
                "HyperParameterTuningJobStatus": "Completed",
                "HyperParameterTuningJobConfig": {
                    "Strategy": "Random",
                    "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 2},
                },
                "CreationTime": created,
                "TrainingJobStatusCounters": counters,
                "ObjectiveStatusCounters": {"Succeeded": 2, "Pending": 0, "Failed": 0},
            },
        )
    answer = wire.json("sagemaker", "SageMaker.ListHyperParameterTuningJobs", {"SortOrder": "Ascending"}, "1.1")
    assert answer.status_code == 200, answer.data
    summaries = json.loads(answer.data)["HyperParameterTuningJobSummaries"]
    assert [s["HyperParameterTuningJobName"] for s in summaries] == ["tune-a", "tune-b"]
    assert summaries[0]["Strategy"] == "Random"
    assert summaries[0]["CreationTime"] == 1.0


def test_a_fault_of_the_engine_is_internal_failure_in_the_protocol_with_no_traceback(cloud, tmp_path) -> None:
    def broken(service, operation, params):
        raise RuntimeError("a bug")

    front = Front(broken, lambda environ, start: None, ExecutionArchive(tmp_path / "e.json"), lambda: {})
    answer = Wire(front).json("sagemaker", "SageMaker.ListTrainingJobs", {}, "1.1")
    assert answer.status_code == 500
    error = json.loads(answer.data)
    assert error["__type"] == "InternalFailure"
    assert "a bug" in error["message"] and "Traceback" not in error["message"]


def _cloudformation(wire, form: str) -> tuple[int, dict]:
    """A CloudFormation query call, its XML answer parsed by botocore's own parser for DescribeStacks."""
    from botocore.parsers import create_parser

    from local_runner.validation import operation_model

    answer = wire.query("cloudformation", form + "&Version=2010-05-15")
    parsed = create_parser("query").parse(
        {"body": answer.data, "headers": dict(answer.headers), "status_code": answer.status_code},
        operation_model("cloudformation", "DescribeStacks").output_shape,
    )
    return answer.status_code, parsed


def test_describe_stacks_answers_the_deployed_stacks_outputs_in_the_query_protocol(cloud, wire) -> None:
    # The clients (pipeline_client, the smoke check) find the pipeline through DescribeStacks, on AWS and here.
    cloud.stacks.stacks["SageMakerPipeline-dev-Storage"] = {
        "StackName": "SageMakerPipeline-dev-Storage",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/SageMakerPipeline-dev-Storage/local",
        "CreationTime": time.time(),
        "StackStatus": "CREATE_COMPLETE",
        "Outputs": [{"OutputKey": "DataBucketName", "OutputValue": "data-bucket", "Description": "Upload here"}],
    }
    status, parsed = _cloudformation(wire, "Action=DescribeStacks&StackName=SageMakerPipeline-dev-Storage")
    assert status == 200, parsed
    (stack,) = parsed["Stacks"]
    assert (stack["StackName"], stack["StackStatus"]) == ("SageMakerPipeline-dev-Storage", "CREATE_COMPLETE")
    assert stack["Outputs"] == [
        {"OutputKey": "DataBucketName", "OutputValue": "data-bucket", "Description": "Upload here"}
    ]
    status, parsed = _cloudformation(wire, "Action=DescribeStacks&StackName=nope")
    assert (status, parsed["Error"]["Code"]) == (400, "ValidationError")
    assert "Stack with id nope does not exist" in parsed["Error"]["Message"]


def test_a_cloudformation_action_not_served_is_the_query_protocols_invalid_action(wire) -> None:
    answer = wire.query("cloudformation", "Action=CreateStack&StackName=x&Version=2010-05-15")
    assert answer.status_code == 400
    assert b"<Code>InvalidAction</Code>" in answer.data
