"""CloudWatch metrics of a monitoring run, as embedded metric format (EMF) log lines.

A processing job's standard output goes to CloudWatch Logs (/aws/sagemaker/ProcessingJobs), and CloudWatch
extracts EMF metrics from any log event (the x-amzn-logs-format header is optional), so the container needs
no AWS SDK and its role no cloudwatch:PutMetricData; locally the runner reads the same lines. Every run emits
ViolationCount, 0 included, so that the alarm on it sees data while traffic flows.
"""

from __future__ import annotations

import json
import time

from .drift import DriftResult
from .quality import QualityResult


def _line(namespace: str, dimensions: dict[str, str], values: dict[str, float], when_ms: int) -> str:
    return json.dumps(
        {
            "_aws": {
                "Timestamp": when_ms,
                "CloudWatchMetrics": [
                    {
                        "Namespace": namespace,
                        "Dimensions": [list(dimensions)],
                        "Metrics": [
                            {"Name": name, "Unit": "Count" if name.endswith("Count") else "None"} for name in values
                        ],
                    }
                ],
            },
            **dimensions,
            **values,
        }
    )


def emf_lines(
    namespace: str,
    endpoint: str,
    result: DriftResult,
    quality: QualityResult | None,
    violation_count: int,
    when_ms: int | None = None,
) -> list[str]:
    when_ms = int(time.time() * 1000) if when_ms is None else when_ms
    totals = {"ViolationCount": violation_count, "CapturedRowCount": result.rows}
    if quality is not None:
        totals["ModelQuality"] = quality.value
    lines = [_line(namespace, {"Endpoint": endpoint}, totals, when_ms)]
    for d in result.features:
        values = {"MissingRate": d.rate(d.missing), "OutOfRangeRate": d.rate(d.out_of_range)}
        if d.distance is not None:
            values["FeatureDrift"] = d.distance
        lines.append(_line(namespace, {"Endpoint": endpoint, "Feature": d.name}, values, when_ms))
    return lines
