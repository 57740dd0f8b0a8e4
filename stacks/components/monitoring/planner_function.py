"""The monitoring planner Lambda (lambdas/plan_monitoring), set up as the pipeline's other functions are."""

from __future__ import annotations

import json

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.components.monitoring.settings import MonitoringSettings
from stacks.support.local_bundling import function_code
from stacks.support.log_retention import log_retention


def planner_function(
    scope: Construct,
    *,
    settings: MonitoringSettings,
    key: kms.IKey,
    endpoint_name: str,
    data_bucket: str,
    artifacts_bucket: str,
    pipeline_arn: str,
) -> lambda_.Function:
    powertools = lambda_.LayerVersion.from_layer_version_arn(
        scope,
        "Powertools",
        f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:017000801446:layer:"
        f"AWSLambdaPowertoolsPythonV3-python313-x86_64:{settings.powertools_layer_version}",
    )
    log_group = logs.LogGroup(
        scope,
        "PlanMonitoringLogs",
        encryption_key=key,
        retention=log_retention(settings.log_retention_days),
        removal_policy=RemovalPolicy.RETAIN,
    )
    return lambda_.Function(
        scope,
        "PlanMonitoring",
        description="Plans a monitoring run: the serving model's baseline, the period's captures, retraining",
        runtime=lambda_.Runtime.PYTHON_3_13,
        architecture=lambda_.Architecture.X86_64,
        handler="handler.lambda_handler",
        code=function_code("plan_monitoring"),
        layers=[powertools],
        tracing=lambda_.Tracing.ACTIVE,
        memory_size=256,
        timeout=Duration.minutes(1),
        log_group=log_group,
        environment={
            "POWERTOOLS_SERVICE_NAME": "PlanMonitoring",
            "ENVIRONMENT_NAME": settings.environment,
            "ENDPOINT_NAME": endpoint_name,
            "DATA_BUCKET": data_bucket,
            "ARTIFACTS_BUCKET": artifacts_bucket,
            "PIPELINE_STATE_MACHINE_ARN": pipeline_arn,
            "MONITORING": json.dumps(
                settings.monitoring.model_dump(mode="json"), sort_keys=True, separators=(",", ":")
            ),
        },
        environment_encryption=key,
    )
