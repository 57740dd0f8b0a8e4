"""The pipeline stack's accepted cdk-nag findings: each one granular, on its construct, with its reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Stack
from constructs import IConstruct

from stacks.checkov_skips import skip_checkov
from stacks.nag import acknowledge

if TYPE_CHECKING:
    from stacks.storage_stack import StorageStack

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


def acknowledge_pipeline_findings(stack: Stack, *, storage: StorageStack, endpoint_name: str) -> None:
    storage_stack = storage.stack_name
    group = storage.model_registry.group_name
    storage_exports = f"{storage_stack}:ExportsOutputFnGetAtt"
    artifacts = f"{storage_exports}ArtifactsBucket88671897Arn65502B7F"
    data = f"{storage_exports}DataBucketE6B0FAA8Arn3FF3A9FF"

    def node(path: str) -> IConstruct:
        current: IConstruct = stack
        for part in path.split("/"):
            current = current.node.find_child(part)
        return current

    acknowledge(
        stack,
        ("NIST.800.53.R5-IAMNoInlinePolicy", CDK_INLINE),
        ("NIST.800.53.R5-LambdaInsideVPC", NO_VPC),
        ("NIST.800.53.R5-LambdaConcurrency", NO_RESERVED_CONCURRENCY),
    )
    acknowledge(
        node("SageMakerExecution"),
        *_s3_and_kms(),
        (f"AwsSolutions-IAM5[Resource::{data}/*]", "SageMaker reads any dataset the run names in the data bucket"),
        (f"AwsSolutions-IAM5[Resource::{artifacts}/runs/*]", f"Each run writes under runs/<run id>/: {PER_RUN_NAMES}"),
        (
            f"AwsSolutions-IAM5[Resource::{artifacts}/data-capture/*]",
            "Endpoint data capture writes under data-capture/",
        ),
        (
            f"AwsSolutions-IAM5[Resource::{artifacts}/scoring/*]",
            f"Batch transform output goes under scoring/<run id>/: {PER_RUN_NAMES}",
        ),
        (
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/*]",
            "SageMaker names its job and endpoint log groups under /aws/sagemaker/",
        ),
        ("AwsSolutions-IAM5[Resource::*]", XRAY_AND_LIST),
    )
    approval = stack.node.try_find_child("Approval")
    for workflow in ["Workflow/StateMachine"] + (["Approval/StateMachine"] if approval else []):
        _acknowledge_workflow_role(node(workflow), group, artifacts, endpoint_name)
    scoring = stack.node.try_find_child("Scoring")
    if scoring:
        _acknowledge_scoring_role(node("Scoring/StateMachine"), group)
    functions = ["PrepareRun", "FailureHandler"] + (["PrepareScoring"] if scoring else [])
    for name in functions:
        acknowledge(
            node(f"Functions/{name}"),
            (
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                MANAGED_BASIC_ROLE,
            ),
            ("AwsSolutions-L1", RUNTIME),
            ("AwsSolutions-IAM5[Resource::*]", XRAY_AND_LIST),
        )
    for name in functions:
        skip_checkov(
            node(f"Functions/{name}"),
            ("CKV_AWS_117", NO_VPC),
            ("CKV_AWS_115", NO_RESERVED_CONCURRENCY),
            ("CKV_AWS_45", PLAIN_ENVIRONMENT),
        )
    for name in ("PrepareRun", "PrepareScoring") if scoring else ("PrepareRun",):
        skip_checkov(node(f"Functions/{name}"), ("CKV_AWS_116", SYNCHRONOUS))
        acknowledge(
            node(f"Functions/{name}"),
            ("NIST.800.53.R5-LambdaDLQ", SYNCHRONOUS),
        )
    acknowledge(
        node("Functions/FailureHandler"),
        *_s3_and_kms(),
        (f"AwsSolutions-IAM5[Resource::{artifacts}/failures/*]", "One failure record per execution under failures/"),
    )
    acknowledge(
        node("FailureHandlerInspectAndStop"),
        *(
            (
                f"AwsSolutions-IAM5[Resource::{SAGEMAKER_ARN}:{kind}/*]",
                f"Stops what a failed run left running: {PER_RUN_NAMES}",
            )
            for kind in ("processing-job", "training-job", "hyper-parameter-tuning-job", "transform-job")
        ),
        (
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
            "<WorkflowStateMachine8F1B1C15.Name>:*]",
            "History of this state machine's executions only",
        ),
        (
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
            "<ApprovalStateMachine5BF18DA7.Name>:*]",
            "History of the approval workflow's executions only",
        ),
        (
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
            "<ScoringStateMachineE8EB195E.Name>:*]",
            "History of the scoring workflow's executions only",
        ),
    )
    acknowledge(
        node("TrainingImage/PublishRole"),
        (
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "cdk-ecr-deployment's deploy-time copy function: logs only",
        ),
        (
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken supports no resource; pulls and pushes are on the two repositories only",
        ),
    )
    ecr_copy = next(c for c in stack.node.children if c.node.id.startswith("Custom::CDKECRDeployment"))
    acknowledge(ecr_copy, ("NIST.800.53.R5-LambdaDLQ", CUSTOM_RESOURCE))
    skip_checkov(
        ecr_copy,
        ("CKV_AWS_116", CUSTOM_RESOURCE),
        ("CKV_AWS_117", f"cdk-ecr-deployment's copy function. {NO_VPC}"),
        ("CKV_AWS_115", f"cdk-ecr-deployment's copy function, run once per deployment. {NO_RESERVED_CONCURRENCY}"),
    )


def _s3_and_kms() -> tuple[tuple[str, str], ...]:
    return (
        *(
            (f"AwsSolutions-IAM5[Action::s3:{group}]", S3_GRANT)
            for group in ("GetObject*", "GetBucket*", "List*", "DeleteObject*", "Abort*")
        ),
        *((f"AwsSolutions-IAM5[Action::kms:{group}]", KMS_GRANT) for group in ("GenerateDataKey*", "ReEncrypt*")),
    )


def _acknowledge_workflow_role(machine: IConstruct, group: str, artifacts: str, endpoint_name: str) -> None:
    acknowledge(
        machine,
        *(
            (f"AwsSolutions-IAM5[Resource::{SAGEMAKER_ARN}:{kind}/*]", f"{PER_RUN_NAMES}")
            for kind in ("processing-job", "training-job", "hyper-parameter-tuning-job", "model", "endpoint-config")
        ),
        (
            f"AwsSolutions-IAM5[Resource::{SAGEMAKER_ARN}:model-package/{group}/*]",
            "Model package versions are numbered by SageMaker within the pipeline's own group",
        ),
        (
            f"AwsSolutions-IAM5[Resource::{artifacts}/runs/*]",
            "ReadEvaluation reads runs/<run id>/evaluation/evaluation.json",
        ),
        (
            "AwsSolutions-IAM5[Resource::<FunctionsPrepareRun023AB14C.Arn>:*]",
            "CDK's LambdaInvoke grant: the function and its versions",
        ),
        ("AwsSolutions-IAM5[Resource::*]", XRAY_AND_LIST),
        (
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:application-autoscaling:<AWS::Region>:"
            "<AWS::AccountId>:scalable-target/*]",
            SCALABLE_TARGETS,
        ),
        (
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:"
            f"TargetTracking-endpoint/{endpoint_name}/*]",
            TRACKING_ALARMS,
        ),
        (
            "AwsSolutions-IAM5[Resource::<FunctionsFailureHandlerF246E445.Arn>:*]",
            "CDK's LambdaInvoke grant: the function and its versions",
        ),
    )


def _acknowledge_scoring_role(machine: IConstruct, group: str) -> None:
    acknowledge(
        machine,
        *(
            (f"AwsSolutions-IAM5[Resource::{SAGEMAKER_ARN}:{kind}/*]", PER_RUN_NAMES)
            for kind in ("transform-job", "model")
        ),
        (
            f"AwsSolutions-IAM5[Resource::{SAGEMAKER_ARN}:model-package/{group}/*]",
            "Model package versions are numbered by SageMaker within the pipeline's own group",
        ),
        (
            "AwsSolutions-IAM5[Resource::<FunctionsPrepareScoring8E732407.Arn>:*]",
            "CDK's LambdaInvoke grant: the function and its versions",
        ),
        (
            "AwsSolutions-IAM5[Resource::<FunctionsFailureHandlerF246E445.Arn>:*]",
            "CDK's LambdaInvoke grant: the function and its versions",
        ),
        ("AwsSolutions-IAM5[Resource::*]", "X-Ray trace segments and sagemaker:ListModelPackages support no resource"),
    )
