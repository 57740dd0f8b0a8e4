"""Serverless endpoints in the local SageMaker: ServerlessConfig variants, created, invoked and updated as on AWS."""

from __future__ import annotations

import json
import os

import botocore.exceptions
import httpx
import pytest
from fixture_assembly import model_artifact_fixture, model_cloud_fixture, wait_for  # noqa: F401  (fixtures)

from local_runner.sagemaker import endpoints
from local_runner.sagemaker.variants import UPDATE_TO_SERVERLESS

pytestmark = pytest.mark.slow

KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-4333-8444-555555555555"


def _serverless(memory: int = 2048, concurrency: int = 5, **extra) -> dict:
    config = {"MemorySizeInMB": memory, "MaxConcurrency": concurrency, **extra}
    return {"VariantName": "AllTraffic", "ModelName": "fixture-model", "ServerlessConfig": config}


def _instances() -> dict:
    return {
        "VariantName": "AllTraffic",
        "ModelName": "fixture-model",
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
    }


def _in_service(sagemaker, name: str, config: str) -> dict:
    described = wait_for(
        lambda: sagemaker.describe_endpoint(EndpointName=name),
        lambda d: d["EndpointStatus"] not in ("Creating", "Updating") and d["EndpointConfigName"] == config,
    )
    assert described["EndpointStatus"] == "InService", described.get("FailureReason")
    assert described["EndpointConfigName"] == config
    return described


def _row(dataset) -> str:
    with open(dataset) as handle:
        return handle.readline().strip().split(",", 1)[1]


def _workers(pid: int) -> int:
    """The serve process's worker processes (Granian forks one per worker)."""
    children = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()  # noqa: SIM115 - /proc files are read at once
            except OSError:
                continue
            if stat.rsplit(")", 1)[1].split()[1] == str(pid):
                children += 1
    return children


def test_a_serverless_endpoint_serves_with_at_most_max_concurrency_workers(model_cloud, dataset):
    sagemaker = model_cloud.client("sagemaker")
    variant = _serverless(concurrency=1, ProvisionedConcurrency=1)
    sagemaker.create_endpoint_config(EndpointConfigName="serverless-1", ProductionVariants=[variant], KmsKeyId=KEY)
    assert sagemaker.describe_endpoint_config(EndpointConfigName="serverless-1")["ProductionVariants"] == [variant]
    sagemaker.create_endpoint(EndpointName="scoring", EndpointConfigName="serverless-1")

    described = _in_service(sagemaker, "scoring", "serverless-1")
    [summary] = described["ProductionVariants"]
    assert summary["CurrentServerlessConfig"] == summary["DesiredServerlessConfig"] == variant["ServerlessConfig"]
    assert "CurrentInstanceCount" not in summary and "DesiredInstanceCount" not in summary

    answer = model_cloud.client("sagemaker-runtime").invoke_endpoint(
        EndpointName="scoring", ContentType="text/csv", Body=_row(dataset)
    )
    assert answer["InvokedProductionVariant"] == "AllTraffic"
    [prediction] = json.loads(answer["Body"].read())["predictions"]
    assert prediction["predicted_label"] in (0, 1)

    local = model_cloud.sagemaker.store.get("endpoints", "scoring")["local"]
    assert httpx.get(f"{local['url']}/execution-parameters").json()["MaxConcurrentTransforms"] == 1
    assert _workers(local["pid"]) == 1


