"""The customer-managed KMS key that encrypts every stateful resource of the pipeline."""

from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


class EncryptionKey(Construct):
    """A rotating symmetric key; CloudWatch Logs, alarms and EventBridge may use it for what they deliver.

    The logs grant lives here, in the stateful stack, because a key policy that names a log group
    created by a later stack would make the two stacks depend on each other.
    """

    def __init__(self, scope: Construct, construct_id: str, *, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts the ML pipeline's data, artifacts, images, logs and notifications",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        this_accounts_log_groups = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:*"
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": this_accounts_log_groups}},
            )
        )
        # Services that write to the pipeline's encrypted destinations need a data key: CloudWatch alarms
        # publish to the SNS topic, EventBridge sends undeliverable events to the SQS dead-letter queue (an
        # AWS-managed key could not be used by EventBridge at all). Scoped to this account with
        # aws:SourceAccount, the condition both services' guides give for key policies; the topic and queue
        # policies name the alarms and rules themselves (naming them here would make this stack depend on
        # the pipeline stack).
        for sid, service in (
            ("AllowCloudWatchAlarmsToPublishToEncryptedTopics", "cloudwatch"),
            ("AllowEventBridgeToSendToEncryptedQueues", "events"),
        ):
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    principals=[iam.ServicePrincipal(f"{service}.amazonaws.com")],
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=["*"],
                    conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
                )
            )
