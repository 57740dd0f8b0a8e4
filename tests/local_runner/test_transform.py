"""Batch transform jobs in the local SageMaker: the model's real `serve`, mini-batches, joins, failures, stops."""

from __future__ import annotations

import csv
import io
import json

import boto3
import pytest
from fixture_assembly import engine_role, model_artifact_fixture, model_cloud_fixture, wait_for  # noqa: F401  (fixtures)

from local_runner import Assembly, s3
from local_runner.sagemaker import endpoints

pytestmark = pytest.mark.slow

BUCKET = "fixture-models"


def _rows(dataset) -> list[list[str]]:
    with open(dataset) as handle:
        return list(csv.reader(handle))


def _put(key: str, lines: list[str]) -> None:
    s3.client().put_object(Bucket=BUCKET, Key=key, Body=("\n".join(lines) + "\n").encode())


def _get(key: str) -> str:
    return s3.client().get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()


def _request(name: str, source: dict, **extra) -> dict:
    request = {
        "TransformJobName": name,
        "ModelName": "fixture-model",
        "TransformInput": {"DataSource": {"S3DataSource": source}, "ContentType": "text/csv", "SplitType": "Line"},
        "TransformOutput": {
            "S3OutputPath": f"s3://{BUCKET}/scored/{name}",
            "Accept": "text/csv",
            "AssembleWith": "Line",
        },
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }
    request.update(extra)
    return request


def _prefix(path: str) -> dict:
    return {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/{path}"}


def _finished(sagemaker, name: str) -> dict:
    return wait_for(
        lambda: sagemaker.describe_transform_job(TransformJobName=name),
        lambda d: d["TransformJobStatus"] not in ("InProgress", "Stopping"),
    )


def _serve_pid(cloud, name: str) -> int:
    return cloud.sagemaker.store.get("transform_jobs", name)["local"]["pid"]


def _log(cloud, name: str) -> str:
    return (cloud.sagemaker.workdir / "transform" / name / "transform.log").read_text()


def test_a_multi_file_prefix_is_scored_in_mini_batches_and_joined_with_its_input(model_cloud, dataset):
    """MultiRecord up to MaxPayloadInMB, JoinSource Input, InputFilter $[1:] (an id column the model never sees)."""
    rows = [features for _, *features in _rows(dataset)]
    files = {  # part-2 is over 1 MB: two mini-batches
        "part-0.csv": [[f"a{i}", *rows[i % len(rows)]] for i in range(40)],
        "part-1.csv": [[f"b{i}", *rows[(i + 40) % len(rows)]] for i in range(25)],
        "part-2.csv": [[f"c{i}", *rows[i % len(rows)]] for i in range(7000)],
    }
    for name, lines in files.items():
        _put(f"batch/input/{name}", [",".join(line) for line in lines])
    labels = {",".join(features): label for label, *features in _rows(dataset)}
    sagemaker = model_cloud.client("sagemaker")
    request = _request(
        "score-prefix",
        _prefix("batch/input/"),
        BatchStrategy="MultiRecord",
        MaxPayloadInMB=1,
        MaxConcurrentTransforms=2,
        DataProcessing={"InputFilter": "$[1:]", "JoinSource": "Input"},
        Tags=[{"Key": "pipeline-run", "Value": "r1"}],
    )
    arn = sagemaker.create_transform_job(**request)["TransformJobArn"]

    described = _finished(sagemaker, "score-prefix")
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    assert described["DataProcessing"] == request["DataProcessing"]
    assert described["TransformStartTime"] <= described["TransformEndTime"]
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "pipeline-run", "Value": "r1"}]
    [summary] = sagemaker.list_transform_jobs(NameContains="prefix")["TransformJobSummaries"]
    assert summary["TransformJobStatus"] == "Completed"
    correct = 0
    for name, lines in files.items():
        out = list(csv.reader(io.StringIO(_get(f"scored/score-prefix/{name}.out"))))
        assert len(out) == len(lines), name
        for sent, got in zip(lines, out, strict=True):
            assert got[:-1] == sent  # the whole input record (id included), then the output column
            assert got[-1] in ("0", "1")
            correct += got[-1] == labels[",".join(sent[1:])]
    assert correct / sum(len(v) for v in files.values()) > 0.9  # the model's own predictions, in order
    log = _log(model_cloud, "score-prefix")
    assert "2 concurrent, MultiRecord, MaxPayloadInMB 1" in log
    assert "part-2.csv: 7000 records in 2 requests" in log and "part-0.csv: 40 records in 1 requests" in log
    assert not endpoints.alive(_serve_pid(model_cloud, "score-prefix"))


