"""`python -m local_runner run|bench|stop`: the pipeline end to end on this machine, without AWS or Docker."""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import re
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from pipeline_client.arguments import add_run_arguments, checked_run
from pipeline_client.client import PipelineClient
from pipeline_client.dataset import read_rows
from pipeline_client.errors import PipelineError
from pipeline_client.in_process import client_of
from stacks.config import ConfigError

from . import approval, monitoring, rehearsal, s3, score_command
from .cloud import LocalCloud
from .dataset import default_dataset
from .permissions import report as permission_report
from .pipeline import REPO_ROOT, STATE_DIR, SynthError
from .progress import command_assembly, make_console
from .sagemaker import Store, hosting, lifetime
from .template import TemplateError


class UsageError(Exception):
    pass


def _algorithms() -> list[str]:
    from training_code import catalog

    return sorted(catalog.ALGORITHMS)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m local_runner", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    for name, text in (
        ("run", "synthesize, upload the dataset, run the state machine, show progress and a prediction"),
        ("bench", "the default run, timed: wall time per state and in total"),
    ):
        cmd = commands.add_parser(name, help=text, description=text)
        add_run_arguments(cmd)  # shared with tools/start_run and the notebook client (pipeline_client)
        cmd.add_argument(
            "--data",
            type=Path,
            help="your own CSV file: label first, numbers only; a header line is detected (default: breast cancer)",
        )
        cmd.add_argument("--env", default="dev", help="configuration to synthesize (config/ENV.json), default dev")
        cmd.add_argument("--cdk-out", type=Path, help="use this synthesized cloud assembly (e.g. cdk.out) as it is")
        cmd.add_argument("--state-dir", type=Path, default=STATE_DIR, help="local S3 and SageMaker state (.local/)")
        cmd.add_argument("--time-scale", type=float, default=0.02, help="Wait/Retry time factor (1 = real time)")
        cmd.add_argument("--fresh", action="store_true", help="forget the local S3 and SageMaker state first")
        permission_report.add_flag(cmd)
        if name == "run":
            rehearsal.add_option(cmd)
    score_command.add_parser(commands, state_dir=STATE_DIR)
    approval.add_parser(commands, state_dir=STATE_DIR)
    monitoring.add_parsers(commands, state_dir=STATE_DIR)
    stop = commands.add_parser("stop", help="stop the local endpoints a run left serving")
    stop.add_argument("--state-dir", type=Path, default=STATE_DIR)
    return root


def _sample_row(path: Path, out: Path) -> str:
    """The first data row's features (the label dropped, a header skipped), also written to `out` so the
    printed curl command can send it as it is."""
    features = read_rows(path, limit=1).features[0]
    row = ",".join("" if value is None else repr(value) for value in features)  # repr: every digit kept
    out.write_text(row + "\n")
    return row


def _shown(path: Path) -> str:
    """`path` relative to the working directory when it is inside it: shorter, and pastes the same."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _plots(output: dict[str, Any], client: PipelineClient, runner_dir: Path | None) -> list[Path]:
    """The evaluation job's plots, copied out of the local S3 to <state dir>/runner/runs/<run id>/ to open."""
    bucket = client.resources.artifacts_bucket
    if not (output.get("run_id") and runner_dir):
        return []
    target = runner_dir / "runs" / output["run_id"] / "evaluation"
    s3.download(f"s3://{bucket}/runs/{output['run_id']}/evaluation/", target)
    return sorted(target.glob("*.png"))


def hyperparameter_hint(cause: str) -> str | None:
    """A job's error that says `use NAME=VALUE` names a hyperparameter: show the flag that sets it."""
    found = re.search(r"\buse ([a-z_]+)=(\S+?)[.;,)]?(?:\s|$)", cause)
    if not found:
        return None
    pair = f"{found[1]}={found[2]}"
    return f'To apply it: --hyperparameter {pair} (in make run: RUN_ARGS="... --hyperparameter {pair}")'


