"""Per-feature drift of captured rows against the baseline statistics that `process` wrote for the model.

Measures, each against a threshold of the environment's configuration (stacks/config, `monitoring`):
- missing rate: the share of missing cells, above the baseline's share by more than `missing_rate`;
- type: the share of cells that are not numbers (or not integers, for an Integral feature) above `type_rate`;
- range: the share of values outside the baseline's [min, max] above `out_of_range_rate`;
- distribution: the population stability index (PSI) over the baseline's decile buckets, above `distance`.
PSI, not Kolmogorov-Smirnov: it needs only the baseline's bucket counts (not its rows), it is the figure
credit-risk and ML teams already read (< 0.1 stable, 0.1-0.25 moderate, > 0.25 major shift), and unlike a KS
p-value it does not flag a negligible shift just because an hour held many rows.
The distribution, missing-rate and range checks need `min_rows` rows: fewer are reported, not judged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import UserError
from .capture import Capture

# A bucket with no rows would make PSI infinite; this share stands in for it (the usual smoothing).
PSI_FLOOR = 1e-4


@dataclass(frozen=True)
class Thresholds:
    distance: float = 0.2
    missing_rate: float = 0.05
    type_rate: float = 0.01
    out_of_range_rate: float = 0.05
    min_rows: int = 100


@dataclass
class FeatureDrift:
    name: str
    baseline_type: str
    inferred_type: str
    present: int
    missing: int
    non_numeric: int
    non_integral: int
    out_of_range: int
    baseline_missing_rate: float
    edges: list[float]
    baseline_shares: list[float]
    live_counts: list[int]
    values: np.ndarray = field(repr=False)
    low: float | None = None
    high: float | None = None
    distance: float | None = None

    @property
    def rows(self) -> int:
        return self.present + self.missing + self.non_numeric

    def rate(self, count: int) -> float:
        return count / self.rows if self.rows else 0.0


@dataclass
class DriftResult:
    features: list[FeatureDrift]
    rows: int
    wrong_width: dict[int, int]  # row width -> rows of that width that were left out
    judged: bool  # enough rows for the distribution, missing-rate and range checks
    violations: list[dict] = field(default_factory=list)


def baseline_features(stats: dict) -> list[dict]:
    features = stats.get("features") if isinstance(stats, dict) else None
    if not isinstance(features, list) or not features or not all(isinstance(f, dict) and "name" in f for f in features):
        raise UserError(
            "the baseline statistics.json has no features list; pass the statistics.json that "
            "`python -m training_code process` wrote for the serving model (its baseline/ output)"
        )
    return features


def buckets(feature: dict) -> tuple[list[float], list[float]]:
    """(edges, expected shares) of a baseline feature: its histogram, or its quantiles for older baselines."""
    histogram = feature.get("histogram")
    if histogram:
        edges = [histogram[0]["lower_bound"]] + [b["upper_bound"] for b in histogram]
        counts = np.array([b["count"] for b in histogram], dtype=float)
    else:
        names = ("min", "p5", "p25", "p50", "p75", "p95", "max")
        if any(feature.get(n) is None for n in names):
            return [], []
        edges = [feature[n] for n in names]
        counts = np.array([0.05, 0.20, 0.25, 0.25, 0.20, 0.05])
    total = counts.sum()
    return [float(e) for e in edges], (counts / total).tolist() if total else []


def psi(expected: list[float], actual_counts: list[int]) -> float:
    actual = np.asarray(actual_counts, dtype=float)
    if not actual.sum() or not expected:
        return 0.0
    e = np.clip(np.asarray(expected), PSI_FLOOR, None)
    a = np.clip(actual / actual.sum(), PSI_FLOOR, None)
    return float(np.sum((a - e) * np.log(a / e)))


def live_counts(values: np.ndarray, edges: list[float]) -> list[int]:
    """Counts in the baseline's buckets, the outer ones open-ended so that every live value lands in one."""
    if len(edges) < 2:
        return [int(values.size)]
    index = np.searchsorted(np.asarray(edges[1:-1]), values, side="right")
    return np.bincount(index, minlength=len(edges) - 1).tolist()


