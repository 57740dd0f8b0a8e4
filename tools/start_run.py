"""Start a pipeline run on AWS: upload a local CSV to the data bucket and start an execution.

    python -m tools.start_run --env dev --csv data.csv [--algorithm xgboost] [--no-tuning] [--threshold 0.9]
        [--metric f1] [--hyperparameter max_depth=4 ...] [--training-instance-type ml.m5.xlarge] [--no-deploy]
        [--endpoint-url http://127.0.0.1:4566]

A client of pipeline_client, as `make run` and the notebook are: the bucket and the state machine come from the
deployed stacks' outputs; --endpoint-url (or $AWS_ENDPOINT_URL) sends every call there, e.g. the local cloud.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import boto3

from pipeline_client.arguments import add_run_arguments, checked_run
from pipeline_client.client import PipelineClient
from pipeline_client.errors import PipelineError


def start_run(args: argparse.Namespace, session: boto3.session.Session) -> dict[str, str]:
    # The same options and checks as `make run` and the notebook client, before anything is uploaded.
    options = checked_run(args, env=args.env, data=args.csv)
    with PipelineClient(env=args.env, session=session, endpoint_url=args.endpoint_url) as client:
        run = client.start(options, client.upload_dataset(args.csv), name_prefix="start-run")
    return {"executionArn": run.execution_arn, "data": run.input["data"], "input": json.dumps(run.input)}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.start_run", description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, required=True, help="local dataset: CSV, label first, numbers only")
    parser.add_argument("--env", default="dev", choices=["dev", "prod"])
    add_run_arguments(parser)
    parser.add_argument(
        "--endpoint-url", help="send every AWS call there, e.g. http://127.0.0.1:4566 (default: $AWS_ENDPOINT_URL)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        started = start_run(args, boto3.session.Session())
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(started, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
