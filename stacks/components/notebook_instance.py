"""A SageMaker notebook instance for data scientists: in the team's VPC, no direct internet, no root,
its volume encrypted with the pipeline's key, and a role that may only start and follow pipeline runs,
call the endpoint and use the data and artifacts buckets."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.config import NotebookConfig
from stacks.support.arns import execution_arns


class NotebookInstance(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: NotebookConfig,
        key: kms.IKey,
        data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        state_machines: list[sfn.IStateMachine],
        endpoint_name: str,
        stack_names: list[str],
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="The pipeline's notebook: start and follow runs, call the endpoint, read results",
        )
        data_bucket.grant_read_write(self.role)  # upload datasets to score or train on
        artifacts_bucket.grant_read(self.role)  # read evaluations, scoring output, failure records
        key.grant_encrypt_decrypt(self.role)
        executions = execution_arns(stack, state_machines)
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="StartPipelineRuns",
                actions=["states:StartExecution"],
                resources=[machine.state_machine_arn for machine in state_machines],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="FollowPipelineRuns",
                actions=["states:DescribeExecution", "states:GetExecutionHistory", "states:StopExecution"],
                resources=executions,
            )
        )
        endpoint = stack.format_arn(service="sagemaker", resource="endpoint", resource_name=endpoint_name)
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="CallTheEndpoint",
                actions=["sagemaker:InvokeEndpoint", "sagemaker:DescribeEndpoint"],
                resources=[endpoint],
            )
        )
        # The notebook's client finds buckets, state machines and the endpoint in the stacks' outputs.
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadPipelineOutputs",
                actions=["cloudformation:DescribeStacks"],
                resources=[
                    stack.format_arn(service="cloudformation", resource="stack", resource_name=f"{name}/*")
                    for name in stack_names
                ],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteNotebookLogs",
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[
                    stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="/aws/sagemaker/NotebookInstances:*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )
        self.instance = sagemaker.CfnNotebookInstance(
            self,
            "Instance",
            instance_type=settings.instance_type,
            role_arn=self.role.role_arn,
            kms_key_id=key.key_id,
            direct_internet_access="Disabled",
            root_access="Disabled",
            subnet_id=settings.subnet_id,
            security_group_ids=list(settings.security_group_ids),
            volume_size_in_gb=settings.volume_size_gb,
            platform_identifier="notebook-al2-v3",
        )
