"""`python -m pipeline_client smoke --env dev`: the project's smoke check (pipeline_client/smoke.py)."""

from __future__ import annotations

import argparse
import os
import sys

from . import TARGETS, connect
from .errors import PipelineError
from .smoke import smoke_check


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m pipeline_client", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    smoke = commands.add_parser(
        "smoke", help="run the pipeline on a small dataset, then call the endpoint it deployed; exit 1 if either fails"
    )
    smoke.add_argument(
        "--env", default=os.environ.get("PIPELINE_ENV") or "dev", help="the environment (config/ENV.json)"
    )
    smoke.add_argument(
        "--backend",
        choices=TARGETS,
        default=os.environ.get("PIPELINE_BACKEND") or "aws",
        help="aws: the deployed stacks (default); local: the local cloud in this process",
    )
    smoke.add_argument(
        "--endpoint-url", help="send the AWS calls to this URL (a local cloud server) instead of AWS's endpoints"
    )
    smoke.add_argument(
        "--invoke-only", action="store_true", help="call the endpoint as it is deployed now, without a run"
    )
    smoke.add_argument("--timeout-minutes", type=float, default=60, help="how long the run may take (default 60)")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.endpoint_url:
        if args.backend != "aws":
            print("error: --endpoint-url goes with --backend aws (the local backend needs no URL)", file=sys.stderr)
            return 2
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url  # botocore sends every service there
    try:
        with connect(args.backend, env=args.env) as pipeline:
            print(
                f"smoke check of {args.env} on {args.backend}: endpoint {pipeline.resources.endpoint_name}", flush=True
            )
            result = smoke_check(pipeline, invoke_only=args.invoke_only, timeout_seconds=args.timeout_minutes * 60)
    except PipelineError as error:
        print(f"{error}", file=sys.stderr)
        return 1
    print(result, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
