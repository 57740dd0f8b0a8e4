"""The smoke check: one short run on a small dataset, then the endpoint it deployed answers.

`python -m pipeline_client smoke --env dev` runs the same way against AWS (the stacks' CloudFormation outputs,
boto3's credentials; `--endpoint-url` for a local cloud server) and against the local cloud in this process
(`--backend local`). The delivery pipeline runs it after each dev deployment (stacks/delivery/smoke_step.py) and
passes the dev stage's outputs in SMOKE_STATE_MACHINE_ARN and SMOKE_ENDPOINT_NAME: the check fails if the stacks
it reads are not the ones the pipeline just deployed. Exit status 0 when the endpoint answered, 1 otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .client import PipelineClient
from .dataset import read_rows
from .errors import PipelineError, RunFailed
from .results import print_progress

EXPECTED_OUTPUTS = {"SMOKE_STATE_MACHINE_ARN": "state_machine_arn", "SMOKE_ENDPOINT_NAME": "endpoint_name"}
SAMPLE_ROWS = 5  # rows sent to the endpoint


class SmokeFailed(PipelineError):
    """The smoke check did not pass; the message names what failed and what to do."""

    def __init__(self, message: str, *, execution_arn: str | None = None):
        super().__init__(message)
        self.execution_arn = execution_arn  # the run it started, if any


@dataclass(frozen=True)
class SmokeResult:
    endpoint_name: str
    run_name: str | None  # None with invoke_only
    predictions: list[Any]

    def __str__(self) -> str:
        ran = f"run {self.run_name} deployed it; " if self.run_name else ""
        return (
            f"smoke check passed: {ran}endpoint {self.endpoint_name} answered {len(self.predictions)} rows: "
            f"{self.predictions}"
        )


def smoke_check(
    pipeline: PipelineClient,
    *,
    invoke_only: bool = False,
    timeout_seconds: float = 3600,
    expected: Mapping[str, str] | None = None,
    progress: Callable[[Any], None] | None = print_progress,
) -> SmokeResult:
    """Run the pipeline on the sample dataset without tuning, then call the endpoint with a few of its rows.

    `invoke_only`: only call the endpoint as it is deployed now (after a rollback, for example).
    `expected`: outputs the caller was given (environment variable -> value); they must match the stacks'."""
    _check_expected(pipeline, expected if expected is not None else os.environ)
    dataset = pipeline.sample_dataset()
    run_name = None
    if not invoke_only:
        run = pipeline.start_run(pipeline.upload_dataset(dataset), tuning=False, deploy=True)
        run_name = run.name
        try:
            result = run.wait(progress=progress, timeout_seconds=timeout_seconds)
        except RunFailed as failed:
            raise SmokeFailed(f"smoke check failed: {failed}", execution_arn=run.execution_arn) from None
        except PipelineError:  # still running at the deadline
            raise SmokeFailed(
                f"smoke check failed: run {run.name} is still RUNNING after {timeout_seconds:.0f} s\n"
                "fix: raise --timeout-minutes (smoke_timeout_minutes in config/delivery/pipeline.json), or see why "
                "the run is slow in its execution history",
                execution_arn=run.execution_arn,
            ) from None
        if result.decision is None or result.decision.outcome != "DEPLOYED":
            raise SmokeFailed(
                f"smoke check failed: run {run.name} deployed no endpoint: {result.decision or result.output}\n"
                "fix: the sample dataset must pass the environment's quality gate (pipeline.threshold and "
                f"pipeline.deploy in config/{pipeline.resources.env}.json)"
            )
    name = pipeline.resources.endpoint_name
    _check_in_service(pipeline, name, ran=run_name is not None)
    rows = read_rows(dataset, limit=SAMPLE_ROWS).features
    try:
        predictions = pipeline.predict(rows)
    except PipelineError as error:
        raise SmokeFailed(f"smoke check failed: endpoint {name} answered with an error: {error}") from None
    if len(predictions) != len(rows):
        raise SmokeFailed(
            f"smoke check failed: endpoint {name} answered {len(predictions)} predictions for {len(rows)} rows\n"
            "fix: the serving code must answer one prediction per row (training_code/serve.py)"
        )
    return SmokeResult(endpoint_name=name, run_name=run_name, predictions=predictions)


def _check_expected(pipeline: PipelineClient, given: Mapping[str, str]) -> None:
    for variable, attribute in EXPECTED_OUTPUTS.items():
        wanted, found = given.get(variable), getattr(pipeline.resources, attribute)
        if wanted and wanted != found:
            raise SmokeFailed(
                f"smoke check failed: {variable} is {wanted}, but the {pipeline.resources.env} stacks found in "
                f"{pipeline.resources.region} have {found}\nfix: check the stacks the pipeline deployed: point the "
                "credentials (AWS_PROFILE) and AWS_DEFAULT_REGION at that account and region"
            )


def _check_in_service(pipeline: PipelineClient, name: str, *, ran: bool) -> None:
    deploy = (
        "the run reported DEPLOYED: see the endpoint's events in the SageMaker console"
        if ran
        else f"run it without --invoke-only: python -m pipeline_client smoke --env {pipeline.resources.env}"
    )
    try:
        described = pipeline.client("sagemaker").describe_endpoint(EndpointName=name)
    except ClientError as error:
        details = error.response.get("Error", {})
        # SageMaker says ValidationException: Could not find endpoint "arn:...".
        if "could not find" in str(details.get("Message", "")).lower():
            raise SmokeFailed(f"smoke check failed: no endpoint {name} is deployed\nfix: {deploy}") from None
        raise SmokeFailed(
            f"smoke check failed: cannot describe endpoint {name}: {details.get('Code')}: {details.get('Message')}\n"
            "fix: check that the credentials may call sagemaker:DescribeEndpoint"
        ) from None
    status = described["EndpointStatus"]
    if status != "InService":
        reason = described.get("FailureReason") or "no failure reason"
        raise SmokeFailed(f"smoke check failed: endpoint {name} is {status} ({reason}), not InService\nfix: {deploy}")
