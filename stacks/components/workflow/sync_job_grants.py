"""The IAM a `.sync` SageMaker task needs, which CDK grants nothing for a CustomState.

Step Functions calls create, describe and stop on the job, tags it, and manages an EventBridge rule of its own
per job type (the Step Functions developer guide, "IAM policies for SageMaker"). SageMaker then runs as the
pipeline's role and encrypts the job's storage with the pipeline's key.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_stepfunctions as sfn

# job ARN resource type -> (the actions a .sync task calls on it, the name of Step Functions' rule for it)
SYNC_JOBS = {
    "processing-job": (
        ["sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob"],
        "ProcessingJobs",
    ),
    "training-job": (
        ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"],
        "TrainingJobs",
    ),
    "hyper-parameter-tuning-job": (
        [
            "sagemaker:CreateHyperParameterTuningJob",
            "sagemaker:DescribeHyperParameterTuningJob",
            "sagemaker:StopHyperParameterTuningJob",
            "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
        ],
        "TuningJobs",
    ),
    "transform-job": (
        ["sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob", "sagemaker:StopTransformJob"],
        "TransformJobs",
    ),
}


def grant_sync_jobs(
    state_machine: sfn.StateMachine, jobs: Sequence[str], *, names: str = "*", sid: str | None = None
) -> None:
    """The calls on each kind of job in `jobs` (named `names`), and Step Functions' rules for them."""
    if sid and len(jobs) > 1:
        raise ValueError("a statement id names one statement: give sid with one kind of job")
    stack = Stack.of(state_machine)
    for resource in jobs:
        actions, _ = SYNC_JOBS[resource]
        state_machine.add_to_role_policy(
            iam.PolicyStatement(
                sid=sid,
                actions=[*actions, "sagemaker:AddTags", "sagemaker:ListTags"],
                resources=[stack.format_arn(service="sagemaker", resource=resource, resource_name=names)],
            )
        )
    rules = [
        stack.format_arn(
            service="events", resource="rule", resource_name=f"StepFunctionsGetEventsForSageMaker{SYNC_JOBS[j][1]}Rule"
        )
        for j in jobs
    ]
    state_machine.add_to_role_policy(
        iam.PolicyStatement(
            sid="SyncJobCompletionRules",
            actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            resources=rules,
        )
    )


def pass_role_and_encrypt(
    state_machine: sfn.StateMachine, *, sagemaker_role: iam.IRole, key: kms.IKey, storage: str
) -> None:
    """SageMaker runs as its own role only, and encrypts what it creates with the pipeline's key."""
    state_machine.add_to_role_policy(
        iam.PolicyStatement(
            sid="PassOnlyTheSageMakerRoleToSageMaker",
            actions=["iam:PassRole"],
            resources=[sagemaker_role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        )
    )
    # kms:GrantIsForAWSResource exists on grant operations only: DescribeKey under it would never be allowed.
    state_machine.add_to_role_policy(
        iam.PolicyStatement(
            sid=f"Encrypt{storage}Storage",
            actions=["kms:CreateGrant"],
            resources=[key.key_arn],
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        )
    )
    # DescribeKey apart: it never carries kms:GrantIsForAWSResource, so under that condition it was dead.
    state_machine.add_to_role_policy(
        iam.PolicyStatement(sid=f"Describe{storage}Key", actions=["kms:DescribeKey"], resources=[key.key_arn])
    )
