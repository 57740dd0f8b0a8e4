"""The run options as command-line flags: one definition for `python -m local_runner run`, `make run` and
`python -m tools.start_run`, each turned into RunOptions (the notebook client's checks and execution input)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stacks.contract import INSTANCE_KINDS, STRATEGIES

from .dataset import check_dataset, check_labels
from .errors import OptionError
from .options import RunOptions, environment_defaults


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None


def _whole(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None


def _pair(value: str) -> tuple[str, str]:
    name, equals, given = value.partition("=")
    if not equals or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, e.g. --hyperparameter max_depth=4; got {value!r}")
    return name.strip(), given.strip()


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of every option the execution input takes (docs/pipeline.md); unset ones keep config/<env>.json's."""
    parser.add_argument("--algorithm", help="training algorithm (python -m training_code algorithms lists them)")
    parser.add_argument(
        "--hyperparameter",
        dest="hyperparameters",
        type=_pair,
        action="append",
        metavar="NAME=VALUE",
        help="a hyperparameter of the algorithm, repeatable (replaces the environment's defaults)",
    )
    parser.add_argument(
        "--tuning", action=argparse.BooleanOptionalAction, default=None, help="hyperparameter tuning on/off"
    )
    parser.add_argument("--max-jobs", type=_whole, help="tuning: training jobs in total")
    parser.add_argument("--parallel", type=_whole, help="tuning: training jobs at a time")
    parser.add_argument("--strategy", choices=STRATEGIES, help="tuning strategy")
    parser.add_argument(
        "--metric",
        help="the quality gate's metric; its direction is the metric's own (>= for accuracy, r2, silhouette; "
        "<= for rmse, mae, log_loss). Default: config/<env>.json's, per task",
    )
    parser.add_argument("--threshold", type=_number, help="the quality gate's threshold, in the metric's range")
    for kind in INSTANCE_KINDS:
        parser.add_argument(
            f"--{kind}-instance-type",
            metavar="TYPE",
            help=f"{kind} instance type, one of allowed_instance_types.{kind} in config/<env>.json",
        )
    parser.add_argument(
        "--deploy", action=argparse.BooleanOptionalAction, default=None, help="deploy after registering (--no-deploy)"
    )


def run_options(args: argparse.Namespace, defaults: Mapping[str, Any] | None) -> RunOptions:
    """RunOptions from parsed flags, checked against the environment's defaults, or OptionError."""
    instance_types = {
        kind: getattr(args, f"{kind}_instance_type")
        for kind in INSTANCE_KINDS
        if getattr(args, f"{kind}_instance_type", None) is not None
    }
    pairs = args.hyperparameters or []
    values = dict(pairs)
    if len(values) < len(pairs):
        repeated = sorted({name for name, _ in pairs if [n for n, _ in pairs].count(name) > 1})
        raise OptionError(f"--hyperparameter {', '.join(repeated)} given more than once; give each name once")
    options: dict[str, Any] = {
        "algorithm": args.algorithm,
        "tuning": args.tuning,
        "threshold": args.threshold,
        "metric": args.metric,
        "max_jobs": args.max_jobs,
        "parallel": args.parallel,
        "strategy": args.strategy,
        "hyperparameters": values or None,
        "instance_types": instance_types or None,
        "deploy": args.deploy,
    }
    return RunOptions.parse({k: v for k, v in options.items() if v is not None}, defaults)


def checked_run(args: argparse.Namespace, *, env: str, data: Path | None) -> RunOptions:
    """The flags' options and the dataset (when given), checked as the pipeline will check them, before anything
    is synthesized, uploaded or started: `make run` and `tools/start_run` alike."""
    defaults = environment_defaults(env)
    options = run_options(args, defaults)
    if data is not None:
        info = check_dataset(data)
        if defaults is not None:
            algorithm, task = options.algorithm_and_task(defaults)
            check_labels(info, task=task, algorithm=algorithm)
    return options
