"""The delivery stack's accepted cdk-nag findings: each one granular, on its construct, with its reason.

Most roles here are CDK Pipelines' own (pipeline, source, synth, self-mutation, asset publishing); their grants
are CDK's standard ones, on this stack's artifact bucket and key, its CodeBuild projects' log streams and report
groups, and the CDK bootstrap roles.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_codebuild as codebuild
from constructs import IConstruct

from stacks.checkov_skips import skip_checkov
from stacks.delivery.nag_arns import account, arn_prefix
from stacks.nag import acknowledge

ARTIFACTS = (
    "CDK Pipelines' artifact grants (S3 and KMS action groups) on the delivery's own artifact bucket and key only"
)
BOOTSTRAP = (
    "CDK Pipelines publishes assets and deploys through the CDK bootstrap roles (cdk bootstrap --trust); "
    "the self-mutation role may assume only roles tagged aws-cdk:bootstrap-role"
)
PROJECT_LOGS = "CodeBuild's own log streams and report groups of this one project (CodeBuild names them by project)"
ASSET_PROJECTS = (
    "CDK Pipelines' asset-publishing projects are shared by every asset; CodeBuild names their log streams "
    "and report groups by build"
)
DESCRIBE = "cloudformation:DescribeStacks, s3:ListBucket and codebuild:StartBuild of CDK Pipelines' own asset steps"
CDK_INLINE = "CDK Pipelines creates one role per action with its own policy; managed policies would be shared"


def acknowledge_delivery_findings(stack: Stack, *, smoke_role: IConstruct, access_logs: IConstruct) -> None:
    pipeline = stack.node.find_child("Pipeline")
    logs, codebuild_arn = arn_prefix(stack, "logs"), arn_prefix(stack, "codebuild")
    artifacts = (
        *(
            (f"AwsSolutions-IAM5[Action::{action}]", ARTIFACTS)
            for action in ("s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*", "s3:GetObject*", "s3:List*")
        ),
        ("AwsSolutions-IAM5[Action::kms:GenerateDataKey*]", ARTIFACTS),
        ("AwsSolutions-IAM5[Action::kms:ReEncrypt*]", ARTIFACTS),
        ("AwsSolutions-IAM5[Resource::<ArtifactsBucket88671897.Arn>/*]", ARTIFACTS),
    )
    acknowledge(stack, ("NIST.800.53.R5-IAMNoInlinePolicy", CDK_INLINE))
    projects = _project_logs(stack, logs=logs, codebuild_arn=codebuild_arn)
    acknowledge(pipeline, *artifacts, *projects)
    acknowledge(smoke_role, *artifacts, *projects)
    acknowledge(
        pipeline.node.find_child("Assets"),
        (f"AwsSolutions-IAM5[Resource::{logs}:log-group:/aws/codebuild/*]", ASSET_PROJECTS),
        (f"AwsSolutions-IAM5[Resource::{codebuild_arn}:report-group/*]", ASSET_PROJECTS),
        ("AwsSolutions-IAM5[Resource::*]", DESCRIBE),
    )
    for role in ("DockerRole", "FileRole"):
        skip_checkov(
            pipeline.node.find_child("Assets").node.find_child(role).node.find_child("DefaultPolicy"),
            ("CKV_AWS_111", f"CDK Pipelines' asset role: {DESCRIBE}; it writes only through the bootstrap roles"),
        )
    acknowledge(
        pipeline.node.find_child("UpdatePipeline"),
        (f"AwsSolutions-IAM5[Resource::arn:*:iam::{account(stack)}:role/*]", BOOTSTRAP),
        ("AwsSolutions-IAM5[Resource::*]", DESCRIBE),
    )
    acknowledge(
        stack.node.find_child("StageFailed"),
        ("AwsSolutions-IAM5[Action::kms:GenerateDataKey*]", "SNS's grant to publish to the topic, on its own key only"),
    )
    replication = (
        "NIST.800.53.R5-S3BucketReplicationEnabled",
        "Pipeline artifacts are rebuilt from the repository by the next execution; replication would add a second "
        "region and key for nothing that cannot be rebuilt",
    )
    acknowledge(stack.node.find_child("Artifacts"), replication)
    acknowledge(
        access_logs,
        replication,
        ("NIST.800.53.R5-S3DefaultEncryptionKMS", "S3 cannot deliver server access logs to an SSE-KMS bucket; SSE-S3"),
    )
    skip_checkov(
        access_logs.node.find_child("Bucket"),
        ("CKV_AWS_18", "This is the server access log target; logging it into itself would loop."),
    )


def _project_logs(stack: Stack, *, logs: str, codebuild_arn: str) -> list[tuple[str, str]]:
    """Each CodeBuild project's own log-group and report-group grants, named by the project's logical id."""
    findings = []
    for construct in stack.node.find_all():
        if isinstance(construct, codebuild.CfnProject) and "/Assets/" not in construct.node.path:
            project = stack.get_logical_id(construct)
            findings += [
                (
                    f"AwsSolutions-IAM5[Resource::{logs}:log-group:/aws/codebuild/<{project}>:*]",
                    PROJECT_LOGS,
                ),
                (
                    f"AwsSolutions-IAM5[Resource::{codebuild_arn}:report-group/<{project}>-*]",
                    PROJECT_LOGS,
                ),
            ]
    return findings
