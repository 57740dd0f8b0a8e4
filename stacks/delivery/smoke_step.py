"""The smoke check after the dev deployment: the project's own client command, against the stage just deployed.

It runs `python -m pipeline_client smoke` in CodeBuild as the environment's smoke role (stacks/delivery/
smoke_access.py), through an AWS CLI profile so that botocore renews the role's credentials during a long run.
The dev stage's outputs reach it through CodePipeline variables (env_from_cfn_outputs): the command checks that
the stacks it reads are the ones the pipeline just deployed.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, pipelines
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.config import AppConfig
from stacks.delivery.smoke_access import SMOKE_CODEBUILD_ROLE, SmokeAccessStack, smoke_role_name
from stacks.pipeline_stage import PipelineStage

SMOKE_COMMAND = "python -m pipeline_client smoke --env {env}"
SETUP_MINUTES = 15  # `make setup` in a fresh CodeBuild container, before the run's own time starts


def smoke_role(scope: Construct, *, environments: list[AppConfig]) -> iam.Role:
    """The CodeBuild role: it may only assume the checked environments' smoke roles (by their fixed names)."""
    role = iam.Role(
        scope,
        "SmokeCheckRole",
        role_name=SMOKE_CODEBUILD_ROLE,
        description="The delivery pipeline's smoke check; it acts only through the environments' smoke roles",
        assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
    )
    role.add_to_policy(
        iam.PolicyStatement(
            sid="AssumeTheEnvironmentsSmokeRoles",
            actions=["sts:AssumeRole"],
            resources=[_smoke_role_arn(config) for config in environments],
        )
    )
    return role


def smoke_step(
    *,
    stage: PipelineStage,
    config: AppConfig,
    access: SmokeAccessStack,
    source: pipelines.IFileSetProducer,
    role: iam.IRole,
    minutes: int,
) -> pipelines.CodeBuildStep:
    pipeline = stage.pipeline
    region = {"AWS_DEFAULT_REGION": config.region, "AWS_REGION": config.region} if config.region else {}
    return pipelines.CodeBuildStep(
        "SmokeCheck",
        input=source,
        role=role,
        timeout=Duration.minutes(minutes + SETUP_MINUTES),
        env=region,
        env_from_cfn_outputs={
            "SMOKE_ROLE_ARN": access.role_output,
            "SMOKE_STATE_MACHINE_ARN": pipeline.node.find_child("StateMachineArn"),
            "SMOKE_ENDPOINT_NAME": pipeline.node.find_child("EndpointName"),
        },
        install_commands=["make setup"],
        commands=[
            # credential_source: CodeBuild's container credentials; botocore renews the assumed role's itself.
            'aws configure set profile.smoke.role_arn "$SMOKE_ROLE_ARN"',
            "aws configure set profile.smoke.credential_source EcsContainer",
            f"AWS_PROFILE=smoke .venv/bin/{SMOKE_COMMAND.format(env=config.environment)} --timeout-minutes {minutes}",
        ],
    )


def _smoke_role_arn(config: AppConfig) -> str:
    """By name: the role is in the environment's stage, which this stack cannot reference."""
    return f"arn:{Aws.PARTITION}:iam::{config.account or Aws.ACCOUNT_ID}:role/{smoke_role_name(config.environment)}"
