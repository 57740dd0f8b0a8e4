"""moto resources as a deployed pipeline leaves them: buckets, a run's baseline, a capturing endpoint."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass

import boto3

REGION = "us-east-1"
ENDPOINT = "pipeline-endpoint"
RUN = "runs/run-1/"
CONFIG = {
    "enabled": True,
    "period": "hour",
    "drift": {"distance": 0.2, "missing_rate": 0.05, "type_rate": 0.01, "out_of_range_rate": 0.05, "min_rows": 100},
    "quality_tolerance": 0.05,
    "ground_truth_prefix": "ground-truth/",
    "metrics_namespace": "SageMakerPipeline/Monitoring",
    "retrain_on_drift": True,
    "retrain_data_prefix": "datasets/",
    "retrain_cooldown_hours": 24,
}
SCHEDULED = "2026-12-01T10:05:00Z"
CAPTURE_HOUR = "data-capture/pipeline-endpoint/AllTraffic/2026/12/01/09/"


@dataclass
class World:
    s3: object
    sagemaker: object
    stepfunctions: object
    pipeline_arn: str

    def put(self, bucket: str, key: str, body: str = "{}") -> None:
        self.s3.put_object(Bucket=bucket, Key=key, Body=body.encode())

    def serve(self, artifact: str = f"s3://artifacts/{RUN}models/job-1/output/model.tar.gz", capture: bool = True):
        self.sagemaker.create_model(
            ModelName="model-1",
            ExecutionRoleArn="arn:aws:iam::123456789012:role/sagemaker",
            PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/r:t", "ModelDataUrl": artifact},
        )
        config = {
            "EndpointConfigName": "config-1",
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "model-1",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 1,
                }
            ],
        }
        if capture:
            config["DataCaptureConfig"] = {
                "EnableCapture": True,
                "InitialSamplingPercentage": 100,
                "DestinationS3Uri": "s3://artifacts/data-capture/",
                "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            }
        self.sagemaker.create_endpoint_config(**config)
        self.sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="config-1")

    def retrained(self, name: str) -> None:
        self.stepfunctions.start_execution(stateMachineArn=self.pipeline_arn, name=name, input=json.dumps({}))


def create_world() -> World:
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in ("artifacts", "data"):
        s3.create_bucket(Bucket=bucket)
    stepfunctions = boto3.client("stepfunctions", region_name=REGION)
    machine = stepfunctions.create_state_machine(
        name="pipeline",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/states",
    )
    world = World(s3, boto3.client("sagemaker", region_name=REGION), stepfunctions, machine["stateMachineArn"])
    world.put("artifacts", f"{RUN}processing/baseline/statistics.json")
    world.put("artifacts", f"{RUN}evaluation/evaluation.json")
    return world


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
