"""The pipeline's Lambda functions: prepare-run and prepare-scoring (input validation and planning) and the
failure handler."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.checkov_skips import skip_checkov
from stacks.nag import acknowledge
from stacks.support.arns import execution_arns
from stacks.support.local_bundling import function_code
from stacks.support.log_retention import log_retention
from stacks.support.nag_reasons import (
    ARTIFACTS_BUCKET_ARN,
    MANAGED_BASIC_ROLE,
    NO_RESERVED_CONCURRENCY,
    NO_VPC,
    PER_RUN_NAMES,
    PLAIN_ENVIRONMENT,
    RUNTIME,
    SAGEMAKER_ARN,
    SYNCHRONOUS,
    XRAY_AND_LIST,
    imported,
    s3_and_kms,
)

# The container's catalog, metrics and hyperparameter parser are stdlib-only: the function validates
# an execution's input with the same code the training job will use.
SHARED_WITH_TRAINING_CODE = (
    "training_code/catalog.py",
    "training_code/metrics.py",
    "training_code/hyperparameters.py",
    "training_code/errors.py",
    "training_code/objective.py",
)
FAILURE_RECORD_PREFIX = "failures/"


class PipelineFunctions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment_name: str,
        powertools_layer_version: int,
        log_retention_days: int,
        run_defaults: dict[str, Any],
        scoring_defaults: dict[str, Any] | None,
        pipeline_name: str,
        data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        key: kms.IKey,
        topic: sns.ITopic,
        endpoint_name: str,
        model_package_group: str,
    ) -> None:
        """`run_defaults`, `scoring_defaults`: what an execution gets for each field its input leaves out
        (stacks.config.run_defaults, scoring_defaults); no scoring defaults, no prepare-scoring function."""
        super().__init__(scope, construct_id)
        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "Powertools",
            f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:017000801446:layer:"
            f"AWSLambdaPowertoolsPythonV3-python313-x86_64:{powertools_layer_version}",
        )

        def function(
            name: str,
            *,
            description: str,
            environment: dict[str, str],
            handler: str = "handler.lambda_handler",
            **kwargs: Any,
        ) -> lambda_.Function:
            log_group = logs.LogGroup(
                self,
                f"{name}Logs",
                encryption_key=key,
                retention=log_retention(log_retention_days),
                removal_policy=RemovalPolicy.RETAIN,
            )
            return lambda_.Function(
                self,
                name,
                description=description,
                runtime=lambda_.Runtime.PYTHON_3_13,
                architecture=lambda_.Architecture.X86_64,
                handler=handler,
                layers=[powertools],
                tracing=lambda_.Tracing.ACTIVE,
                memory_size=256,
                timeout=Duration.minutes(1),
                log_group=log_group,
                environment={"POWERTOOLS_SERVICE_NAME": name, "ENVIRONMENT_NAME": environment_name, **environment},
                environment_encryption=key,
                **kwargs,
            )

        planning_code = function_code("prepare_run", shared_modules=SHARED_WITH_TRAINING_CODE)
        self.prepare_run = function(
            "PrepareRun",
            description="Validates an execution's input and plans the run's names and paths",
            code=planning_code,
            environment={
                "DATA_BUCKET": data_bucket.bucket_name,
                "ARTIFACTS_BUCKET": artifacts_bucket.bucket_name,
                "ENDPOINT_NAME": endpoint_name,
                "RUN_DEFAULTS": json.dumps(run_defaults, sort_keys=True, separators=(",", ":")),
            },
        )

        self.prepare_scoring: lambda_.Function | None = None
        if scoring_defaults is not None:
            self.prepare_scoring = function(
                "PrepareScoring",
                description="Validates a batch-scoring input and plans the transform job's names and paths",
                code=planning_code,
                handler="handler.scoring_handler",
                environment={
                    "DATA_BUCKET": data_bucket.bucket_name,
                    "ARTIFACTS_BUCKET": artifacts_bucket.bucket_name,
                    "MODEL_PACKAGE_GROUP": model_package_group,
                    "SCORING_DEFAULTS": json.dumps(scoring_defaults, sort_keys=True, separators=(",", ":")),
                },
            )

        # Invoked asynchronously by the backstop rule: a failed handling lands here, never lost.
        self.dead_letters = sqs.Queue(
            self,
            "FailureHandlerDeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.failure_handler = function(
            "FailureHandler",
            description="Records, explains and announces a failed run, and stops what it left running",
            code=function_code("failure_handler"),
            environment={
                "FAILURE_RECORD_BUCKET": artifacts_bucket.bucket_name,
                "FAILURE_RECORD_PREFIX": FAILURE_RECORD_PREFIX,
                "NOTIFICATION_TOPIC_ARN": topic.topic_arn,
                "PIPELINE_NAME": pipeline_name,
            },
            dead_letter_queue=self.dead_letters,
            retry_attempts=2,
        )
        artifacts_bucket.grant_read_write(self.failure_handler, f"{FAILURE_RECORD_PREFIX}*")
        topic.grant_publish(self.failure_handler)
        key.grant_encrypt_decrypt(self.failure_handler)
        self._acknowledge_findings(artifacts_bucket)

    def _acknowledge_findings(self, artifacts_bucket: s3.IBucket) -> None:
        planners = [self.prepare_run, *([self.prepare_scoring] if self.prepare_scoring else [])]
        functions = [self.prepare_run, self.failure_handler, *planners[1:]]
        for function in functions:
            acknowledge(
                function,
                (
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AWSLambdaBasicExecutionRole]",
                    MANAGED_BASIC_ROLE,
                ),
                ("AwsSolutions-L1", RUNTIME),
                ("AwsSolutions-IAM5[Resource::*]", XRAY_AND_LIST),
            )
        for function in functions:
            skip_checkov(
                function,
                ("CKV_AWS_117", NO_VPC),
                ("CKV_AWS_115", NO_RESERVED_CONCURRENCY),
                ("CKV_AWS_45", PLAIN_ENVIRONMENT),
            )
        for function in planners:
            skip_checkov(function, ("CKV_AWS_116", SYNCHRONOUS))
            acknowledge(function, ("NIST.800.53.R5-LambdaDLQ", SYNCHRONOUS))
        artifacts = imported(artifacts_bucket, ARTIFACTS_BUCKET_ARN)
        acknowledge(
            self.failure_handler,
            *s3_and_kms(),
            (
                f"AwsSolutions-IAM5[Resource::{artifacts}/failures/*]",
                "One failure record per execution under failures/",
            ),
        )

    def grant_failure_handling(self, *, state_machines: Sequence[sfn.IStateMachine], endpoint_name: str) -> None:
        """What the failure handler inspects and stops for a failed run of any of `state_machines`.

        A separate policy: the function must not depend on the state machines that invoke it. It lives in the
        stack's scope, where it was before this construct granted it, so its logical id stays.
        """
        stack = Stack.of(self)

        def arn(resource: str, name: str) -> str:
            return stack.format_arn(service="sagemaker", resource=resource, resource_name=name)

        policy = iam.Policy(
            stack,
            "FailureHandlerInspectAndStop",
            roles=[self.failure_handler.role],
            statements=[
                iam.PolicyStatement(
                    sid="ReadExecutionHistory",
                    actions=["states:GetExecutionHistory"],
                    resources=execution_arns(stack, state_machines),
                ),
                iam.PolicyStatement(
                    sid="InspectAndStopRunJobs",
                    actions=[
                        "sagemaker:DescribeTrainingJob",
                        "sagemaker:StopTrainingJob",
                        "sagemaker:DescribeProcessingJob",
                        "sagemaker:StopProcessingJob",
                        "sagemaker:DescribeHyperParameterTuningJob",
                        "sagemaker:StopHyperParameterTuningJob",
                        "sagemaker:DescribeTransformJob",
                        "sagemaker:StopTransformJob",
                    ],
                    resources=[
                        arn("training-job", "*"),
                        arn("processing-job", "*"),
                        arn("hyper-parameter-tuning-job", "*"),
                        arn("transform-job", "*"),
                    ],
                ),
                iam.PolicyStatement(
                    sid="CleanUpFailedEndpointCreation",
                    actions=["sagemaker:DescribeEndpoint", "sagemaker:DeleteEndpoint"],
                    resources=[arn("endpoint", endpoint_name)],
                ),
            ],
        )
        execution_history = (
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
        )
        acknowledge(
            policy,
            *(
                (
                    f"AwsSolutions-IAM5[Resource::{SAGEMAKER_ARN}:{kind}/*]",
                    f"Stops what a failed run left running: {PER_RUN_NAMES}",
                )
                for kind in ("processing-job", "training-job", "hyper-parameter-tuning-job", "transform-job")
            ),
            (
                f"{execution_history}<WorkflowStateMachine8F1B1C15.Name>:*]",
                "History of this state machine's executions only",
            ),
            (
                f"{execution_history}<ApprovalStateMachine5BF18DA7.Name>:*]",
                "History of the approval workflow's executions only",
            ),
            (
                f"{execution_history}<ScoringStateMachineE8EB195E.Name>:*]",
                "History of the scoring workflow's executions only",
            ),
        )