def _summary(
    console: Console, result, cloud: LocalCloud, client: PipelineClient, sample: str, sample_file: Path, env: str
) -> dict[str, Any]:
    output = result.output if isinstance(result.output, dict) else {}
    facts: dict[str, Any] = {"status": result.status, "seconds": round(result.seconds, 2)}
    if result.status != "SUCCEEDED":
        console.print(f"[red bold]Execution {result.status}[/]: [bold]{result.error}[/]\n{result.cause}")
        hint = hyperparameter_hint(result.cause or "")
        if hint:
            console.print(hint, highlight=False)
        facts.update(error=result.error, cause=result.cause)
        return facts
    metrics = output.get("metrics") or {}
    if metrics:
        grid = Table(title="Test metrics", title_justify="left")
        grid.add_column("Metric")
        grid.add_column("Value", justify="right")
        for name, value in metrics.items():
            grid.add_row(name, f"{value:.4f}" if isinstance(value, (int, float)) else str(value))
        console.print(grid)
    objective = output.get("objective") or {}
    value = objective.get("value", output.get("value"))
    metric = objective.get("metric") or objective.get("name") or output.get("metric")
    decision = output.get("status", "")
    threshold = output.get("threshold")
    if decision == "REJECTED_BY_QUALITY_GATE":
        verdict = "[red bold]rejected[/]"
        tail = "nothing registered or deployed"
    else:
        verdict = "[green bold]passed[/]"
        tail = decision
    shown = f"{value:.4f}" if isinstance(value, int | float) else str(value)  # as the metrics table shows it
    compare = ">=" if (objective.get("goal") or output.get("goal")) != "Minimize" else "<="
    console.print(f"Quality gate: {verdict} — {metric} = {shown}, needed {compare} {threshold}: {tail}")
    facts.update(decision=decision, metric=metric, value=value, metrics=metrics)
    plots = _plots(output, client, cloud.state_dir)
    if plots:
        console.print(f"Plots: {', '.join(_shown(p) for p in plots)}", highlight=False)
        facts.update(plots=plots)
    endpoint = output.get("endpoint_name") or client.resources.endpoint_name
    url = cloud.sagemaker.endpoint_url(endpoint) if endpoint else None
    if decision == "DEPLOYED" and url:
        prediction = client.invoke(sample)
        console.print(f"Endpoint [bold]{endpoint}[/] is InService at [bold]{url}/invocations[/]")
        console.print(f"Sample prediction for the first row: {prediction.strip()}")
        console.print(
            f"Try it: curl -s -H 'Content-Type: text/csv' --data-binary @{_shown(sample_file)} {url}/invocations"
        )
        console.print("Stop the endpoint with: python -m local_runner stop (make stop)")
        console.print("Score a dataset offline with this model: python -m local_runner score (make score)")
        facts.update(endpoint=endpoint, url=url, prediction=prediction)
    elif decision == "REGISTERED":
        console.print(
            "The model waits for a person's approval. Approve and deploy it with: "
            f"python -m local_runner approve --env {env} (make approve ENV={env})"
        )
    return facts


