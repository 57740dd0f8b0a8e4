"""IAM for the monitoring workflow's processing job task (a CustomState, which CDK grants nothing) and for
the planner: exactly the calls they make."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn

from stacks.components.workflow.sync_job_grants import grant_sync_jobs, pass_role_and_encrypt


def grant_monitor_job(state_machine: sfn.StateMachine, *, sagemaker_role: iam.IRole, key: kms.IKey) -> None:
    """createProcessingJob.sync: the job's calls, Step Functions' own rule, the role it passes, the volume key."""
    grant_sync_jobs(state_machine, ("processing-job",), names="monitor-*", sid="RunMonitoringJobs")
    pass_role_and_encrypt(state_machine, sagemaker_role=sagemaker_role, key=key, storage="Monitoring")
    key.grant_decrypt(state_machine)  # constraint_violations.json is SSE-KMS


def grant_planner(
    function: lambda_.IFunction,
    *,
    endpoint_name: str,
    artifacts_bucket: s3.IBucket,
    data_bucket: s3.IBucket,
    pipeline: sfn.IStateMachine,
    key: kms.IKey,
) -> None:
    """Describe what serves; look for captures, ground truth and the baseline; list recent training runs."""
    stack = Stack.of(function)

    def sagemaker(resource: str, name: str) -> str:
        return stack.format_arn(service="sagemaker", resource=resource, resource_name=name)

    function.add_to_role_policy(
        iam.PolicyStatement(
            sid="DescribeServingModel",
            actions=["sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel"],
            resources=[
                sagemaker("endpoint", endpoint_name),
                sagemaker("endpoint-config", "*"),
                sagemaker("model", "*"),
            ],
        )
    )
    function.add_to_role_policy(
        iam.PolicyStatement(
            sid="ListRecentRuns", actions=["states:ListExecutions"], resources=[pipeline.state_machine_arn]
        )
    )
    artifacts_bucket.grant_read(function, "runs/*")  # HeadObject of the baseline and evaluation
    artifacts_bucket.grant_read(function, "data-capture/*")  # ListObjectsV2 needs s3:ListBucket, granted here too
    data_bucket.grant_read(function)  # ground truth and the newest data prefix
    key.grant_decrypt(function)
