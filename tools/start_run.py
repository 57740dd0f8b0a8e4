"""Start a pipeline run on AWS: upload a local CSV to the data bucket and start an execution.

    python -m tools.start_run --env dev --csv data.csv [--algorithm xgboost] [--no-tuning] [--threshold 0.9]

Bucket and state machine come from the deployed stacks' outputs (or --data-bucket/--state-machine-arn).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3


class RunError(Exception):
    """A problem the user can fix; the message says how."""


def check_csv(path: Path) -> int:
    """Built-in convention: no header, label first, numbers only. Returns the number of columns."""
    if not path.is_file():
        raise RunError(f"{path}: no such file; give the path of a CSV dataset")
    if path.suffix.lower() != ".csv":
        raise RunError(f"{path}: not a .csv file; export the dataset as CSV (label first, no header)")
    columns = 0
    with path.open(newline="") as handle:
        # The first 100 rows: enough to catch the wrong file before it is uploaded.
        for number, row in enumerate(csv.reader(handle), start=1):
            columns = len(row)
            for column, value in enumerate(row, start=1):
                try:
                    float(value)
                except ValueError:
                    if number == 1:
                        break  # a header row: the processing job detects and drops it
                    raise RunError(f"{path.name} line {number}, column {column}: {value!r} is not a number") from None
            if number >= 100:
                break
    if not columns:
        raise RunError(f"{path}: the file is empty")
    return columns


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    try:
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    except cloudformation.exceptions.ClientError as error:
        raise RunError(
            f"stack {stack_name} not found ({error}); deploy it with `make deploy` or pass the names"
        ) from None
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def execution_input(args: argparse.Namespace, data_uri: str) -> dict[str, Any]:
    payload: dict[str, Any] = {"data": data_uri}
    if args.algorithm:
        payload["algorithm"] = args.algorithm
    if args.tuning is not None:
        payload["tuning"] = {"enabled": args.tuning}
    if args.threshold is not None:
        payload["objective"] = {"threshold": args.threshold}
    if args.no_deploy:
        payload["deploy"] = False
    return payload


def start_run(args: argparse.Namespace, session: Any) -> dict[str, str]:
    check_csv(args.csv)
    prefix = f"SageMakerPipeline-{args.env}"
    bucket, machine = args.data_bucket, args.state_machine_arn
    if not (bucket and machine):
        cloudformation = session.client("cloudformation")
        bucket = bucket or stack_outputs(cloudformation, f"{prefix}-Storage")["DataBucketName"]
        machine = machine or stack_outputs(cloudformation, f"{prefix}-Pipeline")["StateMachineArn"]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    key = f"datasets/{args.csv.stem}-{stamp}/{args.csv.name}"
    session.client("s3").upload_file(str(args.csv), bucket, key)
    payload = execution_input(args, f"s3://{bucket}/{key}")
    started = session.client("stepfunctions").start_execution(stateMachineArn=machine, input=json.dumps(payload))
    return {"executionArn": started["executionArn"], "data": payload["data"], "input": json.dumps(payload)}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.start_run", description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, required=True, help="local dataset: CSV, label first")
    parser.add_argument("--env", default="dev", choices=["dev", "prod"])
    parser.add_argument("--algorithm")
    parser.add_argument("--tuning", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--threshold", type=float)
    parser.add_argument("--no-deploy", action="store_true")
    parser.add_argument("--data-bucket")
    parser.add_argument("--state-machine-arn")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        started = start_run(args, boto3.session.Session())
    except RunError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(started, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
