"""How people hear about failures: the encrypted topic, the backstop rule, and alarms on the handling itself."""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.support.event_delivery import invoke

BACKSTOP_STATUSES = ["FAILED", "TIMED_OUT", "ABORTED"]


class NotificationTopic(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey, email: str | None) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "Topic", display_name="ML pipeline failures", master_key=key, enforce_ssl=True)
        # The topic policy replaces SNS's default one: CloudWatch alarms of this account must be let in.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisAccountsAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*"
                    },
                },
            )
        )
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))


class FailureBackstop(Construct):
    """Failures no Catch saw (a timeout of the whole execution, an abort, a failed handler) still reach the
    failure handler, and alarms announce when the handling itself fails."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        state_machines: dict[str, sfn.IStateMachine],
        failure_handler: lambda_.IFunction,
        dead_letters: sqs.IQueue,
        topic: sns.ITopic,
    ) -> None:
        """`state_machines`: alarm-name prefix -> machine ("" for the training workflow)."""
        super().__init__(scope, construct_id)
        arns = [machine.state_machine_arn for machine in state_machines.values()]
        events.Rule(
            self,
            "ExecutionEnded",
            description="Failed, timed-out and aborted executions of the ML pipeline go to the failure handler",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={"status": BACKSTOP_STATUSES, "stateMachineArn": arns},
            ),
            targets=[invoke(failure_handler, dead_letters=dead_letters)],
        )
        notify = actions.SnsAction(topic)
        alarms = {
            "FailureHandlerErrors": failure_handler.metric_errors(period=Duration.minutes(5), statistic="Sum"),
            "FailureHandlingLost": dead_letters.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic="Maximum"
            ),
        }
        five = Duration.minutes(5)
        for prefix, machine in state_machines.items():
            alarms[f"{prefix}ExecutionsFailed"] = machine.metric_failed(period=five, statistic="Sum")
            alarms[f"{prefix}ExecutionsTimedOut"] = machine.metric_timed_out(period=five, statistic="Sum")
            alarms[f"{prefix}ExecutionsAborted"] = machine.metric_aborted(period=five, statistic="Sum")
        self.alarms = []
        for name, metric in alarms.items():
            alarm = metric.create_alarm(
                self,
                name,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"ML pipeline: {name}",
            )
            alarm.add_alarm_action(notify)
            self.alarms.append(alarm)