def run(args: argparse.Namespace, bench: bool = False) -> int:
    console = make_console()
    logging.basicConfig(level=logging.CRITICAL)
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    options = checked_run(args, env=args.env, data=args.data)  # before anything starts
    state_dir = args.state_dir.resolve()
    args.state_dir = state_dir
    runner_dir = state_dir / "runner"
    if args.fresh and runner_dir.exists():
        with LocalCloud(runner_dir, restart_endpoints=False) as old:
            old.sagemaker.stop_endpoints()
        lifetime.terminate(lifetime.started_under(runner_dir / "sagemaker"))  # once forgotten, never found again
        import shutil

        shutil.rmtree(runner_dir)
    runner_dir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    assembly = command_assembly(args, console, args.state_dir)
    timings["synth"] = time.perf_counter() - t0
    data_path = args.data or default_dataset(state_dir / "datasets" / "breast_cancer.csv")
    t1 = time.perf_counter()
    faults = getattr(args, "fault", [])
    cloud = LocalCloud(
        runner_dir,
        time_scale=args.time_scale,
        lambda_log=runner_dir / "lambda.log",
        enforce_permissions=args.permission_checks,
    )
    api_faults = rehearsal.inject(cloud.faults, faults)
    permission_report.announce(console, args.permission_checks)
    with cloud:
        cloud.deploy(assembly)
        client = client_of(cloud, env=args.env, work_dir=state_dir)  # the notebook's and tools/start_run's client
        data_uri = client.upload_dataset(data_path)
        timings["start"] = time.perf_counter() - t1
        console.print(f"Input: {json.dumps(options.to_input(data_uri))}")
        rehearsal.announce(console, faults)
        from .progress import follow

        before, started = rehearsal.snapshot(cloud), time.time()
        execution = client.start(options, data_uri, name_prefix="run")
        result = follow(cloud, execution.execution_arn, execution.input, console)
        timings["execution"] = result.seconds
        t2 = time.perf_counter()
        sample_file = runner_dir / "sample_row.csv"
        facts = _summary(console, result, cloud, client, _sample_row(data_path, sample_file), sample_file, args.env)
        timings["first_prediction"] = time.perf_counter() - t2
        rehearsal.tell(console, rehearsal.Outcome(cloud, result, started, before, api_faults), faults)
        permission_report.summarize(console, cloud.authorizer)
    timings["total"] = time.perf_counter() - t0
    if bench:
        _bench_report(console, result, timings, state_dir)
    console.print(f"[dim]Local state: {runner_dir} · Lambda logs: {runner_dir / 'lambda.log'}[/]")
    return 0 if result.status == "SUCCEEDED" and facts.get("decision") != "REJECTED_BY_QUALITY_GATE" else 1


def _bench_report(console: Console, result, timings: dict[str, float], state_dir: Path) -> None:
    grid = Table(title="Wall time per state", title_justify="left")
    grid.add_column("State")
    grid.add_column("Seconds", justify="right")
    for run in result.states:
        grid.add_row(run.name, f"{run.seconds or 0:.2f}")
    grid.add_section()
    for name, seconds in timings.items():
        grid.add_row(f"[bold]{name}[/]", f"{seconds:.2f}")
    console.print(grid)
    out = REPO_ROOT / "bench" / "results" / "local_runner.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "status": result.status,
                "states": [{"name": r.name, "seconds": r.seconds} for r in result.states],
                **timings,
            },
            indent=1,
        )
    )
    console.print(f"[dim]Written to {out}[/]")


def stop(args: argparse.Namespace) -> int:
    console = make_console()
    runner_dir = args.state_dir.resolve() / "runner"
    records = runner_dir / "sagemaker" / "state.json"
    stopped = hosting.stop_recorded(Store(records), delete=True) if records.exists() else []
    # and whatever no record names: a server started by a runner killed before its record was written
    strays = lifetime.terminate(lifetime.started_under(runner_dir / "sagemaker"))
    if stopped:
        console.print(f"Stopped: {', '.join(stopped)}")
    if strays:
        console.print(f"Stopped {len(strays)} process(es) no record named: pid {', '.join(map(str, strays))}")
    if not stopped and not strays:
        console.print("No local endpoints.")
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """Like parse_args, but an unknown option is reported by its command, with that command's usage and the
    nearest option, not by the top-level parser (whose usage lists only the commands)."""
    root = parser()
    args, unknown = root.parse_known_args(argv)
    if unknown:
        commands = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction))
        command = commands.choices[args.command]
        known = [o for action in command._actions for o in action.option_strings]
        close = difflib.get_close_matches(unknown[0].split("=", 1)[0], known, n=1)
        hint = f"; did you mean {close[0]}?" if close else "; the options are listed by --help"
        command.error(f"unrecognized arguments: {' '.join(unknown)}{hint}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    try:
        if args.command == "stop":
            return stop(args)
        if args.command == "score":
            return score_command.score(args)
        if args.command == "approve":
            return approval.approve(args)
        if args.command in ("traffic", "monitor"):
            return getattr(monitoring, args.command)(args)
        return run(args, bench=args.command == "bench")
    except (UsageError, PipelineError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (SynthError, TemplateError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130
