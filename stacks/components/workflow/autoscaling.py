"""Scale the endpoint's variant with its traffic, once it is InService; safe to repeat on every run.

RegisterScalableTarget updates an existing target and PutScalingPolicy replaces a policy of the same
name, so a second run (an endpoint update) leaves exactly one target and one policy.

The caller needs what the SageMaker and Application Auto Scaling guides list: the two calls on scalable
targets of SageMaker variants, the endpoint's Describe* and UpdateEndpointWeightsAndCapacities, the
CloudWatch alarms target tracking creates (named `TargetTracking-endpoint/<endpoint>/...`), and the
service-linked role, created on first use. Each is scoped to this endpoint's names.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from stacks.components.workflow.failure_path import FailurePath
from stacks.config import EndpointAutoscaling

DIMENSION = "sagemaker:variant:DesiredInstanceCount"
POLICY_NAME = "invocations-per-instance"
SERVICE_LINKED_ROLE = (
    "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)


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
        stack = Stack.of(self)
        # Scalable-target ARNs carry a service-generated id: any target here, narrowed to SageMaker variants.
        targets = stack.format_arn(service="application-autoscaling", resource="scalable-target", resource_name="*")
        variant_only = {
            "application-autoscaling:service-namespace": "sagemaker",
            "application-autoscaling:scalable-dimension": DIMENSION,
        }
        register = tasks.CallAwsService(
            self,
            "RegisterScalableTarget",
            state_name="RegisterScalableTarget",
            comment="Instance bounds of the endpoint's variant",
            service="applicationautoscaling",
            action="registerScalableTarget",
            iam_action="application-autoscaling:RegisterScalableTarget",
            iam_resources=[targets],
            additional_iam_statements=[
                iam.PolicyStatement(
                    actions=["sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpointWeightsAndCapacities"],
                    resources=[stack.format_arn(service="sagemaker", resource="endpoint", resource_name=endpoint_name)],
                ),
                iam.PolicyStatement(
                    actions=["sagemaker:DescribeEndpointConfig"],
                    resources=[stack.format_arn(service="sagemaker", resource="endpoint-config", resource_name="*")],
                ),
                iam.PolicyStatement(
                    actions=["iam:CreateServiceLinkedRole"],
                    resources=[
                        stack.format_arn(service="iam", region="", resource="role", resource_name=SERVICE_LINKED_ROLE)
                    ],
                    conditions={
                        "StringEquals": {"iam:AWSServiceName": "sagemaker.application-autoscaling.amazonaws.com"}
                    },
                ),
            ],
            parameters={**target, "MinCapacity": settings.min_instances, "MaxCapacity": settings.max_instances},
            result_path=sfn.JsonPath.DISCARD,
        )
        failures.catch(register, step="RegisterScalableTarget", job_type="none", job_name_path=None)
        tracking_alarms = stack.format_arn(
            service="cloudwatch",
            resource="alarm",
            resource_name=f"TargetTracking-endpoint/{endpoint_name}/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        policy = tasks.CallAwsService(
            self,
            "PutScalingPolicy",
            state_name="PutScalingPolicy",
            comment="Target tracking on invocations per instance",
            service="applicationautoscaling",
            action="putScalingPolicy",
            iam_action="application-autoscaling:PutScalingPolicy",
            iam_resources=[targets],
            additional_iam_statements=[
                # Target tracking creates and manages its own alarms, named after the endpoint's variant.
                iam.PolicyStatement(
                    actions=["cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms"],
                    resources=[tracking_alarms],
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
        for state in (register, policy):
            # CallAwsService's own statement takes no condition; its protected task policies are where it is.
            for statement in state._task_policies or []:
                if any(a.startswith("application-autoscaling:") for a in statement.actions):
                    statement.add_conditions({"StringEquals": variant_only})
        failures.catch(policy, step="PutScalingPolicy", job_type="none", job_name_path=None)
        self.chain = register.next(policy)
