"""One deployment environment as a CDK Stage: its storage and pipeline stacks, tagged and gated.

A stage per configuration file (config/<env>.json) gives each environment its own cloud assembly, so
`cdk deploy 'SageMakerPipeline-prod/*'` deploys exactly prod, and a pipeline (CDK Pipelines, CodePipeline)
can promote the same stage class from dev to prod. Stack names stay `SageMakerPipeline-<env>-<Stack>`.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from stacks import contract
from stacks.config import AppConfig
from stacks.nag import add_policy_gates
from stacks.notebook_stack import NotebookStack
from stacks.pipeline_stack import PipelineStack
from stacks.storage_stack import StorageStack


def stage_name(config: AppConfig) -> str:
    return contract.stage_name(config.environment)


class PipelineStage(cdk.Stage):
    def __init__(self, scope: Construct, *, config: AppConfig) -> None:
        env = cdk.Environment(account=config.account, region=config.region) if config.account else None
        super().__init__(scope, stage_name(config), env=env)
        self.storage = StorageStack(
            self,
            "Storage",
            config=config,
            description=f"ML pipeline ({config.environment}): stateful storage - key, buckets, image repository",
        )
        self.pipeline = PipelineStack(
            self,
            "Pipeline",
            config=config,
            storage=self.storage,
            description=f"ML pipeline ({config.environment}): image, roles, functions, state machine, failure handling",
        )
        self.notebook: NotebookStack | None = None
        if config.notebook.enabled:
            self.notebook = NotebookStack(
                self,
                "Notebook",
                config=config,
                storage=self.storage,
                pipeline=self.pipeline,
                description=f"ML pipeline ({config.environment}): the data scientists' notebook instance",
            )
        for key, value in config.tags.items():
            cdk.Tags.of(self).add(key, value)
        # On the stage, not the app: the gates travel with the stage when a CDK Pipeline deploys it.
        add_policy_gates(self)

    @property
    def stacks(self) -> dict[str, cdk.Stack]:
        stacks: dict[str, cdk.Stack] = {"storage": self.storage, "pipeline": self.pipeline}
        if self.notebook is not None:
            stacks["notebook"] = self.notebook
        return stacks
