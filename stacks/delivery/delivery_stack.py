"""The delivery pipeline, deployed once per tooling account (`make deploy-delivery`).

CDK Pipelines on CodePipeline V2, self-mutating: a merge to the configured branch is tested (`make test`, the
README's test command), synthesized, deployed to dev, smoke-checked there with `python -m pipeline_client smoke`,
approved by a person, and deployed to prod. The stages are the same PipelineStage class `make deploy` deploys.
"""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import Duration, Environment, RemovalPolicy, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.components.encryption_key import EncryptionKey
from stacks.components.failure_alerts import NotificationTopic
from stacks.components.secure_bucket import SecureBucket
from stacks.config import AppConfig
from stacks.config.delivery import DeliveryConfig
from stacks.delivery.approval import NotifiedApproval
from stacks.delivery.delivery_nag import acknowledge_delivery_findings
from stacks.delivery.smoke_access import SmokeAccessStack
from stacks.delivery.smoke_step import smoke_role, smoke_step
from stacks.pipeline_stage import PipelineStage
from stacks.support.log_retention import log_retention

PIPELINE_NAME = "ml-pipeline-delivery"
TEST_COMMAND = "make test"  # the README's
SYNTH_COMMAND = "make synth-delivery"  # the whole app with this stack, as `make deploy-delivery` synthesizes it
# The CLI the project pins (package.json): self-mutation and asset publishing use the same one.
CDK_CLI_VERSION = json.loads((Path(__file__).resolve().parents[2] / "package.json").read_text())["devDependencies"][
    "aws-cdk"
]
FAILED_STATES = ["FAILED"]


class DeliveryStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, delivery: DeliveryConfig, environments: dict[str, AppConfig]
    ) -> None:
        env = Environment(account=delivery.account, region=delivery.region) if delivery.account else None
        super().__init__(
            scope,
            construct_id,
            env=env,
            termination_protection=True,
            description="ML pipeline delivery: test, deploy dev, smoke-check, approve, deploy prod",
        )
        connection_arn, repository = delivery.require_source()
        retain = RemovalPolicy.RETAIN
        self.key = EncryptionKey(self, "Encryption", removal_policy=retain).key
        self.access_logs = access_logs = SecureBucket(
            self,
            "AccessLogs",
            removal_policy=retain,
            noncurrent_version_expiration_days=delivery.noncurrent_version_expiration_days,
            incomplete_upload_expiration_days=delivery.incomplete_upload_expiration_days,
            current_version_expiration_days=delivery.log_retention_days,
        )
        self.artifacts = SecureBucket(
            self,
            "Artifacts",
            removal_policy=retain,
            noncurrent_version_expiration_days=delivery.noncurrent_version_expiration_days,
            incomplete_upload_expiration_days=delivery.incomplete_upload_expiration_days,
            encryption_key=self.key,
            access_logs_bucket=access_logs.bucket,
            access_logs_prefix="artifacts/",
        ).bucket
        self.topic = NotificationTopic(self, "Notifications", key=self.key, email=delivery.notification_email).topic
        build_logs = logs.LogGroup(
            self,
            "BuildLogs",
            encryption_key=self.key,
            retention=log_retention(delivery.log_retention_days),
            removal_policy=retain,
        )
        # A full clone (a Git work tree in CodeBuild): the suite archives HEAD to synthesize the committed app.
        self.source = pipelines.CodePipelineSource.connection(
            repository, delivery.branch, connection_arn=connection_arn, code_build_clone_output=True
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=PIPELINE_NAME,
            pipeline_type=codepipeline.PipelineType.V2,
            self_mutation=True,
            artifact_bucket=self.artifacts,
            cli_version=CDK_CLI_VERSION,
            publish_assets_in_parallel=False,
            synth=pipelines.CodeBuildStep(
                "Synth",
                input=self.source,
                commands=[TEST_COMMAND, SYNTH_COMMAND],
                primary_output_directory="cdk.out",
                timeout=Duration.minutes(delivery.synth_timeout_minutes),
            ),
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                    compute_type=codebuild.ComputeType[delivery.build_compute_type],
                ),
                logging=codebuild.LoggingOptions(cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=build_logs)),
            ),
        )
        dev_config, prod_config = environments["dev"], environments["prod"]
        self.dev = PipelineStage(self, config=dev_config)
        access = SmokeAccessStack(
            self.dev, "SmokeAccess", environment="dev", tooling_account=delivery.account or self.account
        )
        self.smoke = smoke_step(
            stage=self.dev,
            config=dev_config,
            access=access,
            source=self.source,
            role=(smoke_check_role := smoke_role(self, environments=[dev_config])),
            minutes=delivery.smoke_timeout_minutes,
        )
        self.pipeline.add_stage(self.dev, post=[self.smoke])
        self.prod = PipelineStage(self, config=prod_config)
        approval = NotifiedApproval(
            "ApproveProd", topic=self.topic, comment="dev is deployed and its smoke check passed: promote it to prod?"
        )
        self.pipeline.add_stage(self.prod, pre=[approval])
        self.pipeline.build_pipeline()
        self._use_connection_under_its_prefix(connection_arn, repository, smoke_check_role)
        self._notify_failed_stages()
        acknowledge_delivery_findings(self, smoke_role=smoke_check_role, access_logs=access_logs)

    def _use_connection_under_its_prefix(self, connection_arn: str, repository: str, smoke: iam.IRole) -> None:
        """CDK grants codestar-connections:UseConnection; IAM wants the prefix of the connection's ARN, which is
        codeconnections for connections made since the 2024 rename (the Developer Tools guide, "Connections
        rename")."""
        if ":codeconnections:" not in connection_arn:
            return
        pipeline = self.pipeline.node.find_child("Pipeline")
        source_action = repository.replace("/", "_")  # CDK Pipelines names the source action after the repository
        users = [
            pipeline.node.find_child("Source").node.find_child(source_action).node.find_child("CodePipelineActionRole"),
            pipeline.node.find_child("Build").node.find_child("Synth").node.find_child("CdkBuildProject").role,
            smoke,
        ]
        for role in users:
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=["codeconnections:UseConnection"], resources=[connection_arn])
            )

    def _notify_failed_stages(self) -> None:
        pipeline = self.pipeline.pipeline
        events.Rule(
            self,
            "StageFailed",
            description="A failed stage of the delivery pipeline goes to the delivery topic",
            event_pattern=events.EventPattern(
                source=["aws.codepipeline"],
                detail_type=["CodePipeline Stage Execution State Change"],
                detail={"pipeline": [pipeline.pipeline_name], "state": FAILED_STATES},
            ),
            targets=[
                targets.SnsTopic(
                    self.topic,
                    authorize_using_role=True,  # a role of this rule, not a topic policy open to every rule
                    message=events.RuleTargetInput.from_text(
                        f"Delivery pipeline {events.EventField.from_path('$.detail.pipeline')}: stage "
                        f"{events.EventField.from_path('$.detail.stage')} FAILED in execution "
                        f"{events.EventField.from_path('$.detail.execution-id')}. See the CodePipeline console."
                    ),
                )
            ],
        )
