"""Embedded metric format (EMF) in a job's log, read as CloudWatch Logs reads it: each JSON line with an
`_aws.CloudWatchMetrics` directive becomes metric data, its dimensions and values taken from the line's own
members (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
Other lines are plain log output."""

from __future__ import annotations

import json
from typing import Any


def metric_data(log: str) -> list[dict[str, Any]]:
    """`{"namespace": ..., "metric": <a PutMetricData MetricDatum>}` for every metric of every EMF line."""
    data: list[dict[str, Any]] = []
    for line in log.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            document = json.loads(line)
        except ValueError:
            continue
        directives = document.get("_aws", {}).get("CloudWatchMetrics") if isinstance(document, dict) else None
        if not isinstance(directives, list):
            continue
        for directive in directives:
            for dimension_set in directive.get("Dimensions") or [[]]:
                dimensions = [
                    {"Name": name, "Value": str(document[name])} for name in dimension_set if name in document
                ]
                for metric in directive.get("Metrics", []):
                    value = document.get(metric.get("Name"))
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        datum = {"MetricName": metric["Name"], "Dimensions": dimensions, "Value": float(value)}
                        datum["Unit"] = metric.get("Unit", "None")
                        data.append({"namespace": directive["Namespace"], "metric": datum})
    return data
