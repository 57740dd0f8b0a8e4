"""The optional notebook stack (config `notebook.enabled`): a notebook instance wired to the pipeline.

Apart from the pipeline stack because its volume holds people's work: it is retained like the data, and
replacing the pipeline stack never touches it.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from constructs import Construct

from stacks.components.notebook_instance import NotebookInstance
from stacks.config import AppConfig
from stacks.nag import acknowledge
from stacks.pipeline_stack import PipelineStack
from stacks.storage_stack import StorageStack


class NotebookStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        storage: StorageStack,
        pipeline: PipelineStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, termination_protection=config.termination_protection, **kwargs)
        notebook = NotebookInstance(
            self,
            "Notebook",
            settings=config.notebook,
            key=storage.key,
            data_bucket=storage.data_bucket,
            artifacts_bucket=storage.artifacts_bucket,
            state_machines=pipeline.state_machines,
            endpoint_name=pipeline.endpoint_name,
            stack_names=[storage.stack_name, pipeline.stack_name],
        )
        notebook.instance.apply_removal_policy(RemovalPolicy.RETAIN)
        CfnOutput(self, "NotebookInstanceName", value=notebook.instance.attr_notebook_instance_name)
        acknowledge(
            notebook.role,
            *(
                (f"AwsSolutions-IAM5[Action::s3:{group}]", "CDK's S3 grant action groups on the pipeline's buckets")
                for group in ("GetObject*", "GetBucket*", "List*", "DeleteObject*", "Abort*")
            ),
            *(
                (f"AwsSolutions-IAM5[Action::kms:{group}]", "KMS data-key actions on the pipeline's key only")
                for group in ("GenerateDataKey*", "ReEncrypt*")
            ),
            *(
                (
                    f"AwsSolutions-IAM5[Resource::{storage.stack_name}:ExportsOutputFnGetAtt{bucket}/*]",
                    "People read results and upload datasets anywhere in the pipeline's own buckets",
                )
                for bucket in ("DataBucketE6B0FAA8Arn3FF3A9FF", "ArtifactsBucket88671897Arn65502B7F")
            ),
            *(
                (
                    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:"
                    f"<AWS::AccountId>:stack/{name}/*]",
                    "A stack's ARN ends in its generated id: the pipeline's two stacks by name",
                )
                for name in (storage.stack_name, pipeline.stack_name)
            ),
            (
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:"
                "/aws/sagemaker/NotebookInstances:*]",
                "SageMaker's own log group for notebook instances",
            ),
            *(
                (
                    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:"
                    f"execution:{pipeline.stack_name}:ExportsOutputFnGetAtt{machine}:*]",
                    "Executions of the pipeline's own state machines, whose names CloudFormation generates",
                )
                for machine in (
                    "WorkflowStateMachine8F1B1C15Name490007D3",
                    "ScoringStateMachineE8EB195EName9DEC0E2F",
                    "ApprovalStateMachine5BF18DA7NameF6C438DD",
                    "MonitoringWorkflowStateMachine431F1883Name6E382E21",
                )
            ),
        )
        acknowledge(self, ("NIST.800.53.R5-IAMNoInlinePolicy", "CDK grants produce a policy for this role only"))
