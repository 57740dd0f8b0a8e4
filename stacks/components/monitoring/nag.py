"""The monitoring's accepted cdk-nag findings and checkov skips: each granular, on its construct, with its reason."""

from __future__ import annotations

from aws_cdk import Stack

from stacks.checkov_skips import skip_checkov
from stacks.nag import acknowledge
from stacks.support.nag_reasons import (
    INVOKE_GRANT,
    KMS_GRANT,
    MANAGED_BASIC_ROLE,
    NO_RESERVED_CONCURRENCY,
    NO_VPC,
    PLAIN_ENVIRONMENT,
    RUNTIME,
    S3_GRANT,
    SAGEMAKER_ARN,
    SYNCHRONOUS,
)

XRAY = "X-Ray trace segments support no resource-level permissions"

STATES_ARN = "arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>"


def acknowledge_monitoring_findings(stack: Stack, *, storage_stack_name: str) -> None:
    exports = f"{storage_stack_name}:ExportsOutputFnGetAtt"
    artifacts = f"{exports}ArtifactsBucket88671897Arn65502B7F"
    data = f"{exports}DataBucketE6B0FAA8Arn3FF3A9FF"
    monitoring = stack.node.find_child("Monitoring")
    planner = monitoring.node.find_child("PlanMonitoring")
    machine = monitoring.node.find_child("Workflow").node.find_child("StateMachine")
    s3_groups = ("GetObject*", "GetBucket*", "List*")
    acknowledge(
        planner,
        *((f"AwsSolutions-IAM5[Action::s3:{group}]", S3_GRANT) for group in s3_groups),
        (
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            MANAGED_BASIC_ROLE,
        ),
        ("AwsSolutions-L1", RUNTIME),
        ("AwsSolutions-IAM5[Resource::*]", XRAY),
        (f"AwsSolutions-IAM5[Resource::{SAGEMAKER_ARN}:endpoint-config/*]", "The endpoint's config is named per run"),
        (f"AwsSolutions-IAM5[Resource::{SAGEMAKER_ARN}:model/*]", "The serving model is named per run"),
        (f"AwsSolutions-IAM5[Resource::{artifacts}/runs/*]", "The serving run's baseline: runs/<run id>/..."),
        (f"AwsSolutions-IAM5[Resource::{artifacts}/data-capture/*]", "Whether the period captured any request"),
        (f"AwsSolutions-IAM5[Resource::{data}/*]", "Ground truth and the newest data prefix, named by people"),
        ("NIST.800.53.R5-LambdaDLQ", SYNCHRONOUS),
    )
    skip_checkov(
        planner,
        ("CKV_AWS_117", NO_VPC),
        ("CKV_AWS_115", NO_RESERVED_CONCURRENCY),
        ("CKV_AWS_45", PLAIN_ENVIRONMENT),
        ("CKV_AWS_116", SYNCHRONOUS),
    )
    acknowledge(
        machine,
        (f"AwsSolutions-IAM5[Resource::{SAGEMAKER_ARN}:processing-job/monitor-*]", "Monitoring jobs, named per run"),
        (f"AwsSolutions-IAM5[Resource::{artifacts}/monitoring/*]", "ReadViolations reads the run's report"),
        ("AwsSolutions-IAM5[Resource::<MonitoringPlanMonitoring310557D0.Arn>:*]", INVOKE_GRANT),
        ("AwsSolutions-IAM5[Resource::<FunctionsFailureHandlerF246E445.Arn>:*]", INVOKE_GRANT),
        ("AwsSolutions-IAM5[Resource::*]", XRAY),
    )
    acknowledge(
        stack.node.find_child("SageMakerExecution"),
        (f"AwsSolutions-IAM5[Resource::{artifacts}/monitoring/*]", "Monitoring reports go under monitoring/<period>/"),
        *((f"AwsSolutions-IAM5[Action::kms:{group}]", KMS_GRANT) for group in ("GenerateDataKey*", "ReEncrypt*")),
    )
    acknowledge(
        stack.node.find_child("FailureHandlerInspectAndStop"),
        (
            f"AwsSolutions-IAM5[Resource::{STATES_ARN}:execution:<MonitoringWorkflowStateMachine431F1883.Name>:*]",
            "History of the monitoring workflow's executions only",
        ),
    )
