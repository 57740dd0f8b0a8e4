"""Hyperparameter search strategies: Random and Grid directly, Bayesian through Optuna's TPE."""

from __future__ import annotations

import itertools
import math
import random
import threading
from typing import Any

from ..validation import ServiceError

Ranges = dict[str, list[dict[str, Any]]]


def _bounds(spec: dict[str, Any], cast) -> tuple[Any, Any]:
    lo, hi = cast(spec["MinValue"]), cast(spec["MaxValue"])
    if lo > hi:
        raise ServiceError("ValidationException", f"MinValue must not exceed MaxValue for {spec['Name']}")
    if spec.get("ScalingType") == "Logarithmic" and lo <= 0:
        raise ServiceError("ValidationException", f"Logarithmic scaling needs MinValue > 0 for {spec['Name']}")
    return lo, hi


def _format(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


class Strategy:
    def __init__(self, ranges: Ranges, max_jobs: int, goal: str, seed: int = 0):
        self.ranges = ranges
        self.max_jobs = max_jobs
        self.goal = goal
        self.rng = random.Random(seed)
        self.lock = threading.Lock()

    @property
    def integers(self) -> list[dict[str, Any]]:
        return self.ranges.get("IntegerParameterRanges", [])

    @property
    def continuous(self) -> list[dict[str, Any]]:
        return self.ranges.get("ContinuousParameterRanges", [])

    @property
    def categorical(self) -> list[dict[str, Any]]:
        return self.ranges.get("CategoricalParameterRanges", [])

    def total(self) -> int:
        return self.max_jobs

    def suggest(self) -> tuple[Any, dict[str, str]] | None:
        raise NotImplementedError

    def report(self, token: Any, value: float | None) -> None:
        """The objective of a finished job (None when it failed)."""


class RandomStrategy(Strategy):
    def _sample_float(self, spec: dict[str, Any]) -> float:
        lo, hi = _bounds(spec, float)
        scaling = spec.get("ScalingType", "Auto")
        if scaling == "Logarithmic":
            return math.exp(self.rng.uniform(math.log(lo), math.log(hi)))
        if scaling == "ReverseLogarithmic" and hi < 1:
            return 1 - math.exp(self.rng.uniform(math.log(1 - hi), math.log(1 - lo)))
        return self.rng.uniform(lo, hi)

    def suggest(self) -> tuple[Any, dict[str, str]] | None:
        values: dict[str, str] = {}
        with self.lock:
            for spec in self.integers:
                lo, hi = _bounds(spec, int)
                if spec.get("ScalingType") == "Logarithmic":
                    value = round(math.exp(self.rng.uniform(math.log(lo), math.log(hi))))
                    values[spec["Name"]] = str(min(hi, max(lo, value)))
                else:
                    values[spec["Name"]] = str(self.rng.randint(lo, hi))
            for spec in self.continuous:
                values[spec["Name"]] = _format(self._sample_float(spec))
            for spec in self.categorical:
                values[spec["Name"]] = self.rng.choice(spec["Values"])
        return None, values


class GridStrategy(Strategy):
    def __init__(self, ranges: Ranges, max_jobs: int | None, goal: str, seed: int = 0):
        if ranges.get("ContinuousParameterRanges"):
            raise ServiceError("ValidationException", "Grid search does not support continuous parameter ranges")
        super().__init__(ranges, max_jobs or 0, goal, seed)
        axes: list[tuple[str, list[str]]] = []
        for spec in self.integers:
            lo, hi = _bounds(spec, int)
            axes.append((spec["Name"], [str(v) for v in range(lo, hi + 1)]))
        for spec in self.categorical:
            axes.append((spec["Name"], list(spec["Values"])))
        names = [name for name, _ in axes]
        self.grid = [dict(zip(names, combo, strict=False)) for combo in itertools.product(*(vals for _, vals in axes))]
        if max_jobs:
            self.grid = self.grid[:max_jobs]
        self.max_jobs = len(self.grid)
        self._next = 0

    def suggest(self) -> tuple[Any, dict[str, str]] | None:
        with self.lock:
            if self._next >= len(self.grid):
                return None
            self._next += 1
            return None, dict(self.grid[self._next - 1])


class BayesianStrategy(Strategy):
    """Optuna's TPE sampler (ask/tell, with the constant-liar heuristic for parallel jobs)."""

    def __init__(self, ranges: Ranges, max_jobs: int, goal: str, seed: int = 0):
        super().__init__(ranges, max_jobs, goal, seed)
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.optuna = optuna
        sampler = optuna.samplers.TPESampler(
            seed=seed, n_startup_trials=max(2, min(10, max_jobs // 3)), constant_liar=True
        )
        direction = "maximize" if goal == "Maximize" else "minimize"
        self.study = optuna.create_study(direction=direction, sampler=sampler)
        dist = optuna.distributions
        self.distributions: dict[str, Any] = {}
        for spec in self.integers:
            lo, hi = _bounds(spec, int)
            self.distributions[spec["Name"]] = dist.IntDistribution(
                lo, hi, log=spec.get("ScalingType") == "Logarithmic"
            )
        for spec in self.continuous:
            lo, hi = _bounds(spec, float)
            self.distributions[spec["Name"]] = dist.FloatDistribution(
                lo, hi, log=spec.get("ScalingType") == "Logarithmic"
            )
        for spec in self.categorical:
            self.distributions[spec["Name"]] = dist.CategoricalDistribution(list(spec["Values"]))

    def suggest(self) -> tuple[Any, dict[str, str]] | None:
        with self.lock:
            trial = self.study.ask(self.distributions)
        return trial, {name: _format(value) for name, value in trial.params.items()}

    def report(self, token: Any, value: float | None) -> None:
        with self.lock:
            if value is None or math.isnan(value):
                self.study.tell(token, state=self.optuna.trial.TrialState.FAIL)
            else:
                self.study.tell(token, value)


def strategy_for(name: str, ranges: Ranges, max_jobs: int | None, goal: str, seed: int = 0) -> Strategy:
    if name == "Grid":
        return GridStrategy(ranges, max_jobs, goal, seed)
    if not max_jobs:
        raise ServiceError(
            "ValidationException", "ResourceLimits.MaxNumberOfTrainingJobs is required for this strategy"
        )
    if name == "Bayesian":
        return BayesianStrategy(ranges, max_jobs, goal, seed)
    # Random; Hyperband runs as random search here (no early stopping of brackets).
    return RandomStrategy(ranges, max_jobs, goal, seed)
