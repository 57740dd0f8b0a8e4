"""The reasons the pipeline's constructs give for the cdk-nag and checkov findings they accept, and how a
finding id names a resource another stack exports. Each construct acknowledges its own findings with these."""

from __future__ import annotations

from aws_cdk import Stack
from constructs import IConstruct

SAGEMAKER_ARN = "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>"
PER_RUN_NAMES = "job names are generated per run by the prepare-run function, so they are matched by type"
S3_GRANT = "CDK's S3 grant action groups, on the stated prefixes only"
KMS_GRANT = "KMS data-key actions, on the pipeline's own key only"
SCALABLE_TARGETS = (
    "Scalable-target ARNs carry an id Application Auto Scaling generates; the statement is limited to "
    "SageMaker variants by application-autoscaling:service-namespace and scalable-dimension"
)
TRACKING_ALARMS = "Target tracking names its alarms TargetTracking-endpoint/<endpoint>/<generated suffix>"
XRAY_AND_LIST = (
    "X-Ray trace segments and sagemaker:ListEndpoints support no resource-level permissions; "
    "cloudwatch:PutMetricData and ecr:GetAuthorizationToken neither (PutMetricData is limited by namespace)"
)
MANAGED_BASIC_ROLE = (
    "AWSLambdaBasicExecutionRole grants only CloudWatch Logs writes, to the function's own "
    "explicit, encrypted, retained log group"
)
NO_VPC = "The functions call only AWS APIs over TLS with IAM auth; the pipeline owns no VPC to place them in"
NO_RESERVED_CONCURRENCY = (
    "Reserving concurrency would take capacity from the account's shared pool; invocations "
    "are one per execution step, far below any limit"
)
CDK_INLINE = "CDK grants produce per-role policies scoped to this stack's resources; managed policies would be shared"
SYNCHRONOUS = "Invoked synchronously by a state machine, which retries and catches its errors"
CUSTOM_RESOURCE = "A CloudFormation custom resource: CloudFormation reports its failure"
PLAIN_ENVIRONMENT = (
    "The environment holds bucket and endpoint names and the run defaults, no credential (detect-secrets' "
    "entropy heuristic); the functions get credentials from their roles"
)
RUNTIME = (
    "python3.13 matches the pinned AWS-managed Powertools layer (AWSLambdaPowertoolsPythonV3-python313); "
    "raise both together"
)
INVOKE_GRANT = "CDK's LambdaInvoke grant: the function and its versions"
PACKAGE_VERSIONS = "Model package versions are numbered by SageMaker within the pipeline's own group"

# The storage stack's exports as a finding id names them (CDK's export names: logical id and hash).
ARTIFACTS_BUCKET_ARN = "ExportsOutputFnGetAttArtifactsBucket88671897Arn65502B7F"
DATA_BUCKET_ARN = "ExportsOutputFnGetAttDataBucketE6B0FAA8Arn3FF3A9FF"


def imported(resource: IConstruct, export: str) -> str:
    """`<producing stack>:<export>`: how cdk-nag writes an ARN another stack exports."""
    return f"{Stack.of(resource).stack_name}:{export}"


def s3_and_kms() -> tuple[tuple[str, str], ...]:
    """The action groups of CDK's S3 and KMS grants."""
    return (
        *(
            (f"AwsSolutions-IAM5[Action::s3:{group}]", S3_GRANT)
            for group in ("GetObject*", "GetBucket*", "List*", "DeleteObject*", "Abort*")
        ),
        *((f"AwsSolutions-IAM5[Action::kms:{group}]", KMS_GRANT) for group in ("GenerateDataKey*", "ReEncrypt*")),
    )