def test_a_manifest_file_with_single_records_and_json_output(model_cloud, dataset):
    rows = [features for _, *features in _rows(dataset)][:6]
    _put("manifest/data/x.csv", [",".join(r) for r in rows[:4]])
    _put("manifest/data/y.csv", [",".join(r) for r in rows[4:]])
    _put("manifest/data/ignored.csv", [",".join(rows[0])])
    manifest = [{"prefix": f"s3://{BUCKET}/manifest/data/"}, "y.csv", "x.csv"]
    s3.client().put_object(Bucket=BUCKET, Key="manifest/list.json", Body=json.dumps(manifest).encode())
    sagemaker = model_cloud.client("sagemaker")
    request = _request(
        "score-manifest",
        {"S3DataType": "ManifestFile", "S3Uri": f"s3://{BUCKET}/manifest/list.json"},
        BatchStrategy="SingleRecord",
    )
    request["TransformOutput"]["Accept"] = "application/json"
    sagemaker.create_transform_job(**request)

    assert _finished(sagemaker, "score-manifest")["TransformJobStatus"] == "Completed"
    listed = s3.client().list_objects_v2(Bucket=BUCKET, Prefix="scored/score-manifest/")["Contents"]
    assert sorted(o["Key"] for o in listed) == ["scored/score-manifest/x.csv.out", "scored/score-manifest/y.csv.out"]
    for name, count in (("x.csv", 4), ("y.csv", 2)):
        lines = _get(f"scored/score-manifest/{name}.out").splitlines()
        assert len(lines) == count  # one request per record, one response per line (AssembleWith Line)
        assert all(len(json.loads(line)["predictions"]) == 1 for line in lines)


def test_a_rejected_record_fails_the_job_with_a_client_error_after_the_retries(model_cloud, dataset):
    rows = [",".join(features) for _, *features in _rows(dataset)][:3]
    _put("bad/input.csv", [rows[0], "1.0,not-a-number," + rows[1].split(",", 2)[2], rows[2]])
    sagemaker = model_cloud.client("sagemaker")
    request = _request(
        "score-bad",
        _prefix("bad/"),
        BatchStrategy="SingleRecord",
        ModelClientConfig={"InvocationsTimeoutInSeconds": 30, "InvocationsMaxRetries": 1},
    )
    sagemaker.create_transform_job(**request)

    described = _finished(sagemaker, "score-bad")
    assert described["TransformJobStatus"] == "Failed"
    reason = described["FailureReason"]
    assert reason.startswith("ClientError: Bad HTTP status received from algorithm: 400 (input.csv, records 2-2)")
    assert "not-a-number" in reason
    assert _log(model_cloud, "score-bad").count("Bad HTTP status received from algorithm: 400") == 2  # 1 retry
    assert not endpoints.alive(_serve_pid(model_cloud, "score-bad"))
    assert s3.client().list_objects_v2(Bucket=BUCKET, Prefix="scored/score-bad/").get("KeyCount") == 0


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"TransformInput": {"SplitType": "RecordIO"}}, "not supported by the local runner: SplitType RecordIO"),
        ({"DataProcessing": {"OutputFilter": "$..x"}}, "not supported by the local runner: the JSONPath '$..x'"),
    ],
    ids=["split-type", "json-path"],
)
def test_what_the_local_runner_cannot_do_fails_the_job_saying_so(model_cloud, change, reason):
    request = _request("score-unsupported", _prefix("nothing/"))
    for key, value in change.items():
        request[key] = {**request.get(key, {}), **value}
    sagemaker = model_cloud.client("sagemaker")
    sagemaker.create_transform_job(**request)
    described = _finished(sagemaker, "score-unsupported")
    assert described["TransformJobStatus"] == "Failed"
    assert described["FailureReason"].startswith(f"ClientError: {reason}")
    assert "local" not in model_cloud.sagemaker.store.get("transform_jobs", "score-unsupported")  # never served


