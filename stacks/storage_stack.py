"""The stateful stack: key, buckets, image repository, model registry. Later stacks receive them."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from constructs import Construct

from stacks import contract
from stacks.checkov_skips import skip_checkov
from stacks.components.encryption_key import EncryptionKey
from stacks.components.image_repository import ImageRepository
from stacks.components.model_registry import ModelRegistry
from stacks.components.secure_bucket import SecureBucket
from stacks.config import AppConfig
from stacks.nag import acknowledge


class StorageStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: AppConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, termination_protection=config.termination_protection, **kwargs)
        storage = config.storage
        removal = RemovalPolicy.RETAIN if storage.removal_policy == "retain" else RemovalPolicy.DESTROY
        lifecycle = {
            "removal_policy": removal,
            "noncurrent_version_expiration_days": storage.noncurrent_version_expiration_days,
            "incomplete_upload_expiration_days": storage.incomplete_upload_expiration_days,
        }

        self.key = EncryptionKey(self, "Encryption", removal_policy=removal).key
        access_logs = SecureBucket(
            self, "AccessLogs", current_version_expiration_days=storage.access_log_expiration_days, **lifecycle
        )
        self.access_logs_bucket = access_logs.bucket
        skip_checkov(
            access_logs.bucket,
            ("CKV_AWS_18", "This is the server access log target; logging it into itself would loop."),
        )
        acknowledge(
            access_logs,
            ("AwsSolutions-S1", "This is the server access log target; logging it into itself would loop."),
            (
                "NIST.800.53.R5-S3BucketLoggingEnabled",
                "This is the server access log target; logging it into itself would loop.",
            ),
            (
                "NIST.800.53.R5-S3DefaultEncryptionKMS",
                "S3 cannot deliver server access logs to an SSE-KMS bucket; SSE-S3 is used.",
            ),
        )
        self.data_bucket = SecureBucket(
            self,
            "Data",
            encryption_key=self.key,
            access_logs_bucket=self.access_logs_bucket,
            access_logs_prefix="data/",
            **lifecycle,
        ).bucket
        self.artifacts_bucket = SecureBucket(
            self,
            "Artifacts",
            encryption_key=self.key,
            access_logs_bucket=self.access_logs_bucket,
            access_logs_prefix="artifacts/",
            **lifecycle,
        ).bucket
        self.repository = ImageRepository(
            self,
            "Image",
            encryption_key=self.key,
            untagged_image_expiration_days=storage.untagged_image_expiration_days,
        ).repository
        if config.triggers.new_data_prefix:
            # Native S3 -> EventBridge delivery (no notification custom resource) for the new-data trigger.
            data_bucket = self.data_bucket.node.default_child
            data_bucket.add_property_override(
                "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
            )
        CfnOutput(self, "DataBucketName", value=self.data_bucket.bucket_name, description="Upload datasets here")
        CfnOutput(
            self,
            "ArtifactsBucketName",
            value=self.artifacts_bucket.bucket_name,
            description="Runs (runs/<id>/), failure records (failures/), data capture",
        )
        generation = "" if storage.generation == 1 else f"-g{storage.generation}"
        self.model_registry = ModelRegistry(
            self, "ModelRegistry", group_name=f"{self.stack_name.lower()}-models{generation}"
        )
        CfnOutput(
            self,
            contract.MODEL_PACKAGE_GROUP_OUTPUT,
            value=self.model_registry.group_name,
            description="The model registry runs register to",
        )
        acknowledge(
            self,
            (
                "NIST.800.53.R5-S3BucketReplicationEnabled",
                "Cross-region replication is a per-organisation disaster-recovery choice (second region, second key); "
                "versioning, RETAIN and lifecycle rules already protect the objects against deletion.",
            ),
        )
