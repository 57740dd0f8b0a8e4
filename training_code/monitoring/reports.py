"""Model Monitor's report files: statistics.json of the captured data and constraint_violations.json.

Shapes as in the SageMaker developer guide ("Schema for Statistics", "Schema for Violations"), so that teams
who know Model Monitor read them as they are; the additions are named in docs/monitoring.md.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from .drift import DriftResult, FeatureDrift
from .quality import QualityResult


def _number(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _buckets(d: FeatureDrift) -> list[dict]:
    if not d.live_counts:
        return []
    low, high = float(d.values.min()), float(d.values.max())
    edges = d.edges if len(d.edges) >= 2 else [low, high]
    inner = edges[1:-1]
    lows, highs = [min(low, edges[0]), *inner], [*inner, max(high, edges[-1])]
    return [
        {"lower_bound": lo, "upper_bound": hi, "count": c} for lo, hi, c in zip(lows, highs, d.live_counts, strict=True)
    ]


def feature_statistics(d: FeatureDrift) -> dict:
    v = d.values
    numbers = (
        {
            "mean": _number(v.mean()),
            "sum": _number(v.sum()),
            "std_dev": _number(v.std()),
            "min": _number(v.min()),
            "max": _number(v.max()),
        }
        if v.size
        else {}
    )
    return {
        "name": d.name,
        "inferred_type": d.inferred_type,
        "numerical_statistics": {
            "common": {"num_present": d.present, "num_missing": d.missing + d.non_numeric},
            **numbers,
            "distribution": {"kll": {"buckets": _buckets(d)}},
        },
        # Additions: the drift measures this project compares (docs/monitoring.md).
        "drift": {
            "population_stability_index": _number(d.distance) if d.distance is not None else None,
            "missing_rate": d.rate(d.missing),
            "baseline_missing_rate": d.baseline_missing_rate,
            "non_numeric_rate": d.rate(d.non_numeric),
            "out_of_range_rate": d.rate(d.out_of_range),
        },
    }


def statistics(result: DriftResult, quality: QualityResult | None) -> dict:
    doc = {
        "version": 0,
        "dataset": {"item_count": result.rows},
        "features": [feature_statistics(d) for d in result.features],
    }
    if quality is not None:
        doc["model_quality"] = {
            "metric": quality.metric,
            "value": quality.value,
            "baseline": quality.baseline,
            "rows": quality.rows,
        }
    return doc


def constraint_violations(result: DriftResult, quality: QualityResult | None) -> dict:
    found = list(result.violations)
    if quality is not None and quality.violation is not None:
        found.append(quality.violation)
    return {"violations": found}


def write_json(path: Path, doc: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return path
