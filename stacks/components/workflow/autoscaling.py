"""Scale the endpoint's variant with its traffic, once it is InService; safe to repeat on every run.

RegisterScalableTarget updates an existing target and PutScalingPolicy replaces a policy of the same
name, so a second run (an endpoint update) leaves exactly one target and one policy.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from stacks.components.workflow.failure_path import FailurePath
from stacks.config import EndpointAutoscaling

DIMENSION = "sagemaker:variant:DesiredInstanceCount"
POLICY_NAME = "invocations-per-instance"


class EndpointAutoscalingStates(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EndpointAutoscaling,
        endpoint_name: str,
        failures: FailurePath,
    ) -> None:
        super().__init__(scope, construct_id)
        target = {
            "ServiceNamespace": "sagemaker",
            "ResourceId": f"endpoint/{endpoint_name}/variant/AllTraffic",
            "ScalableDimension": DIMENSION,
        }
        register = tasks.CallAwsService(
            self,
            "RegisterScalableTarget",
            state_name="RegisterScalableTarget",
            comment="Instance bounds of the endpoint's variant",
            service="applicationautoscaling",
            action="registerScalableTarget",
            iam_action="application-autoscaling:RegisterScalableTarget",
            iam_resources=["*"],
            parameters={**target, "MinCapacity": settings.min_instances, "MaxCapacity": settings.max_instances},
            result_path=sfn.JsonPath.DISCARD,
        )
        failures.catch(register, step="RegisterScalableTarget", job_type="none", job_name_path=None)
        policy = tasks.CallAwsService(
            self,
            "PutScalingPolicy",
            state_name="PutScalingPolicy",
            comment="Target tracking on invocations per instance",
            service="applicationautoscaling",
            action="putScalingPolicy",
            iam_action="application-autoscaling:PutScalingPolicy",
            iam_resources=["*"],
            additional_iam_statements=[
                # Target tracking creates and manages its own CloudWatch alarms.
                iam.PolicyStatement(
                    actions=["cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms"],
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    actions=["iam:CreateServiceLinkedRole"],
                    resources=["*"],
                    conditions={
                        "StringEquals": {"iam:AWSServiceName": "sagemaker.application-autoscaling.amazonaws.com"}
                    },
                ),
            ],
            parameters={
                **target,
                "PolicyName": POLICY_NAME,
                "PolicyType": "TargetTrackingScaling",
                "TargetTrackingScalingPolicyConfiguration": {
                    "TargetValue": settings.invocations_per_instance,
                    "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
                    "ScaleInCooldown": settings.scale_in_cooldown_seconds,
                    "ScaleOutCooldown": settings.scale_out_cooldown_seconds,
                },
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        failures.catch(policy, step="PutScalingPolicy", job_type="none", job_name_path=None)
        self.chain = register.next(policy)
