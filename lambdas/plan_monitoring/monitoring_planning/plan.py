"""One monitoring run's plan, or the reason there is nothing to monitor (which ends the workflow at once).

The serving model is whatever the endpoint serves now: DescribeEndpoint -> its endpoint config (data capture
destination, variants) -> its model's artifact, `s3://<artifacts>/runs/<run>/models/.../model.tar.gz`. That
run's `process` job wrote the baseline beside it (`runs/<run>/processing/baseline/statistics.json`) and its
evaluation `runs/<run>/evaluation/evaluation.json`, so a redeploy moves the monitoring to the new model's
baseline with nothing else to record. Both deployment paths (the training workflow and the approval workflow)
create the model from the run's own artifact.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

PROCESSING_ROOT = "/opt/ml/processing"
SERVING = ("InService", "Updating", "SystemUpdating", "UpdateRollbackFailed")
_RUN_ARTIFACT = re.compile(r"^s3://(?P<bucket>[^/]+)/(?P<run>runs/[^/]+/)models/")
_PERIOD = {"hour": datetime.timedelta(hours=1), "day": datetime.timedelta(days=1)}


@dataclass(frozen=True)
class Clients:
    sagemaker: Any
    s3: Any
    stepfunctions: Any


class Skip(Exception):
    """Nothing to monitor in this window; the message says why."""


def window(scheduled_time: str, period: str) -> tuple[datetime.datetime, datetime.datetime]:
    """The last full hour (or day) before the scheduled time: captures of a finished period only."""
    when = datetime.datetime.fromisoformat(scheduled_time.replace("Z", "+00:00")).astimezone(datetime.UTC)
    end = when.replace(minute=0, second=0, microsecond=0)
    if period == "day":
        end = end.replace(hour=0)
    return end - _PERIOD[period], end


def period_path(start: datetime.datetime, period: str) -> str:
    """Data capture's hour layout, yyyy/mm/dd/hh/ (or yyyy/mm/dd/ for a day)."""
    return start.strftime("%Y/%m/%d/%H/" if period == "hour" else "%Y/%m/%d/")


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _exists(s3, uri: str) -> bool:
    bucket, key = _split(uri)
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def _any_object(s3, uri: str) -> bool:
    bucket, prefix = _split(uri)
    return s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1).get("KeyCount", 0) > 0


def serving_model(sagemaker, endpoint_name: str) -> dict[str, Any]:
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=endpoint_name)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ValidationException":
            raise Skip(f"no endpoint {endpoint_name}: no model is serving") from None
        raise
    if endpoint["EndpointStatus"] not in SERVING:
        raise Skip(f"endpoint {endpoint_name} is {endpoint['EndpointStatus']}: no model is serving")
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    capture = config.get("DataCaptureConfig") or {}
    if not capture.get("EnableCapture", True) or not capture.get("DestinationS3Uri"):
        raise Skip(f"endpoint config {config['EndpointConfigName']} captures no data")
    variant = config["ProductionVariants"][0]
    model = sagemaker.describe_model(ModelName=variant["ModelName"])
    artifact = (model.get("PrimaryContainer") or {}).get("ModelDataUrl", "")
    match = _RUN_ARTIFACT.match(artifact)
    if not match:
        raise Skip(f"model {variant['ModelName']} ({artifact or 'no artifact'}) is not a pipeline run's: no baseline")
    run = f"s3://{match['bucket']}/{match['run']}"
    return {
        "model": variant["ModelName"],
        "variant": variant["VariantName"],
        "capture": capture["DestinationS3Uri"].rstrip("/"),
        "baseline": f"{run}processing/baseline/",
        "evaluation": f"{run}evaluation/",
    }


def _input(name: str, uri: str) -> dict[str, Any]:
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": f"{PROCESSING_ROOT}/{name}",
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
        },
    }


def _arguments(config: dict[str, Any], endpoint_name: str) -> list[str]:
    drift = config["drift"]
    return [
        "--max-distance", str(drift["distance"]),
        "--max-missing-rate", str(drift["missing_rate"]),
        "--max-type-rate", str(drift["type_rate"]),
        "--max-out-of-range-rate", str(drift["out_of_range_rate"]),
        "--min-rows", str(drift["min_rows"]),
        "--quality-tolerance", str(config["quality_tolerance"]),
        "--metrics-namespace", config["metrics_namespace"],
        "--endpoint-name", endpoint_name,
    ]  # fmt: skip


