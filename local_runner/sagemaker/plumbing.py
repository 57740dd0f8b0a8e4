"""The local SageMaker's plumbing: records, ARNs, dispatch of API calls to `op_*` methods, background jobs, tags.

Every part of the service (processing.py, training.py, tuning_jobs.py, registry.py, hosting.py, transform.py)
builds on these public methods; none reaches into another part's private ones.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..faults import Faults
from ..permissions import Principal, acting_as
from ..template import ACCOUNT, REGION
from ..validation import ServiceError, operation_model, shape_response, validate_request
from . import endpoints, jobs
from .alarms import CloudWatch
from .capture import DataCapture
from .store import Store

TERMINAL = ("Completed", "Failed", "Stopped")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _members(operation: str) -> set[str]:
    return set(operation_model("sagemaker", operation).output_shape.members)


def describe_record(record: dict[str, Any], operation: str) -> dict[str, Any]:
    """The record's fields that the operation's output shape has."""
    keys = _members(operation)
    return {k: v for k, v in record.items() if k in keys}


class JobFailed(Exception):
    """A job's failure: its reason (FailureReason), the container's exit message, the metrics it wrote."""

    def __init__(self, reason: str, exit_message: str | None = None, metrics: list | None = None):
        super().__init__(reason)
        self.reason = reason[:1024]
        self.exit_message = exit_message
        self.metrics = metrics


class SageMakerPlumbing:
    """The state every part of the local SageMaker shares, and the calls they share."""

    def __init__(
        self,
        workdir: Path,
        code_dir: Path,
        store: Store | None = None,
        faults: Faults | None = None,
        region: str = REGION,
        account: str = ACCOUNT,
        seed: int = 0,
        time_scale: float = 1.0,
    ):
        self.workdir = workdir
        self.code_dir = code_dir
        self.store = store or Store()
        self.faults = faults or Faults()
        self.region = region
        self.account = account
        self.seed = seed
        self.processes: dict[str, jobs.Process] = {}
        self.threads: list[threading.Thread] = []
        self.listeners: list[Callable[[str, str, dict[str, Any]], None]] = []
        self.time_scale = time_scale
        self.cloudwatch = CloudWatch(region)
        self.endpoint_shutdown = threading.Event()
        self.capture = DataCapture(seed)  # InvokeEndpoint's data capture; a test may replace its `rng`
        self._recover()

    # -- plumbing -------------------------------------------------------------
    def arn(self, kind: str, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account}:{kind}/{name.lower()}"

    def handle(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        validate_request("sagemaker", operation, params)
        method = getattr(self, "op_" + _snake(operation), None)
        if method is None:
            raise ServiceError(
                "NotImplementedException",
                f"The local SageMaker does not implement {operation}",
                status=501,
            )
        return shape_response("sagemaker", operation, method(params) or {})

    def spawn(self, target: Callable[[], None], name: str, *, role: str | None = None) -> None:
        """Run target on a thread of its own, acting as `role` (a job's or endpoint's execution role)."""

        def run() -> None:
            with acting_as(Principal(role, session="SageMaker") if role else None):
                target()

        thread = threading.Thread(target=run, name=name, daemon=True)
        self.threads.append(thread)
        thread.start()

    def notify(self, kind: str, name: str, record: dict[str, Any]) -> None:
        for listener in self.listeners:
            listener(kind, name, record)

    def wait_for_change(self, name: str, timeout: float) -> None:
        self.store.wait(timeout)

    def join(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in list(self.threads):
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))

    @staticmethod
    def describe_record(record: dict[str, Any], operation: str) -> dict[str, Any]:
        return describe_record(record, operation)

    def require(self, collection: str, name: str, what: str) -> dict[str, Any]:
        record = self.store.get(collection, name)
        if record is None:
            raise ServiceError("ResourceNotFound", f"{what} {name} does not exist.")
        return record

    def require_unique(self, collection: str, name: str, what: str, kind: str) -> None:
        if self.store.get(collection, name) is not None:
            raise ServiceError(
                "ResourceInUse",
                f"{what} names must be unique within an AWS account and region, and a {what.lower()} "
                f"with this name already exists ({self.arn(kind, name)})",
            )

    def _recover(self) -> None:
        """Jobs a previous run left in progress failed with it."""
        for collection, key in (
            ("training_jobs", "TrainingJobStatus"),
            ("processing_jobs", "ProcessingJobStatus"),
            ("tuning_jobs", "HyperParameterTuningJobStatus"),
            ("transform_jobs", "TransformJobStatus"),
        ):
            for record in self.store.values(collection):
                if record.get(key) in ("InProgress", "Stopping"):
                    name = next(v for k, v in record.items() if k.endswith("JobName"))
                    self.store.update(
                        collection,
                        name,
                        **{
                            key: "Failed",
                            "FailureReason": "InternalServerError: the local runner stopped during the job",
                        },
                    )
                    endpoints.stop(record.get("local"))  # a transform job's serve process outlives its runner
        self.recover_endpoints()

    # -- tags -------------------------------------------------------------------
    def tag_resource(self, arn: str, tags: list[dict[str, str]] | None) -> None:
        if tags:
            current = {t["Key"]: t["Value"] for t in (self.store.get("tags", arn) or {}).get("Tags", [])}
            current.update({t["Key"]: t["Value"] for t in tags})
            self.store.put("tags", arn, {"Tags": [{"Key": k, "Value": v} for k, v in current.items()]})

    def put_request(
        self, collection: str, resource: str, name: str, p: dict[str, Any], *, arn_field: str, **fields: Any
    ) -> str:
        """Keep a Create* request (its Tags apart, as SageMaker does) as `name`'s record with its ARN under
        `arn_field` and `fields` added, tag the resource, and return the ARN."""
        arn = self.arn(resource, name)
        record = {k: v for k, v in p.items() if k != "Tags"}
        record.update({arn_field: arn}, **fields)
        self.store.put(collection, name, record)
        self.tag_resource(arn, p.get("Tags"))
        return arn

    def start_job(self, name: str, target: Callable[[], None], thread_name: str, *, role: str | None) -> None:
        """A job runs on its own thread, as its execution role, with a Process handle that Stop* reaches."""
        self.processes[name] = jobs.Process()
        self.spawn(target, thread_name, role=role)

    def op_add_tags(self, p: dict[str, Any]) -> dict[str, Any]:
        self.tag_resource(p["ResourceArn"], p["Tags"])
        return {"Tags": p["Tags"]}

    def op_list_tags(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": (self.store.get("tags", p["ResourceArn"]) or {}).get("Tags", [])}

    def filtered(self, collection: str, p: dict[str, Any], name_key: str, status_key: str) -> list[dict[str, Any]]:
        records = self.store.values(collection)
        if p.get("NameContains"):
            records = [r for r in records if p["NameContains"].lower() in r[name_key].lower()]
        if p.get("StatusEquals"):
            records = [r for r in records if r.get(status_key) == p["StatusEquals"]]
        records.sort(key=lambda r: r["CreationTime"], reverse=p.get("SortOrder", "Descending") == "Descending")
        return records[: p.get("MaxResults", 100)]

    def stop_job(self, collection: str, name: str, status_key: str) -> dict[str, Any]:
        record = self.store.get(collection, name)
        if record is None:
            raise ServiceError("ResourceNotFound", f"Could not find requested job with name {name}")
        if record[status_key] != "InProgress":
            raise ServiceError(
                "ValidationException", f"The job {name} is not in progress (status: {record[status_key]})."
            )
        self.store.update(collection, name, **{status_key: "Stopping"})
        process = self.processes.get(name)
        if process is not None:
            process.stop()
        return {}
