"""Plan a monitoring run: the serving model, its baseline, the last period's captures, and retraining.

Event: `{"input": {"scheduled_time": ...}, "execution_name": ..., "start_time": ...}` built by the state machine.
"""

from __future__ import annotations

import datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from monitoring_planning.plan import Clients, plan_monitoring
from monitoring_planning.settings import MonitoringSettings

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    clients = Clients(boto3.client("sagemaker"), boto3.client("s3"), boto3.client("stepfunctions"))
    plan = plan_monitoring(event, MonitoringSettings.from_environment(), clients, datetime.datetime.now(datetime.UTC))
    logger.info("monitoring planned", extra={"action": plan["action"], "reason": plan["reason"]})
    return plan
