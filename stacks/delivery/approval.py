"""A manual approval that tells the delivery topic it waits: CDK Pipelines' ManualApprovalStep cannot.

CDK Pipelines lets a step produce its own CodePipeline action (ICodePipelineActionFactory, the "custom action"
of the CDK Pipelines guide); this one is CodePipeline's ManualApprovalAction with its notification topic.
"""

from __future__ import annotations

from typing import Any

import jsii
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_sns as sns
from aws_cdk import pipelines


@jsii.implements(pipelines.ICodePipelineActionFactory)
class NotifiedApproval(pipelines.Step):
    def __init__(self, step_id: str, *, topic: sns.ITopic, comment: str) -> None:
        super().__init__(step_id)
        self.topic = topic
        self.comment = comment

    @jsii.member(jsii_name="produceAction")
    def produce_action(
        self, stage: codepipeline.IStage, *, action_name: str, run_order: int, **_: Any
    ) -> pipelines.CodePipelineActionFactoryResult:
        stage.add_action(
            actions.ManualApprovalAction(
                action_name=action_name,
                run_order=run_order,
                notification_topic=self.topic,
                additional_information=self.comment,
            )
        )
        return pipelines.CodePipelineActionFactoryResult(run_orders_consumed=1)
