"""The role SageMaker jobs and endpoints run as: read data, write artifacts, pull the image, use the key."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

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
        # DescribeKey apart: it never carries kms:GrantIsForAWSResource, so under that condition it was dead.
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="EncryptJobVolumes",
                actions=["kms:CreateGrant"],
                resources=[key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(sid="DescribeTheKey", actions=["kms:DescribeKey"], resources=[key.key_arn])
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