def test_a_serverless_endpoint_updates_blue_green_all_at_once(model_cloud, dataset):
    sagemaker = model_cloud.client("sagemaker")
    sagemaker.create_endpoint_config(EndpointConfigName="small", ProductionVariants=[_serverless(concurrency=1)])
    sagemaker.create_endpoint(EndpointName="scoring", EndpointConfigName="small")
    _in_service(sagemaker, "scoring", "small")
    blue = model_cloud.sagemaker.store.get("endpoints", "scoring")["local"]

    bigger = _serverless(memory=3072, concurrency=2)
    sagemaker.create_endpoint_config(EndpointConfigName="bigger", ProductionVariants=[bigger])
    deployment = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
            "TerminationWaitInSeconds": 0,
            "MaximumExecutionTimeoutInSeconds": 600,
        }
    }
    sagemaker.update_endpoint(EndpointName="scoring", EndpointConfigName="bigger", DeploymentConfig=deployment)

    described = _in_service(sagemaker, "scoring", "bigger")
    assert described["ProductionVariants"][0]["DesiredServerlessConfig"] == bigger["ServerlessConfig"]
    assert described["LastDeploymentConfig"] == deployment
    assert "FailureReason" not in described and "PendingDeploymentSummary" not in described
    green = model_cloud.sagemaker.store.get("endpoints", "scoring")["local"]
    assert green["pid"] != blue["pid"] and not endpoints.alive(blue["pid"])
    expected = min(2, os.cpu_count() or 1)
    assert httpx.get(f"{green['url']}/execution-parameters").json()["MaxConcurrentTransforms"] == expected
    runtime = model_cloud.client("sagemaker-runtime")
    assert runtime.invoke_endpoint(EndpointName="scoring", ContentType="text/csv", Body=_row(dataset))["Body"].read()

    # The guide forbids only the other direction: a serverless endpoint may become instance-based.
    sagemaker.create_endpoint_config(EndpointConfigName="instances", ProductionVariants=[_instances()])
    sagemaker.update_endpoint(EndpointName="scoring", EndpointConfigName="instances")
    described = _in_service(sagemaker, "scoring", "instances")
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == 1


def test_an_instance_based_endpoint_cannot_become_serverless(model_cloud):
    sagemaker = model_cloud.client("sagemaker")
    sagemaker.create_endpoint_config(EndpointConfigName="instances", ProductionVariants=[_instances()])
    sagemaker.create_endpoint(EndpointName="realtime", EndpointConfigName="instances")
    _in_service(sagemaker, "realtime", "instances")
    pid = model_cloud.sagemaker.store.get("endpoints", "realtime")["local"]["pid"]
    sagemaker.create_endpoint_config(EndpointConfigName="serverless", ProductionVariants=[_serverless()])

    with pytest.raises(botocore.exceptions.ClientError) as refused:
        sagemaker.update_endpoint(EndpointName="realtime", EndpointConfigName="serverless")
    assert refused.value.response["Error"] == {"Code": "ValidationException", "Message": UPDATE_TO_SERVERLESS}
    described = sagemaker.describe_endpoint(EndpointName="realtime")
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "instances")
    assert endpoints.alive(pid)


@pytest.mark.parametrize(
    ("variants", "extra", "message"),
    [
        ([{**_instances(), "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}], {}, "both"),
        ([{"VariantName": "AllTraffic", "ModelName": "fixture-model"}], {}, "either InstanceType or ServerlessConfig"),
        ([_serverless(memory=1536)], {}, "1 GB increments"),
        ([_serverless(concurrency=2, ProvisionedConcurrency=3)], {}, "less than or equal to MaxConcurrency"),
        ([_serverless(), {**_serverless(), "VariantName": "Second"}], {}, "single production variant"),
        (
            [_serverless()],
            {
                "DataCaptureConfig": {
                    "InitialSamplingPercentage": 100,
                    "DestinationS3Uri": "s3://fixture-models/capture",
                    "CaptureOptions": [{"CaptureMode": "Input"}],
                }
            },
            "Data capture is not supported for serverless endpoints",
        ),
    ],
    ids=["both", "neither", "memory", "provisioned", "two-variants", "data-capture"],
)
def test_invalid_serverless_configurations_are_rejected(model_cloud, variants, extra, message):
    sagemaker = model_cloud.client("sagemaker")
    with pytest.raises(botocore.exceptions.ClientError) as rejected:
        sagemaker.create_endpoint_config(EndpointConfigName="bad", ProductionVariants=variants, **extra)
    assert rejected.value.response["Error"]["Code"] == "ValidationException"
    assert message in rejected.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError):
        sagemaker.describe_endpoint_config(EndpointConfigName="bad")