def _feature(base: dict, cells: list) -> FeatureDrift:
    numbers = [c for c in cells if isinstance(c, float) and math.isfinite(c)]
    values = np.asarray(numbers, dtype=float)
    missing = sum(1 for c in cells if c is None or (isinstance(c, float) and math.isnan(c)))
    non_numeric = len(cells) - len(numbers) - missing
    non_integral = int(np.count_nonzero(values != np.round(values))) if values.size else 0
    inferred = "String" if non_numeric > len(numbers) else ("Integral" if not non_integral else "Fractional")
    edges, shares = buckets(base)
    low, high = base.get("min"), base.get("max")
    outside = 0
    if values.size and low is not None and high is not None:
        outside = int(np.count_nonzero((values < low) | (values > high)))
    count = base.get("count") or 0
    return FeatureDrift(
        name=str(base["name"]),
        baseline_type=str(base.get("inferred_type", "Fractional")),
        inferred_type=inferred,
        present=len(numbers),
        missing=missing,
        non_numeric=non_numeric,
        non_integral=non_integral,
        out_of_range=outside,
        baseline_missing_rate=(base.get("missing", 0) / count) if count else 0.0,
        edges=edges,
        baseline_shares=shares,
        live_counts=live_counts(values, edges) if values.size else [],
        values=values,
        low=low,
        high=high,
    )


def compare(stats: dict, capture: Capture, limits: Thresholds) -> DriftResult:
    features = baseline_features(stats)
    width = len(features)
    kept = [row for row in capture.rows if len(row) == width]
    wrong: dict[int, int] = {}
    for row in capture.rows:
        if len(row) != width:
            wrong[len(row)] = wrong.get(len(row), 0) + 1
    columns = list(zip(*kept, strict=True)) if kept else [() for _ in features]
    result = DriftResult(
        features=[_feature(base, list(cells)) for base, cells in zip(features, columns, strict=True)],
        rows=len(kept),
        wrong_width=wrong,
        judged=len(kept) >= limits.min_rows,
    )
    for drift in result.features:
        if drift.present:
            drift.distance = psi(drift.baseline_shares, drift.live_counts)
    result.violations = violations(result, features, limits)
    return result


def _violation(name: str, check: str, description: str) -> dict:
    return {"feature_name": name, "constraint_check_type": check, "description": description}


def violations(result: DriftResult, features: list[dict], limits: Thresholds) -> list[dict]:
    """Model Monitor's constraint_violations entries; `range_check` is this project's addition."""
    found = []
    width = len(features)
    for size, count in sorted(result.wrong_width.items()):
        if size < width:
            found.append(
                _violation(
                    str(features[size]["name"]),
                    "missing_column_check",
                    f"{count} row(s) have {size} columns; the baseline has {width} features",
                )
            )
        else:
            found.append(
                _violation(
                    f"column_{width + 1}",
                    "extra_column_check",
                    f"{count} row(s) have {size} columns; the baseline has {width} features",
                )
            )
    for d in result.features:
        mismatched = d.non_numeric + (d.non_integral if d.baseline_type == "Integral" else 0)
        if d.rows and d.rate(mismatched) > limits.type_rate:
            found.append(
                _violation(
                    d.name,
                    "data_type_check",
                    f"{d.rate(mismatched):.1%} of values are not {d.baseline_type} (baseline type), "
                    f"above {limits.type_rate:.1%}; inferred type {d.inferred_type}",
                )
            )
        if not result.judged:
            continue
        increase = d.rate(d.missing) - d.baseline_missing_rate
        if increase > limits.missing_rate:
            found.append(
                _violation(
                    d.name,
                    "completeness_check",
                    f"missing rate {d.rate(d.missing):.1%} against {d.baseline_missing_rate:.1%} in "
                    f"the baseline (+{increase:.1%}, above {limits.missing_rate:.1%})",
                )
            )
        if d.rate(d.out_of_range) > limits.out_of_range_rate:
            found.append(
                _violation(
                    d.name,
                    "range_check",
                    f"{d.rate(d.out_of_range):.1%} of values outside the baseline's range "
                    f"[{d.low:.6g}, {d.high:.6g}], above {limits.out_of_range_rate:.1%}",
                )
            )
        if d.distance is not None and d.distance > limits.distance:
            found.append(
                _violation(
                    d.name,
                    "baseline_drift_check",
                    f"population stability index {d.distance:.4f} above {limits.distance}",
                )
            )
    return found
