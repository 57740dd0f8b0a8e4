"""`python -m local_runner score` (make score): the synthesized batch-scoring workflow on this machine.

Scores a CSV with the newest Approved model a local run registered (or `--model-package-arn`), through a
local SageMaker batch transform job, and prints where the output is and its first lines. The dataset is checked,
uploaded and scored by the notebook's client (pipeline_client), against the local cloud this command starts.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from pathlib import Path

from pipeline_client.in_process import client_of
from pipeline_client.scoring_data import check_scoring_file

from . import rehearsal
from .cloud import LocalCloud
from .dataset import default_dataset
from .permissions import report as permission_report
from .progress import command_assembly, follow, make_console

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
    data = args.data or default_dataset(state_dir / "datasets" / "breast_cancer.csv")
    with tempfile.TemporaryDirectory(prefix="scoring-") as scratch:  # the client's own check, before anything
        check_scoring_file(data, skip_first_column=skip_label, copy_to=Path(scratch) / data.name)
    assembly = command_assembly(args, console, state_dir)
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
        cloud.deploy(assembly)
        client = client_of(cloud, env=args.env, work_dir=state_dir)  # the notebook's client
        rehearsal.announce(console, args.fault)
        before, started = rehearsal.snapshot(cloud), time.time()
        scoring = client.score_dataset(
            data,
            skip_first_column=skip_label,
            join_input=not args.no_join_input,
            model_package_arn=args.model_package_arn,
        )
        console.print(f"Input: {json.dumps(scoring.input)}")
        result = follow(cloud, scoring.execution_arn, scoring.input, console)
        rehearsal.tell(console, rehearsal.Outcome(cloud, result, started, before, api_faults), args.fault)
        if result.status != "SUCCEEDED":
            console.print(f"[red bold]Scoring {result.status}[/]: [bold]{result.error}[/]\n{result.cause}")
            hint = failure_hint(
                result.error, result.cause or "", skip_first_column=skip_label, data=args.data and str(args.data)
            )
            if hint:
                console.print(hint)
            return 1
        scored = scoring.result()
        console.print(f"Scored with [bold]{scored.model_package_arn}[/]")
        console.print(f"Output: [bold]{', '.join(scored.objects())}[/]")
        lines = scored.lines()
        for line in lines[:SHOWN_LINES]:
            fields = line.split(",")  # the input row, then the prediction: show both ends
            console.print(f"  {','.join(fields[:3])},…,{','.join(fields[-3:])}" if len(fields) > 6 else f"  {line}")
        console.print(f"  … {len(lines)} lines in all")
    return 0
