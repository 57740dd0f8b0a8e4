"""Batch scoring: a dataset in S3 scored offline by a registered model, with a SageMaker transform job.

PrepareScoring -> (the given package | the group's newest Approved one) -> DescribeModelPackage ->
Approved? -> CreateModel -> Transform (createTransformJob.sync) -> Summarize -> Scored. Output lands under
`s3://<artifacts>/scoring/<run id>/`, one `<input file>.out` per input file. Failures take the same
failure path as the training workflow: recorded, announced, and a running transform job is stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from stacks.components.workflow import sagemaker_jobs as jobs
from stacks.components.workflow.deployment import create_model_state, describe_model_package_state
from stacks.components.workflow.failure_path import FailurePath
from stacks.components.workflow.observed_state_machine import observed_state_machine
from stacks.components.workflow.planning_step import planning_step
from stacks.config.sections import BatchTransformConfig
from stacks.config.timeouts import SLACK_SECONDS
from stacks.support.documents import SCORING


@dataclass(frozen=True)
class ScoringResources:
    prepare_scoring: lambda_.IFunction
    failure_handler: lambda_.IFunction
    key: kms.IKey
    role_arn: str
    model_package_group_name: str


def transform_request(*, key_arn: str, max_payload_mb: int, max_concurrent: int) -> dict:
    """CreateTransformJob: CSV rows in, one prediction per row out, each joined to its input row."""
    return {
        "TransformJobName.$": SCORING("jobs.transform"),
        "ModelName.$": SCORING("jobs.model"),
        "BatchStrategy": "MultiRecord",
        "MaxPayloadInMB": max_payload_mb,
        "MaxConcurrentTransforms": max_concurrent,
        "ModelClientConfig": {"InvocationsTimeoutInSeconds": 600, "InvocationsMaxRetries": 1},
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri.$": SCORING("s3.input")}},
            "ContentType": "text/csv",
            "SplitType": "Line",
            "CompressionType": "None",
        },
        "TransformOutput": {
            "S3OutputPath.$": SCORING("s3.output"),
            "Accept": "text/csv",
            "AssembleWith": "Line",
            "KmsKeyId": key_arn,
        },
        "TransformResources": {
            "InstanceType.$": SCORING("resources.InstanceType"),
            "InstanceCount.$": SCORING("resources.InstanceCount"),
            "VolumeKmsKeyId": key_arn,
        },
        "DataProcessing.$": SCORING("data_processing"),
        "Tags": [{"Key": "pipeline-run", "Value.$": SCORING("id")}],
    }


class ScoringWorkflow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        resources: ScoringResources,
        batch: BatchTransformConfig,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        failures = FailurePath(self, "Failure", failure_handler=resources.failure_handler)

        prepare = planning_step(
            self,
            "PrepareScoring",
            function=resources.prepare_scoring,
            plan_key="scoring",
            comment="Validate the input, derive the job names and the output prefix",
            failures=failures,
        )

        find = tasks.CallAwsService(
            self,
            "FindApprovedModel",
            state_name="FindApprovedModel",
            comment="The newest Approved version in this pipeline's model group",
            service="sagemaker",
            action="listModelPackages",
            iam_action="sagemaker:ListModelPackages",
            iam_resources=["*"],  # ListModelPackages has no resource-level permissions
            parameters={
                "ModelPackageGroupName": resources.model_package_group_name,
                "ModelApprovalStatus": "Approved",
                "SortBy": "CreationTime",
                "SortOrder": "Descending",
                "MaxResults": 1,
            },
            result_selector={"arns.$": "$.ModelPackageSummaryList[*].ModelPackageArn"},
            result_path="$.approved",
        )
        failures.catch(find, step="FindApprovedModel", job_type="none", job_name_path=None)
        count = sfn.Pass(
            self,
            "CountApproved",
            state_name="CountApproved",
            parameters={"arns.$": "$.approved.arns", "count.$": "States.ArrayLength($.approved.arns)"},
            result_path="$.approved",
        )
        use_newest = sfn.Pass(
            self,
            "UseNewestApproved",
            state_name="UseNewestApproved",
            parameters={"arn.$": "States.ArrayGetItem($.approved.arns, 0)"},
            result_path="$.package",
        )
        use_given = sfn.Pass(
            self,
            "UseGivenPackage",
            state_name="UseGivenPackage",
            parameters={"arn.$": SCORING("model_package_arn")},
            result_path="$.package",
        )
        none_approved = sfn.Fail(
            self,
            "NoApprovedModel",
            state_name="NoApprovedModel",
            error="NoApprovedModel",
            cause=f"No Approved model package in {resources.model_package_group_name}: approve one, "
            "or pass model_package_arn",
        )

        describe = describe_model_package_state(
            self,
            arn_path="$.package.arn",
            group_name=resources.model_package_group_name,
            comment="The package's image and artifact, and whether it is approved",
            failures=failures,
        )
        not_approved = sfn.Fail(
            self,
            "NotApproved",
            state_name="NotApproved",
            error="ModelPackageNotApproved",
            cause="Only an Approved model package scores data: approve it in the model registry first",
        )

        create_model = create_model_state(
            self,
            plan=SCORING(),
            image_path="$.package.container.Image",
            artifact_path="$.package.container.ModelDataUrl",
            role_arn=resources.role_arn,
            result_path="$.model",
            comment="A SageMaker model from the package's container",
            failures=failures,
        )

        transform = sfn.CustomState(
            self,
            "Transform",
            state_json=jobs.job_state(
                transform_request(
                    key_arn=resources.key.key_arn,
                    max_payload_mb=batch.max_payload_mb,
                    max_concurrent=batch.max_concurrent_transforms,
                ),
                api="createTransformJob",
                comment="Score every row of the dataset; output files mirror the input files (.out)",
                result_selector={
                    "name.$": "$.TransformJobName",
                    "output.$": "$.TransformOutput.S3OutputPath",
                },
                result_path="$.transform",
                timeout_seconds=batch.max_runtime_seconds + SLACK_SECONDS,
            ),
        )
        failures.catch(transform, step="Transform", job_type="transform", job_name_path=SCORING("jobs.transform"))

        done = sfn.Pass(
            self,
            "Summarize",
            state_name="Summarize",
            parameters={
                "status": "SCORED",
                "run_id.$": SCORING("id"),
                "model_package_arn.$": "$.package.arn",
                "input.$": SCORING("s3.input"),
                "output.$": "$.transform.output",
                "transform_job.$": "$.transform.name",
            },
        ).next(sfn.Succeed(self, "Scored", state_name="Scored"))

        score = describe.next(
            sfn.Choice(self, "Approved", state_name="Approved?")
            .when(sfn.Condition.string_equals("$.package.status", "Approved"), create_model)
            .otherwise(not_approved)
        )
        create_model.next(transform).next(done)
        self.definition = prepare.next(
            sfn.Choice(self, "PackageGiven", state_name="PackageGiven?")
            .when(sfn.Condition.is_null(SCORING("model_package_arn")), find)
            .otherwise(use_given.next(score))
        )
        find.next(count).next(
            sfn.Choice(self, "AnyApproved", state_name="AnyApproved?")
            .when(sfn.Condition.number_equals("$.approved.count", 0), none_approved)
            .otherwise(use_newest.next(describe))
        )
        self.state_machine = observed_state_machine(
            self,
            definition=self.definition,
            key=resources.key,
            log_retention_days=log_retention_days,
            timeout=Duration.seconds(batch.max_runtime_seconds + 2 * SLACK_SECONDS),
            comment="Batch scoring: a dataset scored offline by a registered model",
        )
