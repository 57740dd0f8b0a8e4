"""`python -m local_runner traffic` and `monitor`: the monitoring loop on this machine (docs/monitoring.md).

`traffic` sends rows of a dataset to the local endpoint, which captures them as SageMaker does; `--drift`
multiplies chosen features first. `monitor` runs the synthesized monitoring workflow on demand over the
current hour's captures (a run scheduled for the next hour reads the hour before it) and prints the
violations, where the reports are and the retraining run it started.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
from pathlib import Path

from pipeline_client.dataset import check_dataset

from . import s3
from .cloud import LocalCloud
from .dataset import default_dataset
from .progress import command_assembly, follow, make_console
from .template import TemplateError

DEFAULT_ROWS = 1000  # prod captures 20%: enough captured rows for the checks' min_rows (100)


def _drift(text: str) -> tuple[int, float]:
    feature, _, factor = text.partition("=")
    try:
        index, scale = int(feature), float(factor)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: use FEATURE=FACTOR, the feature's 1-based position among the features, e.g. 1=3"
        ) from None
    if index < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: features are numbered from 1")
    return index - 1, scale


def _common(cmd: argparse.ArgumentParser, state_dir: Path) -> None:
    cmd.add_argument("--env", default="prod", help="configuration that monitors (config/ENV.json), default prod")
    cmd.add_argument("--cdk-out", type=Path, help="use this synthesized cloud assembly (e.g. cdk.out) as it is")
    cmd.add_argument("--state-dir", type=Path, default=state_dir, help="local S3 and SageMaker state (.local/)")
    cmd.add_argument("--time-scale", type=float, default=0.02, help="Wait/Retry time factor (1 = real time)")


def add_parsers(commands: argparse._SubParsersAction, *, state_dir: Path) -> None:
    text = "send dataset rows to the local endpoint (captured as SageMaker does); --drift shifts features"
    cmd = commands.add_parser("traffic", help=text, description=text)
    cmd.add_argument("--data", type=Path, help="CSV, label first (default: the breast-cancer dataset)")
    cmd.add_argument("--rows", type=int, default=DEFAULT_ROWS, help=f"requests to send, default {DEFAULT_ROWS}")
    cmd.add_argument("--drift", type=_drift, action="append", default=[], metavar="FEATURE=FACTOR",
                     help="multiply feature FEATURE (1-based) by FACTOR before sending; repeatable")  # fmt: skip
    _common(cmd, state_dir)
    text = "run the monitoring workflow now over this hour's captures; print violations, report, retraining"
    _common(commands.add_parser("monitor", help=text, description=text), state_dir)


def drifted(rows: list[list[str]], drifts: list[tuple[int, float]]) -> list[list[str]]:
    out = []
    for row in rows:
        row = list(row)
        for index, factor in drifts:
            if index >= len(row):
                raise TemplateError(f"--drift {index + 1}=...: the rows have {len(row)} features")
            row[index] = repr(float(row[index]) * factor)
        out.append(row)
    return out


def _assembly(args, console):
    state_dir = args.state_dir.resolve()
    assembly = command_assembly(args, console, state_dir)
    ids = [lid for _, lid, _ in assembly.state_machines() if lid.startswith("MonitoringWorkflow")]
    if not ids:
        raise TemplateError(
            f"the {args.env} stage has no monitoring workflow: it reads captured requests, so it needs "
            f"monitoring.enabled and an instance endpoint that captures (endpoint.serverless null, "
            f"endpoint.data_capture_percent > 0) in config/{args.env}.json; prod monitors: --env prod"
        )
    runner_dir = state_dir / "runner"
    runner_dir.mkdir(parents=True, exist_ok=True)
    return assembly, ids[0], runner_dir


def _serving(cloud: LocalCloud) -> str | None:
    endpoints = cloud.client("sagemaker").list_endpoints(StatusEquals="InService")["Endpoints"]
    return endpoints[0]["EndpointName"] if endpoints else None


def traffic(args: argparse.Namespace) -> int:
    console = make_console()
    assembly, _, runner_dir = _assembly(args, console)
    # The rows as the clients check a dataset (label first, numbers only), a header line left out.
    info = check_dataset(args.data if args.data else default_dataset(args.state_dir.resolve() / "datasets" / "bc.csv"))
    lines = [line for line in info.path.read_text().splitlines() if line.strip()][int(info.header) :]
    features = [line.split(",")[1:] for line in lines]
    rows = drifted(list(itertools.islice(itertools.cycle(features), args.rows)), args.drift)
    with LocalCloud(runner_dir, time_scale=args.time_scale, lambda_log=runner_dir / "lambda.log") as cloud:
        cloud.deploy(assembly)
        endpoint = _serving(cloud)
        if endpoint is None:
            console.print(
                f'No endpoint is serving: deploy one first (make run RUN_ARGS="--env {args.env}"; in prod, then '
                "make approve)"
            )
            return 1
        runtime = cloud.client("sagemaker-runtime")
        for row in rows:
            runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=",".join(row).encode())
    shifted = ", ".join(f"feature {i + 1} x{f:g}" for i, f in args.drift) or "none"
    console.print(f"Sent {len(rows)} rows to [bold]{endpoint}[/] (drift: {shifted}); monitor them: make monitor")
    return 0


def monitor(args: argparse.Namespace) -> int:
    console = make_console()
    assembly, machine_id, runner_dir = _assembly(args, console)
    when = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    payload = {"scheduled_time": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
    with LocalCloud(runner_dir, time_scale=args.time_scale, lambda_log=runner_dir / "lambda.log") as cloud:
        arns = cloud.deploy(assembly)
        result = follow(cloud, cloud.start_execution(arns[machine_id], payload), payload, console)
        if result.status != "SUCCEEDED":
            console.print(f"[red bold]Monitoring {result.status}[/]: [bold]{result.error}[/]\n{result.cause}")
            return 1
        plan = result.output["monitoring"]
        if plan["action"] == "skip":
            console.print(f"Nothing to monitor: {plan['reason']}")
            return 0
        bucket, key = s3.split_uri(plan["s3"]["output"])
        body = s3.client().get_object(Bucket=bucket, Key=f"{key}constraint_violations.json")["Body"].read()
        violations = json.loads(body)["violations"]
        console.print(f"{len(violations)} violation(s) in {plan['window']['start']} .. {plan['window']['end']}:")
        for v in violations:
            console.print(f"  {v.get('feature_name') or v.get('metric_name')}: {v['constraint_check_type']}: "
                          f"{v['description']}")  # fmt: skip
        local = runner_dir / "monitoring" / plan["id"]  # a copy to open in a browser
        s3.download(plan["s3"]["output"], local)
        console.print(f"Report: [bold]{local / 'drift_report.html'}[/] (statistics.json and the violations beside it)")
        console.print(f"  in local S3: {plan['s3']['report']}")
        retraining = result.output.get("retraining")
        if retraining and "execution_arn" in retraining:
            console.print(f"Retraining started: [bold]{retraining['execution_arn']}[/]")
        elif violations:
            console.print(f"No retraining: {plan['retrain']['reason']}")
    return 0