def newest_data(s3, bucket: str, prefix: str) -> str:
    """The last sub-prefix by name (datasets/2026-12-01/ after datasets/2026-11-30/), else the prefix itself."""
    names = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        names += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return f"s3://{bucket}/{max(names) if names else prefix}"


def _recent_retraining(stepfunctions, state_machine_arn: str, since: datetime.datetime) -> dict | None:
    """The newest drift-started execution since `since` (ListExecutions lists the newest first)."""
    for page in stepfunctions.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn):
        for execution in page["executions"]:
            if execution["startDate"] < since:
                return None
            if execution["name"].startswith("drift-"):
                return execution
    return None


def retraining(clients: Clients, settings, now: datetime.datetime, name: str) -> dict[str, Any]:
    """Whether a violation may start a retraining now: switched on, and none started within the cool-down."""
    config = settings.config
    if not config["retrain_on_drift"]:
        return {"allowed": False, "reason": "monitoring.retrain_on_drift is off"}
    hours = config["retrain_cooldown_hours"]
    recent = _recent_retraining(
        clients.stepfunctions, settings.pipeline_state_machine_arn, now - datetime.timedelta(hours=hours)
    )
    if recent is not None:
        started = recent["startDate"].astimezone(datetime.UTC)
        return {
            "allowed": False,
            "reason": f"retraining {recent['name']} started at {started:%Y-%m-%dT%H:%M:%SZ}, "
            f"within the {hours}-hour cool-down",
        }
    data = newest_data(clients.s3, settings.data_bucket, config["retrain_data_prefix"])
    return {"allowed": True, "reason": "violations found", "name": name, "input": {"data": data}}


def plan_monitoring(event: dict[str, Any], settings, clients: Clients, now: datetime.datetime) -> dict[str, Any]:
    config = settings.config
    given = event.get("input") or {}
    scheduled = given.get("scheduled_time") or event["start_time"]
    start, end = window(scheduled, config["period"])
    digest = hashlib.sha256(event["execution_name"].encode()).hexdigest()[:8]
    stamp = start.strftime("%Y%m%d%H")
    base = {"window": {"start": f"{start:%Y-%m-%dT%H:%M:%SZ}", "end": f"{end:%Y-%m-%dT%H:%M:%SZ}"}}
    try:
        serving = serving_model(clients.sagemaker, settings.endpoint_name)
        path = period_path(start, config["period"])
        capture = f"{serving['capture']}/{settings.endpoint_name}/{serving['variant']}/{path}"
        if not _exists(clients.s3, f"{serving['baseline']}statistics.json"):
            raise Skip(f"the serving model {serving['model']} has no baseline at {serving['baseline']}statistics.json")
        if not _any_object(clients.s3, capture):
            raise Skip(f"no data captured under {capture}")
    except Skip as skip:
        return {**base, "action": "skip", "reason": str(skip)}
    inputs = [_input("capture", capture), _input("baseline", serving["baseline"])]
    if _exists(clients.s3, f"{serving['evaluation']}evaluation.json"):
        inputs.append(_input("evaluation", serving["evaluation"]))
    ground_truth = f"s3://{settings.data_bucket}/{config['ground_truth_prefix']}{path}"
    if _any_object(clients.s3, ground_truth):
        inputs.append(_input("ground_truth", ground_truth))
    job = f"monitor-{stamp}-{digest}"
    output = f"s3://{settings.artifacts_bucket}/monitoring/{path}{job}/"
    return {
        **base,
        "action": "monitor",
        "reason": f"{serving['model']} on {capture}",
        "id": job,
        "model": serving["model"],
        "jobs": {"monitor": job},
        "inputs": inputs,
        "arguments": _arguments(config, settings.endpoint_name),
        "s3": {
            "output": output,
            "bucket": settings.artifacts_bucket,
            "violations_key": f"monitoring/{path}{job}/constraint_violations.json",
            "report": f"{output}drift_report.html",
        },
        "retrain": retraining(clients, settings, now, f"drift-{stamp}-{digest}"),
    }
