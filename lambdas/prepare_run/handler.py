"""Validate an execution's input, fill in the environment's defaults and plan the run's names and paths."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from run_planning.run_plan import plan_run
from run_planning.settings import Settings

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Event: `{"input": <execution input>, "execution_name": ..., "start_time": ...}` built by the state machine."""
    run = plan_run(
        event.get("input"),
        Settings.from_environment(),
        execution_name=event["execution_name"],
        start_time=event["start_time"],
    )
    logger.info(
        "run planned", extra={"run_id": run["id"], "algorithm": run["algorithm"], "tuning": run["tuning"]["enabled"]}
    )
    return run
