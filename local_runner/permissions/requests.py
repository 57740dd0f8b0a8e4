"""What IAM authorizes for an API call: the action, the resource ARN and the request's condition keys,
plus the calls AWS makes implicitly on the caller's behalf and checks against the caller's policies.

Resource ARNs follow the Service Authorization Reference's formats; SageMaker puts lower-cased names in
its ARNs. Implicit checks, as the services document them:
* `iam:PassRole` (with `iam:PassedToService`) for every role a Create* request passes;
* KMS for SSE-KMS: `kms:GenerateDataKey` to write to, `kms:Decrypt` to read from an S3 bucket, SNS topic
  or SQS queue encrypted with a customer-managed key (`kms:ViaService` names the service);
* `kms:CreateGrant` (`kms:GrantIsForAWSResource`) for the keys of an endpoint config, as its caller (a job's
  keys are checked as the job's execution role when it starts: "the KMS key policy must grant permission to
  the IAM role that you specify in your CreateTrainingJob ... requests", SageMaker API reference);
* the EventBridge rules Step Functions manages for `.sync` jobs (see `sync_rule_requests`);
* Application Auto Scaling's prerequisites on the endpoint (see `autoscaling_requests`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from .policies import PolicyStore

# botocore service name -> IAM service prefix
_PREFIX = {
    "sagemaker-runtime": "sagemaker",
    "stepfunctions": "states",
}
# operations whose IAM action is not the operation's name
_ACTION = {
    ("s3", "HeadObject"): "GetObject",
    ("s3", "ListObjectsV2"): "ListBucket",
    ("s3", "ListObjects"): "ListBucket",
    ("s3", "HeadBucket"): "ListBucket",
    ("s3", "CreateMultipartUpload"): "PutObject",
    ("s3", "UploadPart"): "PutObject",
    ("s3", "CompleteMultipartUpload"): "PutObject",
    ("s3", "DeleteObjects"): "DeleteObject",
    ("lambda", "Invoke"): "InvokeFunction",
    ("lambda", "InvokeAsync"): "InvokeFunction",
}
# SageMaker request parameter naming a resource -> its ARN resource type
_SAGEMAKER_RESOURCES = (
    ("ProcessingJobName", "processing-job"),
    ("TrainingJobName", "training-job"),
    ("HyperParameterTuningJobName", "hyper-parameter-tuning-job"),
    ("TransformJobName", "transform-job"),
    ("EndpointName", "endpoint"),
    ("EndpointConfigName", "endpoint-config"),
    ("ModelName", "model"),
    ("ModelPackageGroupName", "model-package-group"),
    ("ModelPackageName", "model-package"),
    ("ModelPackageArn", "model-package"),
    ("ResourceArn", None),
)
# Create* requests that pass a role, and where the role sits in them
_PASSED_ROLES = {
    "CreateProcessingJob": [("RoleArn",)],
    "CreateTrainingJob": [("RoleArn",)],
    "CreateHyperParameterTuningJob": [
        ("TrainingJobDefinition", "RoleArn"),
        ("TrainingJobDefinitions", "*", "RoleArn"),
    ],
    "CreateModel": [("ExecutionRoleArn",)],
}
# SageMaker request keys that name a KMS key SageMaker will use through a grant
_SAGEMAKER_KEYS = ("KmsKeyId", "VolumeKmsKeyId")


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    reason: str = ""  # why AWS checks this one, for implicit calls


def action_name(service: str, operation: str) -> str:
    return f"{_PREFIX.get(service, service)}:{_ACTION.get((service, operation), operation)}"


def requests_for(service: str, operation: str, params: dict[str, Any], store: PolicyStore) -> list[Request]:
    """The authorization requests of one API call, explicit first."""
    action = action_name(service, operation)
    context = {"aws:SecureTransport": "true", "aws:RequestedRegion": store.region}
    builder = _BUILDERS.get(_PREFIX.get(service, service))
    resources = builder(operation, params, store) if builder else "*"
    resources = [resources] if isinstance(resources, str) else resources
    keys = {**context, **_service_context(service, operation, params)}
    found = [Request(action, resource, keys) for resource in resources]
    found += _implicit(service, operation, params, store, resources[0], context)
    return found


# -- resource ARNs per service -------------------------------------------------------
def _sagemaker(operation: str, params: dict[str, Any], store: PolicyStore) -> str:
    if operation == "CreateModelPackage" and params.get("ModelPackageGroupName"):
        # a versioned package: model-package/<group>/<version>, the version SageMaker assigns on creation
        group = params["ModelPackageGroupName"].rsplit("/", 1)[-1].lower()
        return f"arn:aws:sagemaker:{store.region}:{store.account}:model-package/{group}/*"
    for key, kind in _SAGEMAKER_RESOURCES:
        value = params.get(key)
        if isinstance(value, str) and value:
            if value.startswith("arn:"):
                return value
            if kind == "model-package":
                return f"arn:aws:sagemaker:{store.region}:{store.account}:model-package/{value.lower()}"
            return f"arn:aws:sagemaker:{store.region}:{store.account}:{kind}/{value.lower()}"
    return "*"


def _s3(operation: str, params: dict[str, Any], store: PolicyStore) -> str:
    bucket = params.get("Bucket")
    if not bucket:
        return "*"
    key = params.get("Key")
    return f"arn:aws:s3:::{bucket}/{key}" if key is not None else f"arn:aws:s3:::{bucket}"


def _sns(operation: str, params: dict[str, Any], store: PolicyStore) -> str:
    return params.get("TopicArn") or params.get("TargetArn") or "*"


def _sqs(operation: str, params: dict[str, Any], store: PolicyStore) -> str:
    return store.queue_arn(params["QueueUrl"]) if params.get("QueueUrl") else "*"


def _states(operation: str, params: dict[str, Any], store: PolicyStore) -> str:
    return params.get("executionArn") or params.get("stateMachineArn") or "*"


def _lambda(operation: str, params: dict[str, Any], store: PolicyStore) -> str:
    name = params.get("FunctionName", "")
    if name.startswith("arn:"):
        return name.split(":$LATEST")[0]
    return f"arn:aws:lambda:{store.region}:{store.account}:function:{name}" if name else "*"


def _cloudwatch(operation: str, params: dict[str, Any], store: PolicyStore) -> str | list[str]:
    """Alarm operations are authorized per alarm named; listing all alarms (or PutMetricData) on "*"."""
    names = [params["AlarmName"]] if params.get("AlarmName") else params.get("AlarmNames") or []
    return [f"arn:aws:cloudwatch:{store.region}:{store.account}:alarm:{name}" for name in names] or "*"


def _events(operation: str, params: dict[str, Any], store: PolicyStore) -> str:
    rule = params.get("Name") or params.get("Rule")
    return f"arn:aws:events:{store.region}:{store.account}:rule/{rule}" if rule else "*"


def _kms(operation: str, params: dict[str, Any], store: PolicyStore) -> str:
    return store.key_arn(params["KeyId"]) if params.get("KeyId") else "*"


def _autoscaling(operation: str, params: dict[str, Any], store: PolicyStore) -> str:
    """Scalable targets have ARNs with an id AWS assigns; locally a stable one derived from the resource id."""
    if not params.get("ResourceId"):
        return "*"
    digest = hashlib.sha256(f"{params.get('ServiceNamespace')}/{params['ResourceId']}".encode()).hexdigest()[:32]
    return f"arn:aws:application-autoscaling:{store.region}:{store.account}:scalable-target/{digest}"


_BUILDERS = {
    "application-autoscaling": _autoscaling,
    "sagemaker": _sagemaker,
    "s3": _s3,
    "sns": _sns,
    "sqs": _sqs,
    "states": _states,
    "lambda": _lambda,
    "cloudwatch": _cloudwatch,
    "events": _events,
    "kms": _kms,
}


def _service_context(service: str, operation: str, params: dict[str, Any]) -> dict[str, str]:
    """The service-specific condition keys the pipeline's policies use."""
    if service == "cloudwatch" and params.get("Namespace"):
        return {"cloudwatch:namespace": params["Namespace"]}
    if service == "application-autoscaling":
        keys = {}
        if params.get("ServiceNamespace"):
            keys["application-autoscaling:service-namespace"] = params["ServiceNamespace"]
        if params.get("ScalableDimension"):
            keys["application-autoscaling:scalable-dimension"] = params["ScalableDimension"]
        return keys
    return {}


