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

from training_code import catalog, hyperparameters
from training_code.errors import UserError
from training_code.metrics import METRIC_GOALS

from .errors import OptionError

STRATEGIES = ("Bayesian", "Random", "Hyperband", "Grid")
MAX_JOBS = 500  # the execution input's limits (lambdas/prepare_run/run_planning/run_input.py)
MAX_PARALLEL = 100
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
    deploy: bool | None = None

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> RunOptions:
        reject_unknown(options, [f.name for f in fields(cls)], kind="options")
        parsed = cls(**options)
        parsed.check()
        return parsed

    def check(self) -> None:
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
        as_strings = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in self.hyperparameters.items()}
        try:
            hyperparameters.parse({**as_strings, "algorithm": self.algorithm})  # the container's own parser
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
        objective = {k: v for k, v in (("metric", self.metric), ("threshold", self.threshold)) if v is not None}
        if objective:
            payload["objective"] = objective
        if self.deploy is not None:
            payload["deploy"] = self.deploy
        return payload


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
