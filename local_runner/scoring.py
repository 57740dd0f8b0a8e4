"""`python -m local_runner score`: the synthesized batch-scoring workflow on this machine.

Scores a CSV with the newest Approved model a local run registered (or `--model-package-arn`), through a
local SageMaker batch transform job, and prints where the output is and its first lines.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from . import rehearsal, s3
from .cloud import LocalCloud
from .dataset import check_csv, default_dataset
from .permissions import report as permission_report
from .pipeline import Pipeline
from .progress import command_assembly, follow, make_console
from .template import TemplateError

SHOWN_LINES = 5


def add_parser(commands: argparse._SubParsersAction, *, state_dir: Path) -> None:
    text = "score a CSV offline with the newest Approved model (a local batch transform job)"
    cmd = commands.add_parser("score", help=text, description=text)
    cmd.add_argument(
        "--data",
        type=Path,
        help="CSV rows to score, no header (default: the breast-cancer dataset, its label column skipped)",
    )
    cmd.add_argument("--skip-first-column", action="store_true", help="drop a label column before scoring")
    cmd.add_argument("--no-join-input", action="store_true", help="write predictions only, not input + prediction")
    cmd.add_argument("--model-package-arn", help="score with this registered version instead of the newest Approved")
    cmd.add_argument("--env", default="dev", help="configuration to synthesize (config/ENV.json), default dev")
    cmd.add_argument("--cdk-out", type=Path, help="use this synthesized cloud assembly (e.g. cdk.out) as it is")
    cmd.add_argument("--state-dir", type=Path, default=state_dir, help="local S3 and SageMaker state (.local/)")
    cmd.add_argument("--time-scale", type=float, default=0.02, help="Wait/Retry time factor (1 = real time)")
    permission_report.add_flag(cmd)
    rehearsal.add_option(cmd)


def failure_hint(error: str | None, cause: str, *, skip_first_column: bool, data: str | None) -> str | None:
    """The fix for a failed scoring run the user can apply with this command's own options."""
    if error == "NoApprovedModel":
        return "Register an approved model first: make run"
    width = re.search(r"has (\d+) columns; the model expects (\d+) features", cause)
    if width and int(width[1]) == int(width[2]) + 1 and not skip_first_column:
        return (
            "The first column looks like a label or an id: score without it with --skip-first-column "
            f'(make score SCORE_ARGS="--data {data or "ROWS.csv"} --skip-first-column")'
        )
    return None


def score(args: argparse.Namespace) -> int:
    console = make_console()
    state_dir = args.state_dir.resolve()
    skip_label = args.skip_first_column or args.data is None
    data = check_csv(args.data) if args.data else default_dataset(state_dir / "datasets" / "breast_cancer.csv")
    assembly = command_assembly(args, console, state_dir)
    scoring_ids = [logical_id for _, logical_id, _ in assembly.state_machines() if logical_id.startswith("Scoring")]
    if not scoring_ids:
        raise TemplateError(
            f"the {args.env} stage has no batch-scoring workflow: set batch_transform.enabled in config/{args.env}.json"
        )
    pipeline = Pipeline.find(assembly, env=args.env)
    runner_dir = state_dir / "runner"
    runner_dir.mkdir(parents=True, exist_ok=True)
    permission_report.announce(console, args.permission_checks)
    cloud = LocalCloud(
        runner_dir,
        time_scale=args.time_scale,
        lambda_log=runner_dir / "lambda.log",
        enforce_permissions=args.permission_checks,
    )
    api_faults = rehearsal.inject(cloud.faults, args.fault)
    with cloud:
        arns = cloud.deploy(assembly)
        uri = f"s3://{pipeline.data_bucket()}/scoring/{data.name}"
        s3.upload_file(data, uri)
        payload: dict = {"data": uri, "skip_first_column": skip_label, "join_input": not args.no_join_input}
        if args.model_package_arn:
            payload["model_package_arn"] = args.model_package_arn
        console.print(f"Input: {json.dumps(payload)}")
        rehearsal.announce(console, args.fault)
        before, started = rehearsal.snapshot(cloud), time.time()
        result = follow(cloud, cloud.start_execution(arns[scoring_ids[0]], payload), payload, console)
        rehearsal.tell(console, rehearsal.Outcome(cloud, result, started, before, api_faults), args.fault)
        if result.status != "SUCCEEDED":
            console.print(f"[red bold]Scoring {result.status}[/]: [bold]{result.error}[/]\n{result.cause}")
            hint = failure_hint(
                result.error, result.cause or "", skip_first_column=skip_label, data=args.data and str(args.data)
            )
            if hint:
                console.print(hint)
            return 1
        output = result.output["output"]
        console.print(f"Scored with [bold]{result.output['model_package_arn']}[/]")
        console.print(f"Output: [bold]{output}{data.name}.out[/]")
        bucket, key = s3.split_uri(f"{output}{data.name}.out")
        lines = s3.client().get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines()
        for line in lines[:SHOWN_LINES]:
            fields = line.split(",")  # the input row, then the prediction: show both ends
            console.print(f"  {','.join(fields[:3])},…,{','.join(fields[-3:])}" if len(fields) > 6 else f"  {line}")
        console.print(f"  … {len(lines)} lines in all")
    return 0
