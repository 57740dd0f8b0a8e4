"""Lambda entry point of the pipeline's failure handler: parse, delegate, return.

The logic lives in the ``failure_handling`` package beside this file.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from failure_handling.aws_clients import AwsClients
from failure_handling.handling import handle_failure
from failure_handling.settings import load_settings

logger = Logger()
tracer = Tracer()


@cache
def clients_for(region: str) -> AwsClients:
    # Kept across warm invocations; the clients inside are created on first use.
    return AwsClients(region)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    settings = load_settings()
    result = handle_failure(event, settings, clients_for(settings.region))
    logger.info("failure handled", extra={"result": result})
    return result
