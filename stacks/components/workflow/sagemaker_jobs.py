"""The SageMaker job requests of the workflow, as Amazon States Language.

The CDK has no processing or tuning task, so every job is a `CustomState` with the API's own
PascalCase request: what a reviewer reads here is what SageMaker receives. Every value that varies per
run comes from `$.run`, the plan that the prepare-run function validated. The tests check each
request against botocore's SageMaker service model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stacks.support.documents import RUN

SYNC = "arn:aws:states:::sagemaker:{}.sync"
PROCESSING_ROOT = "/opt/ml/processing"
SPLITS = ("train", "validation", "test", "baseline")


@dataclass(frozen=True)
class JobSettings:
    """What every job request shares, resolved at synth."""

    image_uri: str
    role_arn: str
    key_arn: str
    metric_definitions: list[dict[str, str]]
    processing_max_runtime_seconds: int
    warm_pool_seconds: int
    training_environment: dict[str, str]


def _s3_input(name: str, uri_path: str, local: str) -> dict[str, Any]:
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri.$": uri_path,
            "LocalPath": f"{PROCESSING_ROOT}/{local}",
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
        },
    }


def _s3_output(name: str) -> dict[str, Any]:
    return {
        "OutputName": name,
        "S3Output": {
            "S3Uri.$": RUN(f"s3.{name}"),
            "LocalPath": f"{PROCESSING_ROOT}/{name}",
            "S3UploadMode": "EndOfJob",
        },
    }


def _processing_job(
    settings: JobSettings,
    *,
    name_path: str,
    command: str,
    arguments_path: str,
    inputs: list[dict],
    outputs: list[str],
    scales_out: bool,
) -> dict[str, Any]:
    # Only a job that shards its input gains from more instances; the others run once, on one.
    count = {"InstanceCount.$": RUN("instances.processing.InstanceCount")} if scales_out else {"InstanceCount": 1}
    return {
        "ProcessingJobName.$": name_path,
        "RoleArn": settings.role_arn,
        "AppSpecification": {
            "ImageUri": settings.image_uri,
            "ContainerEntrypoint": ["python3", "-m", "training_code", command],
            "ContainerArguments.$": arguments_path,
        },
        "ProcessingResources": {
            "ClusterConfig": {
                **count,
                "InstanceType.$": RUN("instances.processing.InstanceType"),
                "VolumeSizeInGB.$": RUN("instances.processing.VolumeSizeInGB"),
                "VolumeKmsKeyId": settings.key_arn,
            }
        },
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": {"KmsKeyId": settings.key_arn, "Outputs": [_s3_output(o) for o in outputs]},
        "StoppingCondition": {"MaxRuntimeInSeconds": settings.processing_max_runtime_seconds},
        "Tags": [{"Key": "pipeline-run", "Value.$": RUN("id")}],
    }


def processing_request(settings: JobSettings) -> dict[str, Any]:
    """Split the raw dataset into train/validation/test and write the baseline statistics."""
    return _processing_job(
        settings,
        name_path=RUN("jobs.process"),
        command="process",
        arguments_path=RUN("processing.arguments"),
        inputs=[_s3_input("raw", RUN("s3.input"), "input")],
        outputs=list(SPLITS),
        scales_out=True,
    )


def evaluation_request(settings: JobSettings) -> dict[str, Any]:
    """Score the trained model on the held-out test split; writes evaluation.json."""
    return _processing_job(
        settings,
        name_path=RUN("jobs.evaluate"),
        command="evaluate",
        arguments_path=RUN("evaluation.arguments"),
        inputs=[_s3_input("model", "$.results.model.artifact", "model"), _s3_input("test", RUN("s3.test"), "test")],
        outputs=["evaluation"],
        scales_out=False,  # one model scored on one test split
    )


def _channels() -> list[dict[str, Any]]:
    return [
        {
            "ChannelName": channel,
            "ContentType": "text/csv",
            "InputMode": "File",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri.$": RUN(f"s3.{channel}"),
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
        }
        for channel in ("train", "validation")
    ]


def _training_definition(settings: JobSettings) -> dict[str, Any]:
    """What a training job and each training job of a tuning job share."""
    return {
        "AlgorithmSpecification": {
            "TrainingImage": settings.image_uri,
            "TrainingInputMode": "File",
            "MetricDefinitions": settings.metric_definitions,
        },
        "RoleArn": settings.role_arn,
        "Environment": settings.training_environment,
        "InputDataConfig": _channels(),
        "OutputDataConfig": {"S3OutputPath.$": RUN("s3.models"), "KmsKeyId": settings.key_arn},
        "StoppingCondition.$": RUN("training.stopping_condition"),
        "EnableManagedSpotTraining.$": RUN("training.use_spot"),
        # Spot interruptions and restarts resume from here instead of starting over.
        "CheckpointConfig": {"S3Uri.$": RUN("s3.checkpoints"), "LocalPath": "/opt/ml/checkpoints"},
        "EnableInterContainerTrafficEncryption": True,
    }


def _resource_config(settings: JobSettings, *, warm_pool: bool) -> dict[str, Any]:
    config = {
        "InstanceType.$": RUN("instances.training.InstanceType"),
        "InstanceCount.$": RUN("instances.training.InstanceCount"),
        "VolumeSizeInGB.$": RUN("instances.training.VolumeSizeInGB"),
        "VolumeKmsKeyId": settings.key_arn,
    }
    if warm_pool and settings.warm_pool_seconds:
        config["KeepAlivePeriodInSeconds"] = settings.warm_pool_seconds
    return config


def training_request(settings: JobSettings) -> dict[str, Any]:
    return {
        "TrainingJobName.$": RUN("jobs.train"),
        "HyperParameters.$": RUN("hyperparameters"),
        **_training_definition(settings),
        "ResourceConfig": _resource_config(settings, warm_pool=True),
        "Tags": [{"Key": "pipeline-run", "Value.$": RUN("id")}],
    }


def tuning_request(settings: JobSettings) -> dict[str, Any]:
    return {
        "HyperParameterTuningJobName.$": RUN("jobs.tune"),
        "HyperParameterTuningJobConfig": {
            "Strategy.$": RUN("tuning.strategy"),
            "HyperParameterTuningJobObjective.$": RUN("tuning.objective"),
            "ResourceLimits.$": RUN("tuning.resource_limits"),
            "ParameterRanges.$": RUN("tuning.ranges"),
            "TrainingJobEarlyStoppingType.$": RUN("tuning.early_stopping"),
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters.$": RUN("tuning.static_hyperparameters"),
            **_training_definition(settings),
            "ResourceConfig": _resource_config(settings, warm_pool=False),
        },
        "Tags": [{"Key": "pipeline-run", "Value.$": RUN("id")}],
    }


def job_state(
    request: dict[str, Any],
    *,
    api: str,
    result_selector: dict[str, str],
    result_path: str,
    timeout_seconds: int,
    comment: str,
) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Comment": comment,
        "Resource": SYNC.format(api),
        "Parameters": request,
        "ResultSelector": result_selector,
        "ResultPath": result_path,
        "TimeoutSeconds": timeout_seconds,
    }
