"""Optional automatic starts: a run per new object under a prefix, and a run on a schedule."""

from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.config import TriggersConfig
from stacks.support.event_delivery import start_execution


class RunTriggers(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        triggers: TriggersConfig,
        state_machine: sfn.IStateMachine,
        data_bucket: s3.IBucket,
        dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        bucket = data_bucket.bucket_name

        def start(execution_input: dict) -> targets.SfnStateMachine:
            return start_execution(state_machine, execution_input, dead_letters=dead_letters)

        if triggers.new_data_prefix:
            events.Rule(
                self,
                "OnNewData",
                description=f"Start a pipeline run for each object created under s3://.../{triggers.new_data_prefix}",
                event_pattern=events.EventPattern(
                    source=["aws.s3"],
                    detail_type=["Object Created"],
                    detail={"bucket": {"name": [bucket]}, "object": {"key": [{"prefix": triggers.new_data_prefix}]}},
                ),
                targets=[start({"data": f"s3://{bucket}/{events.EventField.from_path('$.detail.object.key')}"})],
            )
        if triggers.schedule:
            events.Rule(
                self,
                "OnSchedule",
                description=f"Start a pipeline run over s3://.../{triggers.scheduled_data_prefix} on a schedule",
                schedule=events.Schedule.expression(triggers.schedule),
                targets=[start({"data": f"s3://{bucket}/{triggers.scheduled_data_prefix}"})],
            )
