"""Fault injection for tests and demonstrations.

faults = Faults()
faults.throttle("CreateTrainingJob", times=1)          # next call raises ThrottlingException
faults.api_error("lambda", "Invoke", "ServiceException", status=500)
faults.fail_job("processing", "*", "ClientError: injected")  # job fails with this FailureReason
faults.fail_endpoint("*", "the container did not pass the ping health check")
faults.interrupt_training("train-*", after_checkpoints=1)  # a managed-spot interruption, then a restart
faults.breach_alarm("*Errors5xx*")  # the alarm goes to ALARM when an update's new fleet takes traffic
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass, field
from typing import Any

from .validation import ServiceError

JOB_KINDS = ("processing", "training", "tuning", "transform", "endpoint")


@dataclass
class ApiFault:
    service: str
    operation: str
    code: str
    message: str
    status: int
    times: int
    hits: int = 0


@dataclass
class Faults:
    api: list[ApiFault] = field(default_factory=list)
    jobs: list[tuple[str, str, str]] = field(default_factory=list)
    interruptions: list[tuple[str, int]] = field(default_factory=list)
    alarm_breaches: list[list] = field(default_factory=list)  # [name pattern, updates left]
    _interrupted: set[str] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def api_error(
        self,
        service: str,
        operation: str,
        code: str,
        message: str | None = None,
        status: int = 400,
        times: int = 1,
    ) -> ApiFault:
        fault = ApiFault(service, operation, code, message or f"Injected {code}", status, times)
        self.api.append(fault)
        return fault

    def throttle(self, operation: str, times: int = 1, service: str = "sagemaker") -> ApiFault:
        return self.api_error(service, operation, "ThrottlingException", "Rate exceeded", 400, times)

    def fail_job(self, kind: str, name_pattern: str, reason: str) -> None:
        if kind not in JOB_KINDS:
            raise ValueError(f"kind must be one of {JOB_KINDS}")
        self.jobs.append((kind, name_pattern, reason))

    def fail_endpoint(self, name_pattern: str, reason: str) -> None:
        self.fail_job("endpoint", name_pattern, reason)

    def interrupt_training(self, name_pattern: str, after_checkpoints: int = 1) -> None:
        """A spot interruption of each matching training job, once: after its `after_checkpoints`-th checkpoint
        write the process gets SIGTERM, the checkpoints go to CheckpointConfig.S3Uri and the job restarts."""
        if after_checkpoints < 1:
            raise ValueError("after_checkpoints must be at least 1")
        self.interruptions.append((name_pattern, after_checkpoints))

    def breach_alarm(self, name_pattern: str, times: int = 1) -> None:
        """Put the CloudWatch alarms whose names match into ALARM when the new (green) fleet of each of the
        next `times` endpoint updates starts taking traffic: the documented way to test auto-rollback
        (SetAlarmState). When that update ends they return to OK, as a real alarm returns to its actual
        state at its next evaluation."""
        if times < 1:
            raise ValueError("times must be at least 1")
        self.alarm_breaches.append([name_pattern, times])

    def alarm_breach_patterns(self) -> list[str]:
        """The patterns to breach for the update whose green fleet is taking traffic now (each counts once)."""
        with self._lock:
            patterns = [entry[0] for entry in self.alarm_breaches if entry[1] > 0]
            for entry in self.alarm_breaches:
                entry[1] = max(0, entry[1] - 1)
        return patterns

    def training_interruption(self, name: str) -> int | None:
        """The checkpoint writes after which to interrupt this training job (None: never, or already done)."""
        with self._lock:
            if name in self._interrupted:
                return None
            for pattern, after_checkpoints in self.interruptions:
                if fnmatch.fnmatchcase(name, pattern):
                    self._interrupted.add(name)
                    return after_checkpoints
        return None

    def check(self, service: str, operation: str, params: dict[str, Any]) -> None:
        with self._lock:
            for fault in self.api:
                if fault.service == service and fault.operation == operation and fault.hits < fault.times:
                    fault.hits += 1
                    raise ServiceError(fault.code, fault.message, fault.status)

    def job_failure(self, kind: str, name: str) -> str | None:
        for fault_kind, pattern, reason in self.jobs:
            if fault_kind == kind and fnmatch.fnmatchcase(name, pattern):
                return reason
        return None
