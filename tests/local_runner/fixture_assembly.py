"""A small hand-written cloud assembly that uses the integrations the way the real pipeline does, and a
trained model (`model_artifact`, `model_cloud`) for tests of hosting and batch transform."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.shared_build import built_once
from training_code.metrics import METRIC_DEFINITIONS

FIXTURES = Path(__file__).parent / "fixtures"
PY = sys.executable

ROLE = {"Fn::GetAtt": ["SageMakerRole", "Arn"]}


def engine_role(name: str | None = None) -> dict:
    """A role that may do anything. Hand-written templates test the engine, not permissions (the synthesized
    templates' permissions are checked in test_permissions.py); the local run denies a role it has no
    policies for, as AWS would."""
    allow_all = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    properties = {"Policies": [{"PolicyName": "engine", "PolicyDocument": allow_all}]}
    if name:
        properties["RoleName"] = name
    return {"Type": "AWS::IAM::Role", "Properties": properties}


BUCKET = {"Fn::ImportValue": "Storage:DataBucketName"}


def _join(*parts):
    return {"Fn::Join": ["", list(parts)]}


def definition(max_jobs: int = 4, parallel: int = 2) -> dict:
    """The ASL as CDK would write it, with `__TOKEN__` placeholders for the template's tokens."""
    s3 = "s3://__BUCKET__"
    training_definition = {
        "StaticHyperParameters": {"algorithm.$": "$.algorithm", "objective": "binary:logistic", "num_round": "20"},
        "AlgorithmSpecification": {
            "TrainingImage": "__ACCOUNT__.dkr.ecr.__REGION__.amazonaws.com/training:latest",
            "TrainingInputMode": "File",
            "MetricDefinitions": METRIC_DEFINITIONS,
        },
        "RoleArn": "__ROLE__",
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri.$": f"States.Format('{s3}/runs/{{}}/processed/train', $$.Execution.Name)",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            },
            {
                "ChannelName": "validation",
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri.$": f"States.Format('{s3}/runs/{{}}/processed/validation', $$.Execution.Name)",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            },
        ],
        "OutputDataConfig": {"S3OutputPath.$": f"States.Format('{s3}/runs/{{}}/models/', $$.Execution.Name)"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    sagemaker_retry = [
        {
            "ErrorEquals": ["SageMaker.AmazonSageMakerException"],
            "IntervalSeconds": 2,
            "MaxAttempts": 3,
            "BackoffRate": 2,
        },
    ]
    fail_catch = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "HandleFailure"}]
    states = {
        "Validate": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "__VALIDATE_ARN__", "Payload.$": "$"},
            "ResultSelector": {"input.$": "$.Payload"},
            "OutputPath": "$.input",
            "Retry": [
                {
                    "ErrorEquals": ["Lambda.ServiceException", "Lambda.TooManyRequestsException"],
                    "IntervalSeconds": 1,
                    "MaxAttempts": 2,
                }
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "InvalidInput"}],
            "Next": "Process",
        },
        "InvalidInput": {"Type": "Fail", "Error": "InvalidInput", "CausePath": "$.error.Cause"},
        "Process": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sagemaker:createProcessingJob.sync",
            "Parameters": {
                "ProcessingJobName.$": "States.Format('proc-{}', $$.Execution.Name)",
                "RoleArn": "__ROLE__",
                "AppSpecification": {
                    "ImageUri": "__ACCOUNT__.dkr.ecr.__REGION__.amazonaws.com/training:latest",
                    "ContainerEntrypoint": ["python3", "-m", "training_code", "process"],
                },
                "ProcessingResources": {
                    "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10}
                },
                "ProcessingInputs": [
                    {
                        "InputName": "raw",
                        "S3Input": {
                            "S3Uri.$": "$.data_uri",
                            "LocalPath": "/opt/ml/processing/input",
                            "S3DataType": "S3Prefix",
                            "S3InputMode": "File",
                        },
                    }
                ],
                "ProcessingOutputConfig": {
                    "Outputs": [
                        {
                            "OutputName": n,
                            "S3Output": {
                                "S3Uri.$": f"States.Format('{s3}/runs/{{}}/processed/{n}', $$.Execution.Name)",
                                "LocalPath": f"/opt/ml/processing/{n}",
                                "S3UploadMode": "EndOfJob",
                            },
                        }
                        for n in ("train", "validation", "test", "baseline")
                    ]
                },
                "StoppingCondition": {"MaxRuntimeInSeconds": 600},
            },
            "ResultPath": "$.processing",
            "ResultSelector": {"status.$": "$.ProcessingJobStatus"},
            "Retry": sagemaker_retry,
            "Catch": fail_catch,
            "Next": "Tune",
        },
        "Tune": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync",
            "Parameters": {
                "HyperParameterTuningJobName.$": (
                    "States.Format('hpo-{}', States.ArrayGetItem(States.StringSplit($$.Execution.Name, '-'), 0))"
                ),
                "HyperParameterTuningJobConfig": {
                    "Strategy": "Random",
                    "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:accuracy"},
                    "ResourceLimits": {"MaxNumberOfTrainingJobs": max_jobs, "MaxParallelTrainingJobs": parallel},
                    "ParameterRanges": {
                        "IntegerParameterRanges": [
                            {"Name": "max_depth", "MinValue": "2", "MaxValue": "6", "ScalingType": "Auto"}
                        ],
                        "ContinuousParameterRanges": [
                            {"Name": "eta", "MinValue": "0.05", "MaxValue": "0.5", "ScalingType": "Logarithmic"}
                        ],
                    },
                },
                "TrainingJobDefinition": training_definition,
            },
            "ResultSelector": {
                "name.$": "$.BestTrainingJob.TrainingJobName",
                "value.$": "$.BestTrainingJob.FinalHyperParameterTuningJobObjectiveMetric.Value",
                "model_data.$": (
                    f"States.Format('{s3}/runs/{{}}/models/{{}}/output/model.tar.gz', "
                    "$$.Execution.Name, $.BestTrainingJob.TrainingJobName)"
                ),
            },
            "ResultPath": "$.best",
            "Retry": sagemaker_retry,
            "Catch": fail_catch,
            "Next": "Gate",
        },
        "Gate": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.best.value", "NumericGreaterThanEqualsPath": "$.threshold", "Next": "Register"}
            ],
            "Default": "QualityGateFailed",
        },
        "QualityGateFailed": {
            "Type": "Fail",
            "Error": "QualityGateFailed",
            "Cause": "the best model is below the threshold",
        },
        "Register": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:sagemaker:createModelPackage",
            "Parameters": {
                "ModelPackageGroupName": "__GROUP__",
                "ModelApprovalStatus": "Approved",
                "InferenceSpecification": {
                    "Containers": [
                        {
                            "Image": "__ACCOUNT__.dkr.ecr.__REGION__.amazonaws.com/training:latest",
                            "ModelDataUrl.$": "$.best.model_data",
                        }
                    ],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["application/json"],
                },
            },
            "ResultSelector": {"arn.$": "$.ModelPackageArn"},
            "ResultPath": "$.package",
            "Catch": fail_catch,
            "Next": "CreateModel",
        },
        "CreateModel": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sagemaker:createModel",
            "Parameters": {
                "ModelName.$": "States.Format('model-{}', $$.Execution.Name)",
                "ExecutionRoleArn": "__ROLE__",
                "PrimaryContainer": {
                    "Image": "__ACCOUNT__.dkr.ecr.__REGION__.amazonaws.com/training:latest",
                    "ModelDataUrl.$": "$.best.model_data",
                },
            },
            "ResultPath": None,
            "Retry": sagemaker_retry,
            "Catch": fail_catch,
            "Next": "CreateConfig",
        },
        "CreateConfig": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sagemaker:createEndpointConfig",
            "Parameters": {
                "EndpointConfigName.$": "States.Format('config-{}', $$.Execution.Name)",
                "ProductionVariants": [
                    {
                        "VariantName": "AllTraffic",
                        "ModelName.$": "States.Format('model-{}', $$.Execution.Name)",
                        "InitialInstanceCount": 1,
                        "InstanceType": "ml.m5.large",
                    }
                ],
            },
            "ResultPath": None,
            "Catch": fail_catch,
            "Next": "FindEndpoint",
        },
        "FindEndpoint": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
            "Parameters": {"EndpointName": "fixture-endpoint"},
            "ResultPath": None,
            "Catch": [{"ErrorEquals": ["SageMaker.ValidationException"], "ResultPath": None, "Next": "CreateEndpoint"}],
            "Next": "UpdateEndpoint",
        },
        "CreateEndpoint": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sagemaker:createEndpoint",
            "Parameters": {
                "EndpointName": "fixture-endpoint",
                "EndpointConfigName.$": "States.Format('config-{}', $$.Execution.Name)",
            },
            "ResultPath": None,
            "Retry": sagemaker_retry,
            "Catch": fail_catch,
            "Next": "WaitEndpoint",
        },
        "UpdateEndpoint": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sagemaker:updateEndpoint",
            "Parameters": {
                "EndpointName": "fixture-endpoint",
                "EndpointConfigName.$": "States.Format('config-{}', $$.Execution.Name)",
            },
            "ResultPath": None,
            "Retry": sagemaker_retry,
            "Catch": fail_catch,
            "Next": "WaitEndpoint",
        },
        "WaitEndpoint": {"Type": "Wait", "Seconds": 30, "Next": "DescribeEndpoint"},
        "DescribeEndpoint": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
            "Parameters": {"EndpointName": "fixture-endpoint"},
            "ResultPath": "$.endpoint",
            "Catch": fail_catch,
            "Next": "EndpointReady",
        },
        "EndpointReady": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.endpoint.EndpointStatus", "StringEquals": "InService", "Next": "Done"},
                {"Variable": "$.endpoint.EndpointStatus", "StringEquals": "Failed", "Next": "EndpointFailed"},
            ],
            "Default": "WaitEndpoint",
        },
        "EndpointFailed": {"Type": "Fail", "Error": "EndpointFailed", "CausePath": "$.endpoint.FailureReason"},
        "Done": {"Type": "Succeed"},
        "HandleFailure": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
    }
    return {"StartAt": "Validate", "States": states}


