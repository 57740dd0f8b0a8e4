"""The local SageMaker's side of CloudWatch (moto's): rollback alarms and endpoint metrics.

Like SageMaker, it reads the alarms named in AutoRollbackConfiguration with DescribeAlarms, and the
runtime publishes each invocation to the AWS/SageMaker namespace (Invocations, Invocation4XXErrors,
Invocation5XXErrors, ModelLatency and OverheadLatency in microseconds, per EndpointName and VariantName).
moto stores alarms and metrics but does not evaluate alarms: an alarm changes state through
SetAlarmState (a test, or `Faults.breach_alarm`).
"""

from __future__ import annotations

import fnmatch
import threading

import boto3

from ..template import REGION


class CloudWatch:
    """CloudWatch as the local SageMaker of one LocalCloud uses it (its client is made lazily, under the mock)."""

    def __init__(self, region: str = REGION):
        self.region = region
        self._client = None
        self._lock = threading.Lock()

    @property
    def client(self):
        # Made once: a client costs tens of milliseconds, and the runtime publishes on every request.
        with self._lock:
            if self._client is None:
                self._client = boto3.client("cloudwatch", region_name=self.region)
            return self._client

    def in_alarm(self, names: list[str]) -> list[str]:
        """Those of the named alarms whose state is ALARM (an alarm that does not exist never is)."""
        if not names:
            return []
        found = self.client.describe_alarms(AlarmNames=names)["MetricAlarms"]
        return [a["AlarmName"] for a in found if a["StateValue"] == "ALARM"]

    def breach(self, patterns: list[str]) -> list[str]:
        """Set every alarm whose name matches one of `patterns` to ALARM; returns their names."""
        if not patterns:
            return []
        pages = self.client.get_paginator("describe_alarms").paginate()
        names = [a["AlarmName"] for page in pages for a in page["MetricAlarms"]]
        breached = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
        for name in breached:
            self.client.set_alarm_state(
                AlarmName=name, StateValue="ALARM", StateReason="Threshold Crossed: injected by faults.breach_alarm"
            )
        return breached

    def restore(self, names: list[str]) -> None:
        """Breached alarms return to OK, as a real one does at its next evaluation after SetAlarmState."""
        for name in names:
            self.client.set_alarm_state(
                AlarmName=name, StateValue="OK", StateReason="Returned to its actual state after faults.breach_alarm"
            )

    def publish_invocation(self, endpoint: str, variant: str, status: int, model_us: float, overhead_us: float) -> None:
        """One InvokeEndpoint call, as SageMaker reports it (the error counts are 0 or 1 per request)."""
        dimensions = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
        counts = {
            "Invocations": 1.0,
            "Invocation4XXErrors": float(400 <= status < 500),
            "Invocation5XXErrors": float(status >= 500),
        }
        data = [{"MetricName": k, "Dimensions": dimensions, "Value": v, "Unit": "None"} for k, v in counts.items()]
        if status < 500:  # no model latency without an answer from the model
            data.append(_latency("ModelLatency", dimensions, model_us))
        data.append(_latency("OverheadLatency", dimensions, overhead_us))
        self.client.put_metric_data(Namespace="AWS/SageMaker", MetricData=data)


def _latency(name: str, dimensions: list[dict[str, str]], microseconds: float) -> dict:
    return {"MetricName": name, "Dimensions": dimensions, "Value": microseconds, "Unit": "Microseconds"}
