"""Builders shared by the failure handler's tests (a uniquely named module, so it
cannot clash with other tests' helpers on sys.path)."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from failure_handling.aws_clients import AwsClients
from failure_handling.settings import Settings, load_settings

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account
BUCKET = "pipeline-artifacts"
PREFIX = "failures/"
TOPIC_NAME = "pipeline-failures"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC_NAME}"
STATE_MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:ml-pipeline"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/sagemaker-execution"
FUNCTION_DIR = Path(__file__).resolve().parents[3] / "lambdas" / "failure_handler"


def function_environment() -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "FAILURE_RECORD_BUCKET": BUCKET,
        "FAILURE_RECORD_PREFIX": PREFIX,
        "NOTIFICATION_TOPIC_ARN": TOPIC_ARN,
        "PIPELINE_NAME": "churn-model",
        "ENVIRONMENT_NAME": "staging",
        "POWERTOOLS_SERVICE_NAME": "failure-handler",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


def load_handler_module() -> ModuleType:
    # Loaded under a unique name: other functions also have a handler.py.
    spec = importlib.util.spec_from_file_location("failure_handler_entry", FUNCTION_DIR / "handler.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def execution_arn(name: str) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:execution:ml-pipeline:{name}"


def catch_event(
    step: str,
    job_type: str,
    job_name: str | None,
    error: str = "States.TaskFailed",
    cause: str = "",
    execution: str = "run-1",
    **job_extra: str,
) -> dict[str, Any]:
    return {
        "source": "catch",
        "execution_arn": execution_arn(execution),
        "execution_name": execution,
        "state_machine_arn": STATE_MACHINE_ARN,
        "step": step,
        "job": {"type": job_type, "name": job_name, **job_extra},
        "error": {"Error": error, "Cause": cause},
        "input": {"run_id": execution, "dataset": "s3://data/train.csv"},
    }


def backstop_event(
    execution: str, status: str = "FAILED", error: str | None = "States.TaskFailed", cause: str | None = "boom"
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "315c1398-40ff-a850-213b-158f73e60175",
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": ACCOUNT,
        "time": "2026-11-26T04:00:00Z",
        "region": REGION,
        "resources": [execution_arn(execution)],
        "detail": {
            "executionArn": execution_arn(execution),
            "stateMachineArn": STATE_MACHINE_ARN,
            "name": execution,
            "status": status,
            "startDate": 1764129600000,
            "stopDate": 1764129660000,
            "input": json.dumps({"run_id": execution}),
            "output": None,
            "error": error,
            "cause": cause,
        },
    }


@dataclass
class AwsWorld:
    """Real moto resources: the bucket, the topic and a queue that reads it back."""

    region: str
    queue_url: str

    @classmethod
    def create(cls, region: str) -> AwsWorld:
        s3 = boto3.client("s3", region_name=region)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": region})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        queue_url = cls.subscribe_queue(region)
        return cls(region=region, queue_url=queue_url)

    @staticmethod
    def subscribe_queue(region: str) -> str:
        sns = boto3.client("sns", region_name=region)
        sqs = boto3.client("sqs", region_name=region)
        topic_arn = sns.create_topic(Name=TOPIC_NAME)["TopicArn"]
        queue_url = sqs.create_queue(QueueName="failure-mail")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        return queue_url

    def settings(self) -> Settings:
        return load_settings()

    def clients(self) -> AwsClients:
        return AwsClients(self.region)

    def messages(self) -> list[dict[str, Any]]:
        """Every SNS message delivered so far, as SNS envelopes (Subject, Message)."""
        sqs = boto3.client("sqs", region_name=self.region)
        received: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return received
            for message in batch:
                received.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def record(self, key: str) -> dict[str, Any]:
        body = boto3.client("s3", region_name=self.region).get_object(Bucket=BUCKET, Key=key)["Body"]
        return json.loads(body.read())

    def record_versions(self, key: str) -> int:
        s3 = boto3.client("s3", region_name=self.region)
        return len(s3.list_object_versions(Bucket=BUCKET, Prefix=key).get("Versions", []))


def sagemaker_backend() -> Any:
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[ACCOUNT][REGION]


def create_training_job(name: str, status: str, failure_reason: str | None = None) -> None:
    boto3.client("sagemaker", region_name=REGION).create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={
            "TrainingImage": "123.dkr.ecr.eu-west-1.amazonaws.com/train:1",
            "TrainingInputMode": "File",
        },
        RoleArn=ROLE_ARN,
        OutputDataConfig={"S3OutputPath": "s3://pipeline-artifacts/models/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    # moto completes every job at once and has no API to fail one: set it directly.
    job = sagemaker_backend().training_jobs[name]
    job.training_job_status = status
    job.failure_reason = failure_reason


def create_processing_job(name: str, status: str, failure_reason: str | None = None) -> None:
    boto3.client("sagemaker", region_name=REGION).create_processing_job(
        ProcessingJobName=name,
        ProcessingResources={
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10}
        },
        AppSpecification={"ImageUri": "123.dkr.ecr.eu-west-1.amazonaws.com/process:1"},
        RoleArn=ROLE_ARN,
    )
    job = sagemaker_backend().processing_jobs[name]
    job.processing_job_status = status
    job.failure_reason = failure_reason


def create_endpoint(name: str, status: str, failure_reason: str | None = None) -> None:
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    sagemaker.create_model(
        ModelName=f"{name}-model",
        PrimaryContainer={"Image": "123.dkr.ecr.eu-west-1.amazonaws.com/serve:1"},
        ExecutionRoleArn=ROLE_ARN,
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{name}-model",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")
    endpoint = sagemaker_backend().endpoints[name]
    endpoint.endpoint_status = status
    endpoint.failure_reason = failure_reason


def endpoint_exists(name: str) -> bool:
    return name in sagemaker_backend().endpoints
