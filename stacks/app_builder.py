"""Composes the app: one stage per environment. Shared by app.py and the tests, so both synthesize the same."""

from __future__ import annotations

import aws_cdk as cdk

from stacks.config import AppConfig
from stacks.pipeline_stage import PipelineStage


def build_app(app: cdk.App, configs: list[AppConfig]) -> dict[str, PipelineStage]:
    names = [c.environment for c in configs]
    if len(set(names)) != len(names):
        raise ValueError(f"each environment may appear once, got {', '.join(names)}")
    return {config.environment: PipelineStage(app, config=config) for config in configs}
