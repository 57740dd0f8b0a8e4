"""Endpoint data capture in the local SageMaker: what InvokeEndpoint writes to S3, in SageMaker's layout and
format (developer guide, "Capture data from real-time endpoint"), and DescribeEndpoint's summary of it."""

from __future__ import annotations

import base64
import datetime
import json
import random
import re

import boto3
import pytest
from fixture_assembly import MODEL_URI, model_artifact_fixture, model_cloud_fixture, wait_for  # noqa: F401  (fixtures)
from pipeline_harness import stack_resources

from local_runner import LocalCloud, s3
from local_runner.sagemaker import capture

pytestmark = pytest.mark.slow

BUCKET = "capture-fixture"
KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-4333-8444-555555555555"
ROW = (
    "17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871,1.095,0.9053,8.589,153.4,0.006399,"
    "0.04904,0.05373,0.01587,0.03003,0.006193,25.38,17.33,184.6,2019,0.1622,0.6656,0.7119,0.2654,0.4601,0.1189"
)
HEADER = {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]}
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _data_capture(percent: int = 100, modes=("Input", "Output"), header=HEADER, **extra) -> dict:
    config = {
        "InitialSamplingPercentage": percent,
        "DestinationS3Uri": f"s3://{BUCKET}/data-capture/",
        "CaptureOptions": [{"CaptureMode": mode} for mode in modes],
        **extra,
    }
    if header is not None:
        config["CaptureContentTypeHeader"] = header
    return config


def _endpoints(cloud, **captures: dict) -> None:
    """One instance endpoint per name, each capturing as its DataCaptureConfig says; all InService."""
    sagemaker = cloud.client("sagemaker")
    s3.ensure_bucket(BUCKET)
    variant = {"VariantName": "AllTraffic", "ModelName": "fixture-model", "InstanceType": "ml.m5.large"}
    for name, data_capture in captures.items():
        sagemaker.create_endpoint_config(
            EndpointConfigName=name, ProductionVariants=[{**variant, "InitialInstanceCount": 1}], **data_capture
        )
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    for name in captures:
        described = wait_for(
            lambda name=name: sagemaker.describe_endpoint(EndpointName=name),
            lambda d: d["EndpointStatus"] != "Creating",
        )
        assert described["EndpointStatus"] == "InService", described.get("FailureReason")


def _captured(endpoint: str) -> dict[str, list[dict]]:
    """Every capture file of an endpoint, read right after the invocations: key -> its records."""
    client = boto3.client("s3", region_name="us-east-1")
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=f"data-capture/{endpoint}/").get("Contents", [])
    files = {}
    for item in listed:
        body = client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read().decode()
        assert body.endswith("\n")  # JSON Lines: every record ends its line
        files[item["Key"]] = [json.loads(line) for line in body.splitlines()]
    return files


def test_every_request_and_response_is_captured_in_sagemakers_layout(model_cloud):
    _endpoints(model_cloud, scoring={"DataCaptureConfig": _data_capture(KmsKeyId=KEY)})
    described = model_cloud.client("sagemaker").describe_endpoint(EndpointName="scoring")
    assert described["DataCaptureConfig"] == {
        "EnableCapture": True,
        "CaptureStatus": "Started",
        "CurrentSamplingPercentage": 100,
        "DestinationS3Uri": f"s3://{BUCKET}/data-capture/",
        "KmsKeyId": KEY,
    }
    runtime = model_cloud.client("sagemaker-runtime")
    answers = []
    for index in range(3):
        extra = {"InferenceId": "ticket-1"} if index == 1 else {}
        answer = runtime.invoke_endpoint(EndpointName="scoring", ContentType="text/csv", Body=ROW + "\n", **extra)
        answers.append(answer["Body"].read().decode())

    [(key, records)] = _captured("scoring").items()
    match = re.fullmatch(
        rf"data-capture/scoring/AllTraffic/(\d{{4}}/\d\d/\d\d/\d\d)/(\d\d-\d\d)-\d{{3}}-{UUID}\.jsonl", key
    )
    assert match, key
    assert len(records) == 3
    for index, (record, answer) in enumerate(zip(records, answers, strict=True)):
        assert record["eventVersion"] == "0"
        assert record["captureData"] == {
            "endpointInput": {
                "observedContentType": "text/csv",
                "mode": "INPUT",
                "data": ROW + "\n",
                "encoding": "CSV",
            },
            "endpointOutput": {
                "observedContentType": "application/json",
                "mode": "OUTPUT",
                "data": answer,
                "encoding": "JSON",
            },
        }
        metadata = record["eventMetadata"]
        assert list(metadata) == (
            ["eventId", "inferenceId", "inferenceTime"] if index == 1 else ["eventId", "inferenceTime"]
        )
        assert re.fullmatch(UUID, metadata["eventId"])
        assert metadata.get("inferenceId") == ("ticket-1" if index == 1 else None)
        when = datetime.datetime.strptime(metadata["inferenceTime"], "%Y-%m-%dT%H:%M:%SZ")
        assert f"{when:%Y/%m/%d/%H}" == match.group(1)  # the hour of the invocation (UTC)
    first = datetime.datetime.strptime(records[0]["eventMetadata"]["inferenceTime"], "%Y-%m-%dT%H:%M:%SZ")
    assert f"{first:%M-%S}" == match.group(2)  # the file is named after its first record
    assert len({r["eventMetadata"]["eventId"] for r in records}) == 3
    head = boto3.client("s3", region_name="us-east-1").head_object(Bucket=BUCKET, Key=key)
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", KEY)


