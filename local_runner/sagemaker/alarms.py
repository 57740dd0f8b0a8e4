"""The local SageMaker's side of CloudWatch (moto's): rollback alarms and endpoint metrics.

Like SageMaker, it reads the alarms named in AutoRollbackConfiguration with DescribeAlarms, and the
runtime publishes each invocation to the AWS/SageMaker namespace (Invocations, Invocation4XXErrors,
Invocation5XXErrors, ModelLatency and OverheadLatency in microseconds, per EndpointName and VariantName).
moto stores alarms and metrics but does not evaluate alarms: an alarm changes state through
SetAlarmState (a test, or `Faults.breach_alarm`), or when a job's embedded-metric-format lines reach it
(`put_embedded`): each datapoint is compared with the alarms on its metric, as one evaluation period.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import threading

import boto3

from .. import hooks
from ..permissions import Principal, acting_as
from ..template import REGION
from ..validation import ServiceError
from . import embedded_metrics

_log = logging.getLogger(__name__)


class CloudWatch:
    """CloudWatch as the local SageMaker of one LocalCloud uses it (its client is made lazily, under the mock)."""

    def __init__(self, region: str = REGION):
        self.region = region
        self._client = None
        self._lock = threading.Lock()
        self.notifications: list[tuple[str, str]] = []  # (alarm, topic) published
        self.lost_notifications: list[tuple[str, str, str]] = []  # (alarm, topic, why) denied

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
        """Set every alarm whose name matches one of `patterns` to ALARM, and run its alarm actions as CloudWatch
        would; returns their names. The fault is the operator's doing: it is not authorized as anyone."""
        if not patterns:
            return []
        with acting_as(None):
            pages = self.client.get_paginator("describe_alarms").paginate()
            alarms = [a for page in pages for a in page["MetricAlarms"]]
            breached = [a for a in alarms if any(fnmatch.fnmatchcase(a["AlarmName"], p) for p in patterns)]
            for alarm in breached:
                self.client.set_alarm_state(
                    AlarmName=alarm["AlarmName"],
                    StateValue="ALARM",
                    StateReason="Threshold Crossed: injected by faults.breach_alarm",
                )
                for action in alarm.get("AlarmActions", []):
                    self.notify(alarm, action)
        return [a["AlarmName"] for a in breached]

    def notify(self, alarm: dict, topic: str) -> None:
        """CloudWatch publishes an alarm's state change to an SNS action as cloudwatch.amazonaws.com: the
        topic's policy and the key that encrypts it must allow that, or the notification is lost."""
        if not topic.startswith("arn:aws:sns:"):
            return
        router = hooks.active()
        if router is not None and router.authorizer is not None:
            cloudwatch = Principal("cloudwatch.amazonaws.com", source_arn=alarm.get("AlarmArn"))
            try:
                router.authorizer.check_delivery("sns", cloudwatch, "sns:Publish", topic)
            except ServiceError as denied:
                _log.error(
                    "alarm %s could not notify %s, the notification is lost: %s", alarm["AlarmName"], topic, denied
                )
                self.lost_notifications.append((alarm["AlarmName"], topic, denied.message))
                return
        message = {
            "AlarmName": alarm["AlarmName"],
            "NewStateValue": "ALARM",
            "NewStateReason": alarm.get("StateReason"),
        }
        boto3.client("sns", region_name=self.region).publish(TopicArn=topic, Message=json.dumps(message))
        self.notifications.append((alarm["AlarmName"], topic))

    def put_embedded(self, log: str) -> None:
        """A job's log as CloudWatch Logs delivers it: its EMF lines become metric data, and each alarm on one of
        those metrics is evaluated on the new datapoint (one period: the alarms here have EvaluationPeriods 1)."""
        data = embedded_metrics.metric_data(log)
        if not data:
            return
        with acting_as(None):  # CloudWatch Logs' own delivery, not a caller's
            for item in data:
                self.client.put_metric_data(Namespace=item["namespace"], MetricData=[item["metric"]])
            pages = self.client.get_paginator("describe_alarms").paginate()
            alarms = [a for page in pages for a in page["MetricAlarms"]]
            for item in data:
                for alarm in alarms:
                    if _watches(alarm, item["namespace"], item["metric"]):
                        self._evaluate(alarm, item["metric"]["Value"])

    def _evaluate(self, alarm: dict, value: float) -> None:
        breaching = _COMPARE[alarm["ComparisonOperator"]](value, alarm["Threshold"])
        state = "ALARM" if breaching else "OK"
        if alarm["StateValue"] == state:
            return
        reason = (
            f"Threshold Crossed: 1 datapoint [{value}] was {'' if breaching else 'not '}{alarm['ComparisonOperator']}"
        )
        self.client.set_alarm_state(AlarmName=alarm["AlarmName"], StateValue=state, StateReason=reason)
        alarm.update(StateValue=state, StateReason=reason)
        for action in alarm.get("AlarmActions" if breaching else "OKActions", []):
            self.notify(alarm, action)

    def restore(self, names: list[str]) -> None:
        """Breached alarms return to OK, as a real one does at its next evaluation after SetAlarmState."""
        with acting_as(None):
            for name in names:
                self.client.set_alarm_state(
                    AlarmName=name,
                    StateValue="OK",
                    StateReason="Returned to its actual state after faults.breach_alarm",
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


_COMPARE = {
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "GreaterThanThreshold": lambda v, t: v > t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}


def _watches(alarm: dict, namespace: str, metric: dict) -> bool:
    """The alarm is on this metric: its namespace, name and exact dimension set (as CloudWatch matches)."""
    if alarm.get("Namespace") != namespace or alarm.get("MetricName") != metric["MetricName"]:
        return False
    if alarm["ComparisonOperator"] not in _COMPARE:  # anomaly-detection bands are not evaluated here
        return False
    wanted = {(d["Name"], d["Value"]) for d in alarm.get("Dimensions", [])}
    return wanted == {(d["Name"], d["Value"]) for d in metric["Dimensions"]}


def _latency(name: str, dimensions: list[dict[str, str]], microseconds: float) -> dict:
    return {"MetricName": name, "Dimensions": dimensions, "Value": microseconds, "Unit": "Microseconds"}
