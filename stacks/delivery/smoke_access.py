"""The role the delivery pipeline's smoke check assumes in the environment it checks, and nothing more.

It sits in the checked stage (its own stack, `SageMakerPipeline-<env>-SmokeAccess`), so it lives in that
environment's account, trusts only the smoke check's CodeBuild role of the tooling account, and may only do what
`python -m pipeline_client smoke` does: read the two stacks' outputs, upload a dataset, start and follow one
execution, and call the endpoint.
"""

from __future__ import annotations

from aws_cdk import Aws, CfnOutput, Stack
from aws_cdk import aws_iam as iam

from stacks.delivery.nag_arns import arn_prefix
from stacks.nag import acknowledge
from stacks.pipeline_stage import PipelineStage

SMOKE_CODEBUILD_ROLE = "ml-pipeline-delivery-smoke"  # the tooling account's CodeBuild role (stacks/delivery/)
ROLE_OUTPUT = "SmokeRoleArn"


def smoke_role_name(environment: str) -> str:
    return f"SageMakerPipeline-{environment}-smoke"


class SmokeAccessStack(Stack):
    def __init__(self, stage: PipelineStage, construct_id: str, *, environment: str, tooling_account: str) -> None:
        super().__init__(
            stage,
            construct_id,
            description=f"ML pipeline ({environment}): the role the delivery pipeline's smoke check assumes",
        )
        storage, pipeline = stage.storage, stage.pipeline
        caller = f"arn:{Aws.PARTITION}:iam::{tooling_account}:role/{SMOKE_CODEBUILD_ROLE}"
        self.role = iam.Role(
            self,
            "Role",
            role_name=smoke_role_name(environment),
            description="Assumed by the delivery pipeline's smoke check (python -m pipeline_client smoke)",
            assumed_by=iam.ArnPrincipal(caller),
        )
        stacks = [
            self.format_arn(service="cloudformation", resource="stack", resource_name=f"{stack.stack_name}/*")
            for stack in (storage, pipeline)
        ]
        endpoint = self.format_arn(service="sagemaker", resource="endpoint", resource_name=pipeline.endpoint_name)
        datasets = storage.data_bucket.arn_for_objects("datasets/*")
        statements = [
            ("ReadTheStacksOutputs", ["cloudformation:DescribeStacks"], stacks),
            ("UploadTheSmokeDataset", ["s3:PutObject", "s3:GetObject"], [datasets]),
            ("EncryptTheUpload", ["kms:GenerateDataKey", "kms:Decrypt"], [storage.key.key_arn]),
            ("StartTheRun", ["states:StartExecution"], [pipeline.state_machine.state_machine_arn]),
            ("CallTheEndpoint", ["sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint"], [endpoint]),
        ]
        for sid, actions, resources in statements:
            self.role.add_to_policy(iam.PolicyStatement(sid=sid, actions=actions, resources=resources))
        pipeline.state_machine.grant_execution(self.role, "states:DescribeExecution", "states:GetExecutionHistory")
        self.role_output = CfnOutput(self, ROLE_OUTPUT, value=self.role.role_arn, description="The smoke check's role")
        acknowledge(
            self,
            ("NIST.800.53.R5-IAMNoInlinePolicy", "One role with one policy of its own, scoped to one environment"),
        )
        storage_exports = f"{storage.stack_name}:ExportsOutputFnGetAtt"
        machine = (
            f'{{"Fn::Select":[6,{{"Fn::Split":[":",{{"Fn::ImportValue":"{pipeline.stack_name}:'
            'ExportsOutputRefWorkflowStateMachine8F1B1C15CF92D77D"}]}]}'
        )
        acknowledge(
            self.role,
            (
                f"AwsSolutions-IAM5[Resource::{storage_exports}DataBucketE6B0FAA8Arn3FF3A9FF/datasets/*]",
                "upload_dataset writes a new key under datasets/ per upload",
            ),
            (
                f"AwsSolutions-IAM5[Resource::{arn_prefix(self, 'states')}:execution:{machine}:*]",
                "The executions of the pipeline's state machine only: execution names are made per run",
            ),
            *(
                (
                    f"AwsSolutions-IAM5[Resource::{arn_prefix(self, 'cloudformation')}:stack/{stack.stack_name}/*]",
                    "A stack ARN ends in the id CloudFormation gives it; the name is fixed",
                )
                for stack in (storage, pipeline)
            ),
        )