def test_json_is_captured_as_json_and_an_unlisted_content_type_as_base64(model_cloud):
    _endpoints(
        model_cloud, mixed={"DataCaptureConfig": _data_capture(header={"JsonContentTypes": ["application/json"]})}
    )
    runtime = model_cloud.client("sagemaker-runtime")
    features = [float(v) for v in ROW.split(",")]
    request = json.dumps({"instances": [features]})
    as_csv = runtime.invoke_endpoint(
        EndpointName="mixed", ContentType="application/json", Accept="text/csv", Body=request
    )
    as_json = runtime.invoke_endpoint(EndpointName="mixed", ContentType="text/csv", Accept="application/json", Body=ROW)

    [records] = _captured("mixed").values()
    first, second = (r["captureData"] for r in records)
    assert first["endpointInput"] == {
        "observedContentType": "application/json",
        "mode": "INPUT",
        "data": request,
        "encoding": "JSON",
    }
    assert first["endpointOutput"]["encoding"] == "BASE64"  # text/csv is not listed in this configuration
    assert base64.b64decode(first["endpointOutput"]["data"]) == as_csv["Body"].read()
    assert second["endpointInput"]["encoding"] == "BASE64"
    assert base64.b64decode(second["endpointInput"]["data"]).decode() == ROW
    assert second["endpointOutput"]["encoding"] == "JSON"
    assert second["endpointOutput"]["data"] == as_json["Body"].read().decode()


def test_input_only_capture_has_no_output(model_cloud):
    _endpoints(model_cloud, inputs={"DataCaptureConfig": _data_capture(modes=("Input",))})
    runtime = model_cloud.client("sagemaker-runtime")
    for _ in range(2):
        runtime.invoke_endpoint(EndpointName="inputs", ContentType="text/csv", Body=ROW)
    [records] = _captured("inputs").values()
    assert [list(r["captureData"]) for r in records] == [["endpointInput"], ["endpointInput"]]


def test_nothing_is_captured_at_0_percent_or_when_disabled_and_each_request_is_sampled(model_cloud):
    _endpoints(
        model_cloud,
        zero={"DataCaptureConfig": _data_capture(percent=0)},
        off={"DataCaptureConfig": _data_capture(EnableCapture=False)},
        half={"DataCaptureConfig": _data_capture(percent=50, modes=("InputAndOutput",))},
    )
    sagemaker = model_cloud.client("sagemaker")
    assert sagemaker.describe_endpoint(EndpointName="off")["DataCaptureConfig"]["CaptureStatus"] == "Stopped"
    assert sagemaker.describe_endpoint(EndpointName="zero")["DataCaptureConfig"]["CurrentSamplingPercentage"] == 0
    runtime = model_cloud.client("sagemaker-runtime")
    for name in ("zero", "off"):
        for _ in range(5):
            runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=ROW)
        assert _captured(name) == {}

    model_cloud.sagemaker.capture.rng = random.Random(11)  # the draws decide which requests are kept
    draws = random.Random(11)
    expected = {str(i) for i in range(12) if draws.random() * 100 < 50}
    assert 0 < len(expected) < 12
    for index in range(12):
        runtime.invoke_endpoint(EndpointName="half", ContentType="text/csv", Body=ROW, InferenceId=str(index))
    [records] = _captured("half").values()
    assert {r["eventMetadata"]["inferenceId"] for r in records} == expected
    assert all(set(r["captureData"]) == {"endpointInput", "endpointOutput"} for r in records)


