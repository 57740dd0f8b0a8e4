"""The role SageMaker jobs and endpoints run as: read data, write artifacts, pull the image, use the key."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.nag import acknowledge
from stacks.support.nag_reasons import (
    ARTIFACTS_BUCKET_ARN,
    DATA_BUCKET_ARN,
    PER_RUN_NAMES,
    XRAY_AND_LIST,
    imported,
    s3_and_kms,
)

# Everything a run writes lives under these prefixes of the artifacts bucket.
RUN_PREFIX = "runs/*"
DATA_CAPTURE_PREFIX = "data-capture/*"
SCORING_PREFIX = "scoring/*"  # batch transform output


class SageMakerExecutionRole(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        repository: ecr.IRepository,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="SageMaker processing, training, tuning and endpoints of the ML pipeline",
        )
        data_bucket.grant_read(self.role)
        artifacts_bucket.grant_read_write(self.role, RUN_PREFIX)
        artifacts_bucket.grant_put(self.role, DATA_CAPTURE_PREFIX)
        artifacts_bucket.grant_put(self.role, SCORING_PREFIX)
        repository.grant_pull(self.role)
        key.grant_encrypt_decrypt(self.role)
        # kms:GrantIsForAWSResource exists on grant operations only: DescribeKey under it would never be allowed
        # (grant_encrypt_decrypt above allows it).
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="EncryptJobVolumes",
                actions=["kms:CreateGrant"],
                resources=[key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            )
        )

        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteJobAndEndpointLogs",
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[
                    stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="/aws/sagemaker/*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="PublishJobMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "aws/sagemaker/*"]}},
            )
        )
        data, artifacts = imported(data_bucket, DATA_BUCKET_ARN), imported(artifacts_bucket, ARTIFACTS_BUCKET_ARN)
        acknowledge(
            self,
            *s3_and_kms(),
            (f"AwsSolutions-IAM5[Resource::{data}/*]", "SageMaker reads any dataset the run names in the data bucket"),
            (
                f"AwsSolutions-IAM5[Resource::{artifacts}/runs/*]",
                f"Each run writes under runs/<run id>/: {PER_RUN_NAMES}",
            ),
            (
                f"AwsSolutions-IAM5[Resource::{artifacts}/data-capture/*]",
                "Endpoint data capture writes under data-capture/",
            ),
            (
                f"AwsSolutions-IAM5[Resource::{artifacts}/scoring/*]",
                f"Batch transform output goes under scoring/<run id>/: {PER_RUN_NAMES}",
            ),
            (
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:"
                "/aws/sagemaker/*]",
                "SageMaker names its job and endpoint log groups under /aws/sagemaker/",
            ),
            ("AwsSolutions-IAM5[Resource::*]", XRAY_AND_LIST),
        )