def test_a_stopped_job_stops_its_container(model_cloud, dataset):
    rows = [",".join(features) for _, *features in _rows(dataset)]
    _put("long/input.csv", [rows[i % len(rows)] for i in range(4000)])
    sagemaker = model_cloud.client("sagemaker")
    sagemaker.create_transform_job(**_request("score-stop", _prefix("long/"), BatchStrategy="SingleRecord"))
    serving = wait_for(
        lambda: model_cloud.sagemaker.store.get("transform_jobs", "score-stop"),
        lambda r: "local" in r or r["TransformJobStatus"] != "InProgress",
    )
    assert serving["TransformJobStatus"] == "InProgress", serving.get("FailureReason")

    sagemaker.stop_transform_job(TransformJobName="score-stop")
    assert sagemaker.describe_transform_job(TransformJobName="score-stop")["TransformJobStatus"] in (
        "Stopping",
        "Stopped",
    )
    assert _finished(sagemaker, "score-stop")["TransformJobStatus"] == "Stopped"
    assert not endpoints.alive(serving["local"]["pid"])
    assert s3.client().list_objects_v2(Bucket=BUCKET, Prefix="scored/score-stop/").get("KeyCount") == 0


def _machine(resource: str, parameters: dict) -> dict:
    definition = {
        "StartAt": "Score",
        "States": {
            "Score": {
                "Type": "Task",
                "Resource": resource,
                "Parameters": parameters,
                "ResultSelector": {
                    "status.$": "$.TransformJobStatus",
                    "output.$": "$.TransformOutput.S3OutputPath",
                }
                if resource.endswith(".sync")
                else {"arn.$": "$.TransformJobArn"},
                "End": True,
            }
        },
    }
    return {
        "Resources": {
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "DefinitionString": json.dumps(definition),
                    "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                },
            },
            "Role": engine_role("fixture"),  # the role model_cloud's model runs as, too
        }
    }


def test_the_state_machine_integration_waits_for_the_job_and_names_a_failure(model_cloud, dataset, tmp_path):
    rows = [",".join(features) for _, *features in _rows(dataset)][:20]
    _put("sfn/input.csv", rows)
    parameters = _request("unused", _prefix("sfn/"), BatchStrategy="MultiRecord", MaxPayloadInMB=6)
    parameters.pop("TransformJobName")
    parameters["TransformJobName.$"] = "$.name"
    parameters["TransformOutput"]["S3OutputPath.$"] = "States.Format('s3://fixture-models/scored/{}', $.name)"
    parameters["TransformOutput"].pop("S3OutputPath")
    templates = {
        "Sync": _machine("arn:aws:states:::sagemaker:createTransformJob.sync", parameters),
        "Start": _machine("arn:aws:states:::sagemaker:createTransformJob", parameters),
    }
    arns = {}
    for stack, template in templates.items():
        deployed = model_cloud.deploy(Assembly.from_templates({stack: template}, tmp_path))
        arns[stack] = deployed["Machine"]

    result = model_cloud.run(arns["Sync"], {"name": "sfn-sync"}, timeout=120)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output == {"status": "Completed", "output": "s3://fixture-models/scored/sfn-sync"}
    assert len(_get("scored/sfn-sync/input.csv.out").splitlines()) == 20

    started = model_cloud.run(arns["Start"], {"name": "sfn-start"}, timeout=120)
    assert started.status == "SUCCEEDED" and started.output["arn"].endswith(":transform-job/sfn-start")
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    assert _finished(sagemaker, "sfn-start")["TransformJobStatus"] == "Completed"

    model_cloud.faults.fail_job("transform", "sfn-fail*", "ClientError: injected transform failure")
    failed = model_cloud.run(arns["Sync"], {"name": "sfn-failed"}, timeout=120)
    assert failed.status == "FAILED" and failed.error == "States.TaskFailed"
    cause = json.loads(failed.cause)
    assert (cause["TransformJobStatus"], cause["FailureReason"]) == (
        "Failed",
        "ClientError: injected transform failure",
    )
