"""The training/inference image: built from training_code/ by `cdk deploy`, published to our own repository.

`DockerImageAsset` builds and pushes to the CDK bootstrap repository at deploy time (synth needs no
Docker); `ECRDeployment` then copies it into the project's KMS-encrypted, immutable-tag repository under
the asset hash as its tag, so the tag is content-addressed and never reused.

The copy runs as our own role: pull from the asset repository, push to ours, nothing else. The construct
adds `ecr:*` and `s3:GetObject` on `*` to whatever role it runs as; it gets an immutable view of the role,
so those statements are dropped. Its log group (the function's, created by CDK) is encrypted with our key.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from cdk_ecr_deployment import DockerImageName, ECRDeployment
from constructs import Construct, IConstruct

from stacks.checkov_skips import skip_checkov
from stacks.nag import acknowledge
from stacks.support.nag_reasons import CUSTOM_RESOURCE, NO_RESERVED_CONCURRENCY, NO_VPC

TRAINING_CODE = Path(__file__).resolve().parents[2] / "training_code"


class TrainingImage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, repository: ecr.IRepository, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        asset = ecr_assets.DockerImageAsset(
            self,
            "Build",
            directory=str(TRAINING_CODE),
            platform=ecr_assets.Platform.LINUX_AMD64,
            exclude=["**/__pycache__", "**/*.pyc"],
        )
        self.tag = asset.asset_hash
        self.image_uri = f"{repository.repository_uri}:{self.tag}"
        self.role = iam.Role(
            self,
            "PublishRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Copies the training image from the CDK asset repository into the pipeline's repository",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSLambdaBasicExecutionRole")
            ],
        )
        asset.repository.grant_pull(self.role)
        repository.grant_pull_push(self.role)
        self.publish = ECRDeployment(
            self,
            "Publish",
            src=DockerImageName(asset.image_uri),
            dest=DockerImageName(self.image_uri),
            role=self.role.without_policy_updates(),
        )
        self.publish.node.add_dependency(self.role)  # its policy is in place before the copy runs
        copy_function = self._copy_function()
        self._encrypt_function_logs(copy_function, key)
        self._acknowledge_findings(copy_function)

    def _copy_function(self) -> IConstruct:
        """The copy function is a singleton at stack level, not a child of this construct."""
        stack = Stack.of(self)
        (function,) = [c for c in stack.node.children if c.node.id.startswith("Custom::CDKECRDeployment")]
        return function

    def _acknowledge_findings(self, copy_function: IConstruct) -> None:
        acknowledge(
            self.role,
            (
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole]",
                "cdk-ecr-deployment's deploy-time copy function: logs only",
            ),
            (
                "AwsSolutions-IAM5[Resource::*]",
                "ecr:GetAuthorizationToken supports no resource; pulls and pushes are on the two repositories only",
            ),
        )
        acknowledge(copy_function, ("NIST.800.53.R5-LambdaDLQ", CUSTOM_RESOURCE))
        skip_checkov(
            copy_function,
            ("CKV_AWS_116", CUSTOM_RESOURCE),
            ("CKV_AWS_117", f"cdk-ecr-deployment's copy function. {NO_VPC}"),
            ("CKV_AWS_115", f"cdk-ecr-deployment's copy function, run once per deployment. {NO_RESERVED_CONCURRENCY}"),
        )

    def _encrypt_function_logs(self, function: IConstruct, key: kms.IKey) -> None:
        """CDK creates the copy function's log group beside it."""
        log_group = function.node.find_child("LogGroup").node.default_child
        assert isinstance(log_group, logs.CfnLogGroup)
        log_group.kms_key_id = key.key_arn