# -- implicit calls ---------------------------------------------------------------------
def _implicit(
    service: str, operation: str, params: dict[str, Any], store: PolicyStore, resource: str, context: dict[str, str]
) -> list[Request]:
    found: list[Request] = []
    if service == "sagemaker":
        for path in _PASSED_ROLES.get(operation, []):
            for role in values_at(params, path):
                found.append(
                    Request(
                        "iam:PassRole",
                        role,
                        {**context, "iam:PassedToService": "sagemaker.amazonaws.com"},
                        f"{operation} passes the role {role} to SageMaker",
                    )
                )
        if operation == "CreateEndpointConfig":  # jobs' keys are checked as their execution role (jobs.py)
            for key in sorted(set(_nested_values(params, _SAGEMAKER_KEYS))):
                found += grant_requests(store, key, f"{operation} has SageMaker encrypt with {key}", context)
    elif service == "application-autoscaling":
        found += autoscaling_requests(store, operation, params)
    elif service == "s3" and operation in ("PutObject", "CreateMultipartUpload", "CopyObject", "UploadPart"):
        key = params.get("SSEKMSKeyId") or store.encryption.get(f"arn:aws:s3:::{params.get('Bucket')}")
        if key:
            found.append(_data_key(store, key, "s3", resource, "writes an SSE-KMS object", context))
    elif service == "s3" and operation == "GetObject":
        key = store.encryption.get(f"arn:aws:s3:::{params.get('Bucket')}")
        if key:
            found.append(_decrypt(store, key, "s3", resource, "reads an SSE-KMS object", context))
    elif service in ("sns", "sqs") and operation in ("Publish", "SendMessage", "SendMessageBatch"):
        key = store.encryption.get(resource)
        if key:
            found.append(_data_key(store, key, service, resource, f"{operation} to an encrypted {service}", context))
            found.append(_decrypt(store, key, service, resource, f"{operation} to an encrypted {service}", context))
    return found


