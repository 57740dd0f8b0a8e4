"""IAM for the CustomState tasks, which CDK grants nothing: exactly the actions they call (the `.sync` jobs'
share in sync_job_grants.py)."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import IConstruct

from stacks.components.workflow.sync_job_grants import grant_sync_jobs, pass_role_and_encrypt
from stacks.nag import acknowledge
from stacks.support.nag_reasons import (
    ARTIFACTS_BUCKET_ARN,
    INVOKE_GRANT,
    PACKAGE_VERSIONS,
    PER_RUN_NAMES,
    SAGEMAKER_ARN,
    SCALABLE_TARGETS,
    TRACKING_ALARMS,
    XRAY_AND_LIST,
    imported,
)


def grant_workflow_calls(
    state_machine: sfn.StateMachine,
    *,
    sagemaker_role: iam.IRole,
    key: kms.IKey,
    endpoint_name: str,
    rollback_alarm_arns: list[str],
    model_package_group: str,
    artifacts_bucket: s3.IBucket,
    runs_jobs: bool = True,
) -> None:
    """Everything the workflow's CustomStates call; `runs_jobs=False` for the approval workflow (deploys only)."""
    stack = Stack.of(state_machine)
    _acknowledge_workflow_role(state_machine, model_package_group, artifacts_bucket, endpoint_name)

    def arn(resource: str, name: str) -> str:
        return stack.format_arn(service="sagemaker", resource=resource, resource_name=name)

    add = state_machine.add_to_role_policy
    if runs_jobs:
        grant_sync_jobs(state_machine, ("processing-job", "training-job", "hyper-parameter-tuning-job"))
    add(
        iam.PolicyStatement(
            sid="DeployModel",
            actions=[
                "sagemaker:CreateModel",
                "sagemaker:CreateEndpointConfig",
                "sagemaker:CreateEndpoint",
                "sagemaker:UpdateEndpoint",
                "sagemaker:AddTags",
            ],
            resources=[arn("model", "*"), arn("endpoint-config", "*"), arn("endpoint", endpoint_name)],
        )
    )
    # SageMaker's auto-rollback guide: whoever names rollback alarms in UpdateEndpoint may describe them.
    add(
        iam.PolicyStatement(
            sid="ReadRollbackAlarms", actions=["cloudwatch:DescribeAlarms"], resources=rollback_alarm_arns
        )
    )
    # Reading evaluation.json (SSE-KMS) and creating encrypted endpoint configs.
    key.grant_decrypt(state_machine)
    pass_role_and_encrypt(state_machine, sagemaker_role=sagemaker_role, key=key, storage="Endpoint")


def grant_scoring_calls(
    state_machine: sfn.StateMachine, *, sagemaker_role: iam.IRole, key: kms.IKey, model_package_group: str
) -> None:
    """The scoring workflow's CustomStates: CreateModel and the transform job (.sync), nothing else."""
    stack = Stack.of(state_machine)
    _acknowledge_scoring_role(state_machine, model_package_group)

    def arn(resource: str, name: str) -> str:
        return stack.format_arn(service="sagemaker", resource=resource, resource_name=name)

    add = state_machine.add_to_role_policy
    grant_sync_jobs(state_machine, ("transform-job",), sid="RunTransformJobs")
    add(
        iam.PolicyStatement(
            sid="CreateScoringModel",
            actions=["sagemaker:CreateModel", "sagemaker:AddTags"],
            resources=[arn("model", "*")],
        )
    )
    # The transform job's volume and output are encrypted with the pipeline's key.
    pass_role_and_encrypt(state_machine, sagemaker_role=sagemaker_role, key=key, storage="Transform")


def _acknowledge_workflow_role(
    machine: IConstruct, group: str, artifacts_bucket: s3.IBucket, endpoint_name: str
) -> None:
    """The findings on the role of a workflow that runs jobs or deploys: these grants, the workflow's own."""
    artifacts = imported(artifacts_bucket, ARTIFACTS_BUCKET_ARN)
    acknowledge(
        machine,
        *(
            (f"AwsSolutions-IAM5[Resource::{SAGEMAKER_ARN}:{kind}/*]", f"{PER_RUN_NAMES}")
            for kind in ("processing-job", "training-job", "hyper-parameter-tuning-job", "model", "endpoint-config")
        ),
        (f"AwsSolutions-IAM5[Resource::{SAGEMAKER_ARN}:model-package/{group}/*]", PACKAGE_VERSIONS),
        (
            f"AwsSolutions-IAM5[Resource::{artifacts}/runs/*]",
            "ReadEvaluation reads runs/<run id>/evaluation/evaluation.json",
        ),
        ("AwsSolutions-IAM5[Resource::<FunctionsPrepareRun023AB14C.Arn>:*]", INVOKE_GRANT),
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
        ("AwsSolutions-IAM5[Resource::<FunctionsFailureHandlerF246E445.Arn>:*]", INVOKE_GRANT),
    )


def _acknowledge_scoring_role(machine: IConstruct, group: str) -> None:
    acknowledge(
        machine,
        *(
            (f"AwsSolutions-IAM5[Resource::{SAGEMAKER_ARN}:{kind}/*]", PER_RUN_NAMES)
            for kind in ("transform-job", "model")
        ),
        (f"AwsSolutions-IAM5[Resource::{SAGEMAKER_ARN}:model-package/{group}/*]", PACKAGE_VERSIONS),
        ("AwsSolutions-IAM5[Resource::<FunctionsPrepareScoring8E732407.Arn>:*]", INVOKE_GRANT),
        ("AwsSolutions-IAM5[Resource::<FunctionsFailureHandlerF246E445.Arn>:*]", INVOKE_GRANT),
        ("AwsSolutions-IAM5[Resource::*]", "X-Ray trace segments and sagemaker:ListModelPackages support no resource"),
    )
