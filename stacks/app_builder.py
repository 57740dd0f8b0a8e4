"""Composes the stacks of one environment. Shared by app.py and the tests, so both synthesize the same app."""

from __future__ import annotations

import aws_cdk as cdk

from stacks.config import AppConfig
from stacks.nag import add_policy_gates
from stacks.pipeline_stack import PipelineStack
from stacks.storage_stack import StorageStack


def stack_prefix(config: AppConfig) -> str:
    return f"SageMakerPipeline-{config.environment}"


def build_app(app: cdk.App, config: AppConfig) -> dict[str, cdk.Stack]:
    deploy_env = cdk.Environment(account=config.account, region=config.region) if config.account else None
    prefix = stack_prefix(config)
    storage = StorageStack(
        app,
        f"{prefix}-Storage",
        config=config,
        env=deploy_env,
        description=f"ML pipeline ({config.environment}): stateful storage - key, buckets, image repository",
    )
    pipeline = PipelineStack(
        app,
        f"{prefix}-Pipeline",
        config=config,
        storage=storage,
        env=deploy_env,
        description=f"ML pipeline ({config.environment}): image, roles, functions, state machine, failure handling",
    )
    for key, value in config.tags.items():
        cdk.Tags.of(app).add(key, value)
    add_policy_gates(app)
    return {"storage": storage, "pipeline": pipeline}