def grant_requests(store: PolicyStore, key: str, reason: str, context: dict[str, str]) -> list[Request]:
    arn = store.key_arn(key)
    grant_context = {
        **context,
        "kms:GrantIsForAWSResource": "true",
        "kms:ViaService": f"sagemaker.{store.region}.amazonaws.com",
        "kms:CallerAccount": store.account,
    }
    return [Request("kms:CreateGrant", arn, grant_context, reason), Request("kms:DescribeKey", arn, context, reason)]


def _data_key(store: PolicyStore, key: str, service: str, resource: str, reason: str, context: dict) -> Request:
    return Request("kms:GenerateDataKey", store.key_arn(key), _via(store, service, context), f"{reason} ({resource})")


def _decrypt(store: PolicyStore, key: str, service: str, resource: str, reason: str, context: dict) -> Request:
    return Request("kms:Decrypt", store.key_arn(key), _via(store, service, context), f"{reason} ({resource})")


def _via(store: PolicyStore, service: str, context: dict[str, str]) -> dict[str, str]:
    return {**context, "kms:ViaService": f"{service}.{store.region}.amazonaws.com", "kms:CallerAccount": store.account}


def sync_rule_requests(store: PolicyStore, describe: str) -> list[Request]:
    """Step Functions' managed rule for a `.sync` SageMaker job type, which it puts as the state machine's role."""
    kind = {
        "DescribeProcessingJob": "ProcessingJobs",
        "DescribeTrainingJob": "TrainingJobs",
        "DescribeHyperParameterTuningJob": "TuningJobs",
        "DescribeTransformJob": "TransformJobs",
    }[describe]
    rule = f"arn:aws:events:{store.region}:{store.account}:rule/StepFunctionsGetEventsForSageMaker{kind}Rule"
    reason = f"Step Functions manages the EventBridge rule of .sync {kind}"
    return [Request(a, rule, {}, reason) for a in ("events:PutTargets", "events:PutRule", "events:DescribeRule")]


def autoscaling_requests(store: PolicyStore, operation: str, params: dict[str, Any]) -> list[Request]:
    """What Application Auto Scaling does with the caller's permissions for a SageMaker variant (Application
    Auto Scaling user guide, "Amazon SageMaker AI and Application Auto Scaling"): registering a variant needs
    DescribeEndpoint, DescribeEndpointConfig and UpdateEndpointWeightsAndCapacities on it and, the first time,
    the service-linked role; a target tracking policy creates and deletes its own CloudWatch alarms."""
    if params.get("ServiceNamespace") != "sagemaker":
        return []
    resource_id = params.get("ResourceId", "")
    endpoint = resource_id.split("/")[1].lower() if resource_id.count("/") >= 1 else "*"
    arn = f"arn:aws:sagemaker:{store.region}:{store.account}:endpoint/{endpoint}"
    if operation == "RegisterScalableTarget":
        reason = "Application Auto Scaling registers a SageMaker variant with the caller's permissions"
        linked = (
            f"arn:aws:iam::{store.account}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
            "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
        )
        return [
            Request("sagemaker:DescribeEndpoint", arn, {}, reason),
            Request(
                "sagemaker:DescribeEndpointConfig",
                f"arn:aws:sagemaker:{store.region}:{store.account}:endpoint-config/*",
                {},
                reason,
            ),
            Request("sagemaker:UpdateEndpointWeightsAndCapacities", arn, {}, reason),
            Request(
                "iam:CreateServiceLinkedRole",
                linked,
                {"iam:AWSServiceName": "sagemaker.application-autoscaling.amazonaws.com"},
                reason + " (its service-linked role, created on first use)",
            ),
        ]
    if operation == "PutScalingPolicy" and params.get("PolicyType") == "TargetTrackingScaling":
        alarm = f"arn:aws:cloudwatch:{store.region}:{store.account}:alarm:TargetTracking-{resource_id}-AlarmHigh-*"
        reason = "a target tracking policy creates, describes and deletes its own alarms as the caller"
        return [
            Request(a, alarm, {}, reason)
            for a in ("cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms")
        ]
    return []


def values_at(params: Any, path: tuple[str, ...]) -> list[str]:
    """The strings at `path` in a request ("*" steps into every item of a list)."""
    if not path:
        return [params] if isinstance(params, str) else []
    head, rest = path[0], path[1:]
    if head == "*":
        return [v for item in (params or []) for v in values_at(item, rest)]
    return values_at(params.get(head), rest) if isinstance(params, dict) else []


def _nested_values(params: Any, names: tuple[str, ...]) -> list[str]:
    found = []
    if isinstance(params, dict):
        for key, value in params.items():
            if key in names and isinstance(value, str) and value:
                found.append(value)
            else:
                found += _nested_values(value, names)
    elif isinstance(params, list):
        for item in params:
            found += _nested_values(item, names)
    return found