_TOKENS = {
    "__BUCKET__": BUCKET,
    "__ROLE__": ROLE,
    "__VALIDATE_ARN__": {"Fn::GetAtt": ["ValidateFn", "Arn"]},
    "__GROUP__": {"Ref": "Registry"},
    "__ACCOUNT__": {"Ref": "AWS::AccountId"},
    "__REGION__": {"Ref": "AWS::Region"},
}


def _tokenize(text: str) -> dict:
    parts: list = []
    while text:
        positions = [(text.find(k), k) for k in _TOKENS if k in text]
        if not positions:
            parts.append(text)
            break
        index, key = min(positions)
        parts.append(text[:index])
        parts.append(_TOKENS[key])
        text = text[index + len(key) :]
    return _join(*[p for p in parts if p != ""])


def write_assembly(directory: Path, max_jobs: int = 4, parallel: int = 2) -> Path:
    """A cdk.out-like directory: a storage stack exporting the bucket, a pipeline stack with the state machine."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copytree(FIXTURES / "asset.validate", directory / "asset.validate", dirs_exist_ok=True)
    storage = {
        "Resources": {"DataBucket": {"Type": "AWS::S3::Bucket", "Properties": {}}},
        "Outputs": {
            "DataBucketName": {"Value": {"Ref": "DataBucket"}, "Export": {"Name": "Storage:DataBucketName"}},
        },
    }
    pipeline = {
        "Resources": {
            "SageMakerRole": engine_role(),
            "Registry": {
                "Type": "AWS::SageMaker::ModelPackageGroup",
                "Properties": {"ModelPackageGroupName": "fixture-models"},
            },
            "Alerts": {"Type": "AWS::SNS::Topic", "Properties": {}},
            "ValidateFn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Handler": "index.handler",
                    "Runtime": "python3.12",
                    "Environment": {"Variables": {"DATA_BUCKET": BUCKET}},
                },
                "Metadata": {"aws:asset:path": "asset.validate"},
            },
            "StateMachine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "RoleArn": {"Fn::GetAtt": ["SageMakerRole", "Arn"]},
                    "DefinitionString": _tokenize(json.dumps(definition(max_jobs, parallel))),
                },
            },
        }
    }
    (directory / "Storage.template.json").write_text(json.dumps(storage, indent=1))
    (directory / "Pipeline.template.json").write_text(json.dumps(pipeline, indent=1))
    return directory


def train_model(cloud, data_csv: Path, algorithm: str = "logistic-regression", bucket: str = "fixture-models") -> str:
    """Train `algorithm` on a label-first CSV through the cloud's local SageMaker; the model artifact's S3 URI."""
    import time

    from local_runner import s3

    s3.ensure_bucket(bucket)
    s3.upload_file(data_csv, f"s3://{bucket}/data/train.csv")
    sagemaker = cloud.client("sagemaker")
    sagemaker.create_training_job(
        TrainingJobName="fixture-train",
        AlgorithmSpecification={"TrainingImage": "local/training:latest", "TrainingInputMode": "File"},
        RoleArn="arn:aws:iam::123456789012:role/fixture",
        HyperParameters={"algorithm": algorithm},
        InputDataConfig=[
            {
                "ChannelName": "train",
                "ContentType": "text/csv",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/data/"}},
            }
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/models/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 300},
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        job = sagemaker.describe_training_job(TrainingJobName="fixture-train")
        if job["TrainingJobStatus"] == "Completed":
            return job["ModelArtifacts"]["S3ModelArtifacts"]
        if job["TrainingJobStatus"] != "InProgress":
            raise RuntimeError(f"fixture training failed: {job.get('FailureReason')}")
        time.sleep(0.2)
    raise TimeoutError("fixture training did not finish in 300 s")


MODEL_URI = "s3://fixture-models/artifact/model.tar.gz"


@pytest.fixture(scope="module", name="model_artifact")
def model_artifact_fixture(tmp_path_factory, dataset) -> bytes:
    """model.tar.gz of a logistic regression on the breast-cancer data, trained once per test run and shared by
    every module and worker: the hosting and transform tests that use it are not about the model."""
    from local_runner import LocalCloud, s3

    def train(directory: Path) -> None:
        with LocalCloud(directory / "state", persist=False) as cloud:
            bucket, key = s3.split_uri(train_model(cloud, dataset))
            (directory / "model.tar.gz").write_bytes(s3.client().get_object(Bucket=bucket, Key=key)["Body"].read())

    return (built_once(tmp_path_factory, "fixture-model", train) / "model.tar.gz").read_bytes()


@pytest.fixture(name="model_cloud")
def model_cloud_fixture(tmp_path, model_artifact):
    """A started LocalCloud whose SageMaker has model `fixture-model` (the artifact at MODEL_URI)."""
    from local_runner import LocalCloud, s3

    with LocalCloud(tmp_path / "state", persist=False, time_scale=0.02) as cloud:
        s3.ensure_bucket("fixture-models")
        bucket, key = s3.split_uri(MODEL_URI)
        s3.client().put_object(Bucket=bucket, Key=key, Body=model_artifact)
        cloud.client("sagemaker").create_model(
            ModelName="fixture-model",
            PrimaryContainer={
                "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/training:1",
                "ModelDataUrl": MODEL_URI,
            },
            ExecutionRoleArn="arn:aws:iam::123456789012:role/fixture",
        )
        try:
            yield cloud
        finally:
            cloud.sagemaker.stop_endpoints()


def wait_for(describe, until, timeout: float = 120) -> dict:
    """Poll a Describe* call until `until(response)`; the last response."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        response = describe()
        if until(response) or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


ROW = (
    "17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871,1.095,0.9053,8.589,153.4,0.006399,"
    "0.04904,0.05373,0.01587,0.03003,0.006193,25.38,17.33,184.6,2019,0.1622,0.6656,0.7119,0.2654,0.4601,0.1189"
)  # the first row's features, for invoking a fixture model


def endpoint_config(sagemaker, name: str, model: str = "fixture-model") -> None:
    """A one-variant instance endpoint config of `model`."""
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": model,
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
    }
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])


def settled(sagemaker, name: str) -> dict:
    """The endpoint's description once it is neither Creating nor Updating."""
    return wait_for(
        lambda: sagemaker.describe_endpoint(EndpointName=name),
        lambda d: d["EndpointStatus"] not in ("Creating", "Updating"),
    )
