"""Turn a validated execution input into the run plan every later state reads from `$.run`."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from training_code import catalog, objective
from training_code.errors import UserError
from training_code.metrics import METRIC_GOALS

from .plan_model import (
    EndpointInstances,
    Instances,
    JobArguments,
    JobInstances,
    JobNames,
    Objective,
    RunLocations,
    RunPlan,
    Tuning,
    TuningObjective,
    as_json,
)
from .run_input import InvalidExecutionInput, check_allowed, check_data_location, check_schema, typed_hyperparameters
from .settings import Settings
from .training_limits import training_limits

TUNING_NAME_LIMIT = 32  # CreateHyperParameterTuningJob; every other job name allows 63


def run_id(execution_name: str, start_time: str) -> str:
    """Unique per execution and short enough for a tuning job name: `tune-20261126041500-1a2b3c` is 26."""
    started = datetime.fromisoformat(start_time.replace("Z", "+00:00"))
    digest = hashlib.sha256(execution_name.encode()).hexdigest()[:6]
    return f"{started:%Y%m%d%H%M%S}-{digest}"


def plan_run(raw: Any, settings: Settings, *, execution_name: str, start_time: str) -> dict[str, Any]:
    """The run plan (plan_model.RunPlan) as the state machine receives it."""
    return as_json(build_plan(raw, settings, execution_name=execution_name, start_time=start_time))


def build_plan(raw: Any, settings: Settings, *, execution_name: str, start_time: str) -> RunPlan:
    request = check_schema(raw)
    defaults = settings.defaults
    algorithm = request.get("algorithm", defaults["algorithm"])
    given = request.get("hyperparameters")
    if given is None:
        given = defaults["hyperparameters"] if algorithm == defaults["algorithm"] else {}
    typed, hyperparameters = typed_hyperparameters(algorithm, given)
    task = catalog.task_for(algorithm, typed)
    objective = _objective(request.get("objective", {}), defaults, algorithm, task)
    rid = run_id(execution_name, start_time)
    data = check_data_location(request["data"], settings.data_bucket)
    return RunPlan(
        id=rid,
        algorithm=algorithm,
        task=task,
        hyperparameters={**hyperparameters, "algorithm": algorithm},
        objective=objective,
        tuning=_tuning(request.get("tuning", {}), defaults["tuning"], algorithm, typed, hyperparameters),
        jobs=_job_names(rid),
        endpoint_name=settings.endpoint_name,
        deploy=request.get("deploy", defaults["deploy"]),
        instances=_instances(
            request.get("instance_types", {}), defaults, request.get("instance_counts", {}), algorithm
        ),
        training=training_limits(defaults["training"]),
        processing=_processing_arguments(request.get("processing", {}), task),
        evaluation=JobArguments(arguments=["--objective-metric", objective.metric]),
        s3=_locations(settings.artifacts_bucket, rid, data),
    )


def _objective(given: dict[str, Any], defaults: dict[str, Any], algorithm: str, task: str) -> Objective:
    try:
        return Objective(**objective.resolve(given, defaults, algorithm, task))
    except UserError as error:
        raise InvalidExecutionInput(str(error)) from None


def _tuning(given: dict, defaults: dict, algorithm: str, typed: dict, hyperparameters: dict[str, str]) -> Tuning:
    enabled = given.get("enabled", defaults["enabled"])
    strategy = given.get("strategy", defaults["strategy"])
    max_jobs = given.get("max_jobs", defaults["max_jobs"])
    parallel = given.get("max_parallel_jobs", min(defaults["max_parallel_jobs"], max_jobs))
    if parallel > max_jobs:
        raise InvalidExecutionInput(
            f"tuning.max_parallel_jobs: {parallel} exceeds tuning.max_jobs {max_jobs}; lower it"
        )
    emitted = catalog.ALGORITHMS[algorithm]["metrics"]
    metric = given.get("objective_metric", catalog.objective_metric(algorithm, typed))
    if metric not in emitted:
        raise InvalidExecutionInput(
            f"tuning.objective_metric: {algorithm} does not emit {metric!r}; use one of "
            f"{', '.join(m for m in emitted if m.startswith('validation:'))}"
        )
    ranges = _ranges(algorithm, given.get("ranges"))
    if strategy == "Grid":
        if (
            enabled
            and (ranges["IntegerParameterRanges"] or ranges["ContinuousParameterRanges"])
            and given.get("ranges")
        ):
            raise InvalidExecutionInput('tuning.ranges: Grid search takes categorical ranges only ({"values": [...]})')
        ranges = {**ranges, "IntegerParameterRanges": [], "ContinuousParameterRanges": []}
    tuned = {r["Name"] for kind in ranges.values() for r in kind}
    if enabled and not tuned:
        raise InvalidExecutionInput(f"tuning.enabled: {algorithm} has no tunable hyperparameter; set it to false")
    return Tuning(
        enabled=enabled,
        strategy=strategy,
        max_jobs=max_jobs,
        max_parallel_jobs=parallel,
        # Grid search runs every combination of its categorical values: SageMaker takes no job count for it.
        resource_limits={"MaxParallelTrainingJobs": parallel}
        if strategy == "Grid"
        else {"MaxNumberOfTrainingJobs": max_jobs, "MaxParallelTrainingJobs": parallel},
        # AUTO early stopping is not allowed with Hyperband (it stops early by itself) or Grid.
        early_stopping="Off" if strategy in ("Hyperband", "Grid") else "Auto",
        objective=TuningObjective(MetricName=metric, Type=METRIC_GOALS[metric.split(":", 1)[1]]),
        ranges=ranges,
        static_hyperparameters={
            **{k: v for k, v in hyperparameters.items() if k not in tuned},
            "algorithm": algorithm,
        },
    )


def _ranges(algorithm: str, overrides: dict | None) -> dict[str, list]:
    ranges = catalog.parameter_ranges(algorithm)
    if not overrides:
        return ranges
    specs = catalog.ALGORITHMS[algorithm]["hyperparameters"]
    chosen: dict[str, list] = {
        "IntegerParameterRanges": [],
        "ContinuousParameterRanges": [],
        "CategoricalParameterRanges": [],
    }
    for name, spec in overrides.items():
        if name not in specs:
            raise InvalidExecutionInput(
                f"tuning.ranges.{name}: {algorithm} has no such hyperparameter; known: {', '.join(specs)}"
            )
        kind = specs[name]["type"]
        if kind == "categorical":
            values = spec.get("values") or specs[name]["choices"]
            chosen["CategoricalParameterRanges"].append({"Name": name, "Values": values})
            continue
        low, high = spec.get("min", specs[name].get("min")), spec.get("max", specs[name].get("max"))
        if low is None or high is None or low >= high:
            raise InvalidExecutionInput(f"tuning.ranges.{name}: give min < max, got min={low}, max={high}")
        key = "IntegerParameterRanges" if kind == "integer" else "ContinuousParameterRanges"
        cast = int if kind == "integer" else float
        chosen[key].append(
            {
                "Name": name,
                "MinValue": str(cast(low)),
                "MaxValue": str(cast(high)),
                "ScalingType": spec.get("scaling", "Auto"),
            }
        )
    return chosen


def _job_names(rid: str) -> JobNames:
    names = JobNames(**{kind: f"{kind}-{rid}" for kind in ("process", "train", "tune", "evaluate", "model", "config")})
    assert len(names.tune) <= TUNING_NAME_LIMIT
    return names


def _instances(
    given: dict[str, str], defaults: dict[str, Any], counts: dict[str, int], algorithm: str
) -> Instances:
    count = {kind: counts.get(kind, defaults[kind].get("instance_count", 1)) for kind in ("processing", "training")}
    refusal = catalog.single_instance_refusal(algorithm, count["training"])
    if refusal:
        raise InvalidExecutionInput(f"instance_counts.training: {refusal}")
    if "endpoint" in given and defaults["endpoint"].get("serverless"):
        raise InvalidExecutionInput(
            "instance_types.endpoint: this environment serves from a serverless endpoint (endpoint.serverless in "
            "its configuration), which has no instances; drop instance_types.endpoint"
        )
    allowed = defaults["allowed_instance_types"]
    pick = {
        kind: check_allowed(kind, given.get(kind, defaults[kind]["instance_type"]), allowed[kind])
        for kind in ("processing", "training", "endpoint")
    }
    return Instances(
        processing=JobInstances(
            InstanceType=pick["processing"],
            InstanceCount=count["processing"],
            VolumeSizeInGB=defaults["processing"]["volume_size_gb"],
        ),
        training=JobInstances(
            InstanceType=pick["training"],
            InstanceCount=count["training"],
            VolumeSizeInGB=defaults["training"]["volume_size_gb"],
        ),
        endpoint=EndpointInstances(
            InstanceType=pick["endpoint"],
            InitialInstanceCount=defaults["endpoint"]["initial_instance_count"],
        ),
    )


def _processing_arguments(given: dict[str, Any], task: str) -> JobArguments:
    arguments = [
        "--validation-fraction",
        str(given.get("validation_fraction", 0.15)),
        "--test-fraction",
        str(given.get("test_fraction", 0.15)),
        "--impute",
        given.get("impute", "median"),
    ]
    if task != catalog.CLASSIFICATION:
        arguments.append("--no-stratify")
    return JobArguments(arguments=arguments)


def _locations(bucket: str, rid: str, data: str) -> RunLocations:
    run = f"s3://{bucket}/runs/{rid}"
    return RunLocations(
        input=data,
        run=f"{run}/",
        train=f"{run}/processing/train/",
        validation=f"{run}/processing/validation/",
        test=f"{run}/processing/test/",
        baseline=f"{run}/processing/baseline/",
        models=f"{run}/models",
        checkpoints=f"{run}/checkpoints/",
        evaluation=f"{run}/evaluation/",
        evaluation_key=f"runs/{rid}/evaluation/evaluation.json",
        data_capture=f"s3://{bucket}/data-capture/",
    )
