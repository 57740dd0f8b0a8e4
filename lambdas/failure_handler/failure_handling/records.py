"""The durable failure record: one JSON object per failed execution in S3.

Why S3 (the artifacts bucket) rather than a DynamoDB table:
- The bucket already exists, is KMS-encrypted, versioned and retained: the record
  gets encryption, history and retention without another stateful resource to
  provision, protect, back up and grant.
- A record sits next to the run's other artifacts under one prefix, is readable by
  any tool that reads the bucket (Athena, the console, ``aws s3 cp``) and holds the
  failed step's whole input (Step Functions allows 256 KB) with no item-size limit
  to design around (a DynamoDB item stops at 400 KB).
- Idempotency needs only create-if-absent and compare-and-swap, which S3 offers as
  conditional writes (``IfNoneMatch='*'``, ``IfMatch=etag``).
- Failures are rare and read by humans: no query pattern calls for a table.

Key: ``{prefix}{execution_name}/failure.json`` (``.../redrive-N/failure.json`` for a
redriven execution). One record per execution, not per step: the first caught
failure ends the run, and the backstop must find the Catch path's record by the
execution alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

RECORD_FILE_NAME = "failure.json"
SCHEMA_VERSION = 1
# S3 answers a lost create-if-absent with 412, and a concurrent one with 409.
_ALREADY_WRITTEN_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}


@dataclass(frozen=True)
class StoredRecord:
    body: dict[str, Any]
    etag: str
    uri: str


class FailureRecordStore:
    def __init__(self, s3: Any, bucket: str, prefix: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._prefix = prefix

    def key_for(self, record_id: str) -> str:
        return f"{self._prefix}{record_id}/{RECORD_FILE_NAME}"

    def uri_for(self, record_id: str) -> str:
        return f"s3://{self._bucket}/{self.key_for(record_id)}"

    def load(self, record_id: str) -> StoredRecord | None:
        try:
            response = self._s3.get_object(Bucket=self._bucket, Key=self.key_for(record_id))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        body = json.loads(response["Body"].read())
        return StoredRecord(body=body, etag=response["ETag"], uri=self.uri_for(record_id))

    def create(self, record_id: str, body: dict[str, Any]) -> StoredRecord:
        """Write the record unless one exists; either way return the stored one."""
        try:
            response = self._s3.put_object(
                Bucket=self._bucket,
                Key=self.key_for(record_id),
                Body=_serialise(body),
                ContentType="application/json",
                IfNoneMatch="*",  # a retry or a concurrent twin must not overwrite
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in _ALREADY_WRITTEN_CODES:
                raise
            existing = self.load(record_id)
            if existing is None:  # deleted in between: nothing sensible left but to raise
                raise
            return existing
        return StoredRecord(body=body, etag=response["ETag"], uri=self.uri_for(record_id))

    def mark_notified(self, record_id: str, stored: StoredRecord, message_id: str, at: str) -> StoredRecord:
        body = {**stored.body, "notified": True, "notified_at": at, "message_id": message_id}
        try:
            response = self._s3.put_object(
                Bucket=self._bucket,
                Key=self.key_for(record_id),
                Body=_serialise(body),
                ContentType="application/json",
                IfMatch=stored.etag,  # only over the version this invocation read
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in _ALREADY_WRITTEN_CODES:
                raise
            return stored  # another invocation marked it meanwhile
        return StoredRecord(body=body, etag=response["ETag"], uri=stored.uri)


def _serialise(body: dict[str, Any]) -> bytes:
    return json.dumps(body, indent=2, sort_keys=True, default=str).encode()
