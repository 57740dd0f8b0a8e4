"""Start a pipeline run on AWS: upload a local CSV to the data bucket and start an execution.

    python -m tools.start_run --env dev --csv data.csv [--algorithm xgboost] [--no-tuning] [--threshold 0.9]
        [--metric f1] [--hyperparameter max_depth=4 ...] [--training-instance-type ml.m5.xlarge] [--no-deploy]

Bucket and state machine come from the deployed stacks' outputs (or --data-bucket/--state-machine-arn).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from pipeline_client.arguments import add_run_arguments, run_options
from pipeline_client.dataset import check_dataset, check_labels
from pipeline_client.errors import PipelineError
from pipeline_client.options import environment_defaults


class RunError(Exception):
    """A problem the user can fix; the message says how."""


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    try:
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    except cloudformation.exceptions.ClientError as error:
        raise RunError(
            f"stack {stack_name} not found ({error}); deploy it with `make deploy` or pass the names"
        ) from None
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def start_run(args: argparse.Namespace, session: Any) -> dict[str, str]:
    # The same options and checks as `make run` and the notebook client, before anything is uploaded.
    defaults = environment_defaults(args.env)
    options = run_options(args, defaults)
    info = check_dataset(args.csv)
    if defaults is not None:
        algorithm, task = options.algorithm_and_task(defaults)
        check_labels(info, task=task, algorithm=algorithm)
    prefix = f"SageMakerPipeline-{args.env}"
    bucket, machine = args.data_bucket, args.state_machine_arn
    if not (bucket and machine):
        cloudformation = session.client("cloudformation")
        bucket = bucket or stack_outputs(cloudformation, f"{prefix}-Storage")["DataBucketName"]
        machine = machine or stack_outputs(cloudformation, f"{prefix}-Pipeline")["StateMachineArn"]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    key = f"datasets/{args.csv.stem}-{stamp}/{args.csv.name}"
    session.client("s3").upload_file(str(args.csv), bucket, key)
    payload = options.to_input(f"s3://{bucket}/{key}")
    started = session.client("stepfunctions").start_execution(stateMachineArn=machine, input=json.dumps(payload))
    return {"executionArn": started["executionArn"], "data": payload["data"], "input": json.dumps(payload)}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.start_run", description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, required=True, help="local dataset: CSV, label first, numbers only")
    parser.add_argument("--env", default="dev", choices=["dev", "prod"])
    add_run_arguments(parser)
    parser.add_argument("--data-bucket")
    parser.add_argument("--state-machine-arn")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        started = start_run(args, boto3.session.Session())
    except (RunError, PipelineError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(started, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