def test_encoding_and_destination_rules():
    """The rules without an endpoint: media type parameters ignored, BASE64 by default and for non-UTF-8."""
    assert capture.payload(b"1,2\n", "text/csv; charset=utf-8", "INPUT", HEADER)["encoding"] == "CSV"
    assert capture.payload(b"1,2", "text/csv", "INPUT", None) == {
        "observedContentType": "text/csv",
        "mode": "INPUT",
        "data": base64.b64encode(b"1,2").decode(),
        "encoding": "BASE64",
    }
    assert capture.payload(b"\xff\xfe", "application/json", "OUTPUT", HEADER)["encoding"] == "BASE64"
    assert capture.destination("s3://bucket/a/b/") == ("bucket", "a/b")
    assert capture.destination("s3://bucket") == ("bucket", "")
    assert capture.destination("https://bucket.s3.us-east-1.amazonaws.com/a/") == ("bucket", "a")
    assert capture.destination("https://s3.us-east-1.amazonaws.com/bucket/a") == ("bucket", "a")
    assert capture.summary(None) is None
    assert capture.summary(_data_capture(header=None))["KmsKeyId"] == ""


def test_the_approved_prod_endpoint_captures_to_the_artifacts_bucket(tmp_path, prod_assembly, model_artifact, snapshot):
    """Prod's approval workflow deploys with the template's DataCaptureConfig (20%, KMS, data-capture/)."""
    cloud = LocalCloud(tmp_path / "state", code_dir=snapshot, persist=False, time_scale=0.02)
    with cloud:
        cloud.deploy(prod_assembly)
        try:
            # What the pipeline's execution role may read and pull: a run's artifact, the project's image.
            artifacts = stack_resources(cloud, env="prod").artifacts_bucket
            model_uri = f"s3://{artifacts}/runs/capture-test/output/model.tar.gz"
            bucket, key = s3.split_uri(model_uri)
            s3.client().put_object(Bucket=bucket, Key=key, Body=model_artifact)
            storage = next(stack for stack in prod_assembly.stacks.values() if stack.name.endswith("-Storage"))
            repository = next(iter(storage.of_type("AWS::ECR::Repository")))
            image = prod_assembly.resolver(storage).get_att(repository, "RepositoryUri") + ":1"
            sagemaker = cloud.client("sagemaker")
            [group] = cloud.sagemaker.store.values("model_package_groups")
            package = sagemaker.create_model_package(
                ModelPackageGroupName=group["ModelPackageGroupName"],
                InferenceSpecification={
                    "Containers": [{"Image": image, "ModelDataUrl": model_uri}],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["application/json"],
                },
            )["ModelPackageArn"]
            sagemaker.update_model_package(ModelPackageArn=package, ModelApprovalStatus="Approved")
            sfn = cloud.client("stepfunctions")
            approval = next(arn for lid, arn in cloud.state_machines.items() if lid.startswith("Approval"))
            [execution] = sfn.list_executions(stateMachineArn=approval)["executions"]
            cloud.wait(execution["executionArn"], timeout=180)
            deployed = cloud.result(execution["executionArn"], {"model_package_arn": package})
            assert deployed.status == "SUCCEEDED", (deployed.error, deployed.cause)

            [endpoint] = sagemaker.list_endpoints()["Endpoints"]
            name = endpoint["EndpointName"]
            artifacts = stack_resources(cloud, env="prod").artifacts_bucket
            summary = sagemaker.describe_endpoint(EndpointName=name)["DataCaptureConfig"]
            assert summary["DestinationS3Uri"] == f"s3://{artifacts}/data-capture/"
            assert (summary["CaptureStatus"], summary["CurrentSamplingPercentage"]) == ("Started", 20)
            assert summary["KmsKeyId"].startswith("arn:aws:kms:")

            cloud.sagemaker.capture.rng = random.Random(5)
            draws = random.Random(5)
            expected = sum(draws.random() * 100 < 20 for _ in range(10))
            assert expected > 0
            runtime = cloud.client("sagemaker-runtime")
            for _ in range(10):
                runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=ROW)
            listed = s3.client().list_objects_v2(Bucket=artifacts, Prefix=f"data-capture/{name}/AllTraffic/")
            [item] = listed["Contents"]
            body = s3.client().get_object(Bucket=artifacts, Key=item["Key"])["Body"].read().decode()
            assert len(body.splitlines()) == expected
            assert json.loads(body.splitlines()[0])["captureData"]["endpointInput"]["data"] == ROW
        finally:
            cloud.sagemaker.stop_endpoints()
