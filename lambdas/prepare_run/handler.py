"""Validate an execution's input, fill in the environment's defaults and plan the run's names and paths.

`lambda_handler` plans a training run, `scoring_handler` a batch-scoring run (two functions, one package)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from run_planning.run_plan import plan_run
from run_planning.scoring_plan import plan_scoring
from run_planning.settings import ScoringSettings, Settings

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


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def scoring_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The batch-scoring workflow's first step; the event has the same shape as lambda_handler's."""
    plan = plan_scoring(
        event.get("input"),
        ScoringSettings.from_environment(),
        execution_name=event["execution_name"],
        start_time=event["start_time"],
    )
    logger.info("scoring planned", extra={"run_id": plan["id"], "model_package_arn": plan["model_package_arn"]})
    return plan
