"""Run options: checked here, before anything is uploaded or started, then turned into the execution input.

The prepare-run Lambda checks the input again on the pipeline's side (with the environment's allowed lists);
these checks catch what can be known without the deployment, so a typo fails in the notebook cell, not a
minute later in the state machine.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from stacks.contract import INSTANCE_KINDS, MAX_JOBS, MAX_PARALLEL, STRATEGIES
from training_code import catalog, hyperparameters, objective
from training_code.errors import UserError
from training_code.metrics import METRIC_GOALS

from .errors import OptionError

Scalar = str | int | float | bool


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """What a run may ask for; None keeps the environment's default (config/<env>.json)."""

    algorithm: str | None = None
    tuning: bool | None = None
    threshold: float | None = None
    metric: str | None = None
    max_jobs: int | None = None
    parallel: int | None = None
    strategy: str | None = None
    hyperparameters: Mapping[str, Scalar] | None = None
    instance_types: Mapping[str, str] | None = None  # processing, training, endpoint
    deploy: bool | None = None

    @classmethod
    def parse(cls, options: Mapping[str, Any], defaults: Mapping[str, Any] | None = None) -> RunOptions:
        """Checked options; with the environment's run defaults (environment_defaults), checked as the
        prepare-run Lambda will: the gate's metric and threshold, the allowed instance types."""
        reject_unknown(options, [f.name for f in fields(cls)], kind="options")
        parsed = cls(**options)
        parsed.check(defaults)
        return parsed

    def check(self, defaults: Mapping[str, Any] | None = None) -> None:
        _one_of("algorithm", self.algorithm, list(catalog.ALGORITHMS))
        _one_of("strategy", self.strategy, list(STRATEGIES))
        _one_of("metric", self.metric, sorted(METRIC_GOALS))
        for name in ("tuning", "deploy"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise OptionError(f"{name}={value!r}: expected True or False")
        if self.threshold is not None and (
            isinstance(self.threshold, bool)
            or not isinstance(self.threshold, int | float)
            or not math.isfinite(self.threshold)
        ):
            raise OptionError(f"threshold={self.threshold!r}: expected a finite number, e.g. threshold=0.9")
        _whole("max_jobs", self.max_jobs, MAX_JOBS)
        _whole("parallel", self.parallel, MAX_PARALLEL)
        if self.parallel and self.max_jobs and self.parallel > self.max_jobs:
            raise OptionError(f"parallel={self.parallel} exceeds max_jobs={self.max_jobs}; lower parallel")
        tuning_fields = [n for n in ("max_jobs", "parallel", "strategy") if getattr(self, n) is not None]
        if self.tuning is False and tuning_fields:
            raise OptionError(f"{', '.join(tuning_fields)} need tuning; set tuning=True or drop them")
        self._check_hyperparameters()
        self._check_objective(defaults)
        self._check_instance_types(defaults)

    def _check_objective(self, defaults: Mapping[str, Any] | None) -> None:
        given = {k: v for k, v in (("metric", self.metric), ("threshold", self.threshold)) if v is not None}
        try:
            if defaults is None:  # the task is unknown: only a metric's own range can be checked
                if "metric" in given and "threshold" in given:
                    objective.check_threshold(given["metric"], given["threshold"])
                return
            algorithm, task = self.algorithm_and_task(defaults)
            objective.resolve(given, defaults, algorithm, task)
        except UserError as error:
            raise OptionError(str(error).removeprefix("objective.")) from None

    def algorithm_and_task(self, defaults: Mapping[str, Any]) -> tuple[str, str]:
        """The algorithm a run trains and its task, as the prepare-run Lambda will resolve them."""
        algorithm = self.algorithm or defaults["algorithm"]
        values = self.hyperparameters
        if values is None:
            values = defaults["hyperparameters"] if algorithm == defaults["algorithm"] else {}
        _, typed = hyperparameters.parse({**_as_strings(values), "algorithm": algorithm})
        return algorithm, catalog.task_for(algorithm, typed)

    def _check_instance_types(self, defaults: Mapping[str, Any] | None) -> None:
        if self.instance_types is None:
            return
        if not isinstance(self.instance_types, Mapping):
            raise OptionError("instance_types: expected a dict such as {'training': 'ml.m5.xlarge'}")
        reject_unknown(self.instance_types, list(INSTANCE_KINDS), kind="instance type kinds")
        if defaults is None:
            return
        if "endpoint" in self.instance_types and defaults["endpoint"].get("serverless"):
            raise OptionError(
                "instance_types['endpoint']: this environment serves from a serverless endpoint, which has no "
                "instance type; drop it (config/<env>.json endpoint.serverless)"
            )
        for kind, value in self.instance_types.items():
            allowed = list(defaults["allowed_instance_types"][kind])
            if value not in allowed:
                close = difflib.get_close_matches(str(value), allowed, n=1, cutoff=0.0)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise OptionError(
                    f"instance_types[{kind!r}]={value!r} is not allowed in this environment: {hint}"
                    f"choose one of {', '.join(allowed)} (allowed_instance_types.{kind} in config/<env>.json)"
                )

    def _check_hyperparameters(self) -> None:
        if self.hyperparameters is None:
            return
        if not isinstance(self.hyperparameters, Mapping):
            raise OptionError("hyperparameters: expected a dict of name -> value, e.g. {'max_depth': 4}")
        for name, value in self.hyperparameters.items():
            if not isinstance(value, Scalar):
                raise OptionError(f"hyperparameters[{name!r}]={value!r}: expected a string, number or boolean")
        if self.algorithm is None:
            return  # the environment's default algorithm is known only to the pipeline: it checks them there
        try:
            # the container's own parser
            hyperparameters.parse({**_as_strings(self.hyperparameters), "algorithm": self.algorithm})
        except UserError as error:
            raise OptionError(f"hyperparameters: {error}") from None

    def to_input(self, data_uri: str) -> dict[str, Any]:
        """The execution input (docs/pipeline.md); options left at None are left out."""
        payload: dict[str, Any] = {"data": data_uri}
        if self.algorithm is not None:
            payload["algorithm"] = self.algorithm
        if self.hyperparameters is not None:
            payload["hyperparameters"] = dict(self.hyperparameters)
        tuning = {
            key: value
            for key, value in (
                ("enabled", self.tuning),
                ("max_jobs", self.max_jobs),
                ("max_parallel_jobs", self.parallel),
                ("strategy", self.strategy),
            )
            if value is not None
        }
        if tuning:
            payload["tuning"] = tuning
        gate = {k: v for k, v in (("metric", self.metric), ("threshold", self.threshold)) if v is not None}
        if gate:
            payload["objective"] = gate
        if self.instance_types:
            payload["instance_types"] = dict(self.instance_types)
        if self.deploy is not None:
            payload["deploy"] = self.deploy
        return payload


def environment_defaults(env: str) -> dict[str, Any] | None:
    """What config/<env>.json gives a run that leaves a field out, as the prepare-run Lambda receives it;
    None for an environment this checkout has no configuration for."""
    from stacks.config import CONFIG_DIR, load_config, run_defaults  # pydantic: only where it is needed

    if not (CONFIG_DIR / f"{env}.json").is_file():
        return None
    return run_defaults(load_config(env))


def _as_strings(values: Mapping[str, Scalar]) -> dict[str, str]:
    # SageMaker passes every hyperparameter as a string; booleans as "true"/"false".
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in values.items()}


def _one_of(name: str, value: object, allowed: list[str]) -> None:
    if value is None or value in allowed:
        return
    close = difflib.get_close_matches(str(value), allowed, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise OptionError(f"{name}={value!r} is not known: {hint}choose one of {', '.join(allowed)}")


def _whole(name: str, value: object, maximum: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise OptionError(f"{name}={value!r}: expected a whole number from 1 to {maximum}")


def reject_unknown(options: Mapping[str, Any], known: list[str], *, kind: str) -> None:
    """An option that is not one of `known`: name it, suggest the closest, list them all."""
    for name in options:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise OptionError(f"unknown option {name!r}: {hint}the {kind} are {', '.join(known)}")
