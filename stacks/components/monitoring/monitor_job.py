"""The monitoring processing job's request (ASL): the project's own container, `monitor` entry point.

The planner (lambdas/plan_monitoring) chooses the inputs (this period's captures, the serving model's
baseline and evaluation, ground truth when there is some) and the arguments (the configured thresholds).
"""

from __future__ import annotations

from typing import Any

from stacks.config import ProcessingConfig

SYNC = "arn:aws:states:::sagemaker:createProcessingJob.sync"
OUTPUT_PATH = "/opt/ml/processing/monitoring"


def monitor_request(*, image_uri: str, role_arn: str, key_arn: str, processing: ProcessingConfig) -> dict[str, Any]:
    return {
        "ProcessingJobName.$": "$.monitoring.jobs.monitor",
        "RoleArn": role_arn,
        "AppSpecification": {
            "ImageUri": image_uri,
            "ContainerEntrypoint": ["python3", "-m", "training_code", "monitor"],
            "ContainerArguments.$": "$.monitoring.arguments",
        },
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": processing.instance_type,
                "VolumeSizeInGB": processing.volume_size_gb,
                "VolumeKmsKeyId": key_arn,
            }
        },
        "ProcessingInputs.$": "$.monitoring.inputs",
        "ProcessingOutputConfig": {
            "KmsKeyId": key_arn,
            "Outputs": [
                {
                    "OutputName": "monitoring",
                    "S3Output": {
                        "S3Uri.$": "$.monitoring.s3.output",
                        "LocalPath": OUTPUT_PATH,
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ],
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": processing.max_runtime_seconds},
        "Tags": [{"Key": "pipeline-monitoring", "Value.$": "$.monitoring.id"}],
    }
