"""The failure handling itself: identify, look up, clean up, record, announce.

Idempotent by the record: an invocation that finds its failure already recorded
only completes what is missing (the notification, when an earlier attempt crashed
or failed to publish after writing the record). Publishing comes after the record,
and the record is marked notified after publishing, so a crash loses no message;
the price is at-least-once delivery if a crash falls between those two writes.
When no record can be written at all, the failure is still announced, then raised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from . import notify, summary
from .aws_clients import AwsClients
from .cleanup import CleanupOutcome, stop_leftovers
from .events import FailureEvent, parse_event
from .history import locate_failed_state
from .job_status import JobStatus, describe_job
from .records import SCHEMA_VERSION, FailureRecordStore, StoredRecord
from .settings import Settings

logger = Logger(child=True)


def utc_now() -> datetime:
    return datetime.now(UTC)


def handle_failure(
    raw_event: Any,
    settings: Settings,
    clients: AwsClients,
    now: Callable[[], datetime] = utc_now,
) -> dict[str, Any]:
    event = parse_event(raw_event)
    if event.problems:
        logger.warning("failure event of an unexpected shape", extra={"problems": list(event.problems)})
    store = FailureRecordStore(clients.s3, settings.record_bucket, settings.record_prefix)
    body: dict[str, Any] | None = None
    try:
        stored = store.load(event.record_id)
        already_recorded = stored is not None
        if stored is None:
            body = _investigate(event, settings, clients, store, now)
            stored = store.create(event.record_id, body)
        else:
            logger.info("failure already recorded", extra={"record_uri": stored.uri})
    except (ClientError, BotoCoreError) as error:
        # No record (bucket policy, KMS grant, outage): announce anyway, then fail
        # loudly. Without a record retries cannot deduplicate; a repeat beats silence.
        _announce_unrecorded(body or _investigate(event, settings, clients, store, now), error, settings, clients)
        raise
    notified_now = False
    if not stored.body.get("notified"):
        message = notify.compose(stored.body, settings.region)
        message_id = notify.publish(clients.sns, settings.topic_arn, message)
        stored = store.mark_notified(event.record_id, stored, message_id, now().isoformat())
        notified_now = True
    return _result(stored, notified_now, already_recorded)


def _announce_unrecorded(body: dict[str, Any], error: Exception, settings: Settings, clients: AwsClients) -> None:
    logger.exception("failure record could not be read or written", extra={"record_uri": body["record_uri"]})
    body = {**body, "notes": [*body["notes"], f"the failure record could not be written: {error}"]}
    notify.publish(clients.sns, settings.topic_arn, notify.compose(body, settings.region))


def _investigate(
    event: FailureEvent,
    settings: Settings,
    clients: AwsClients,
    store: FailureRecordStore,
    now: Callable[[], datetime],
) -> dict[str, Any]:
    event, notes = _locate_if_unknown(event, clients)
    status = describe_job(clients.sagemaker, event.job)
    cleanup = stop_leftovers(clients.sagemaker, event.job, status)
    if status.lookup_problem:
        notes.append(status.lookup_problem)
    return build_record(event, status, cleanup, notes, settings, store.uri_for(event.record_id), now())


def _locate_if_unknown(event: FailureEvent, clients: AwsClients) -> tuple[FailureEvent, list[str]]:
    """Fill in the step and job from the execution history when the event lacks them."""
    notes = [f"event: {problem}" for problem in event.problems]
    if (event.step and event.job.type != "none") or not event.execution_arn:
        return event, notes
    located = locate_failed_state(clients.stepfunctions, event.execution_arn)
    if located.problem:
        notes.append(located.problem)
    job = event.job if event.job.type != "none" or located.job is None else located.job
    return replace(event, step=event.step or located.step, job=job), notes


def build_record(
    event: FailureEvent,
    status: JobStatus,
    cleanup: CleanupOutcome,
    notes: list[str],
    settings: Settings,
    record_uri: str,
    recorded_at: datetime,
) -> dict[str, Any]:
    reason = summary.failure_reason(event, status)
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "record_uri": record_uri,
        "source": event.source,
        "pipeline": settings.pipeline_name,
        "environment": settings.environment_name,
        "execution_arn": event.execution_arn,
        "execution_name": event.execution_name,
        "state_machine_arn": event.state_machine_arn,
        "execution_status": event.execution_status,
        "redrive_count": event.redrive_count,
        "step": event.step,
        "job": {
            "type": event.job.type,
            "name": event.job.name,
            "action": event.job.action,
            "status": status.status,
            "failure_reason": status.failure_reason,
        },
        "error": event.error,
        "cause": event.cause,
        "reason": reason,
        "fail_state": {
            "error": summary.error_name(event.step),
            "cause": summary.cause_sentence(event.step, event.job.type, event.job.name, reason),
        },
        "stopped": cleanup.stopped,
        "notes": notes + cleanup.notes,
        "input": event.input,
        "recorded_at": recorded_at.isoformat(),
        "notified": False,
    }
    if event.problems:
        record["raw_event"] = event.raw  # the shape was unexpected: keep all of it
    return record


def _result(stored: StoredRecord, notified_now: bool, already_recorded: bool) -> dict[str, Any]:
    fail_state = stored.body.get("fail_state") or {}
    return {
        "error": fail_state.get("error", summary.UNKNOWN_STEP_ERROR),
        "cause": fail_state.get("cause", "The pipeline failed; see the failure record."),
        "record_uri": stored.uri,
        "notified": notified_now,
        "stopped": stored.body.get("stopped", []),
        "already_recorded": already_recorded,
    }
