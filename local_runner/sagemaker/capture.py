"""Endpoint data capture, in SageMaker's layout and format (developer guide, "Capture data from real-time
endpoint" and "Data capture").

A sampled InvokeEndpoint becomes one JSON line in
`<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm>-<ss>-<mmm>-<uuid>.jsonl` (UTC, the hour of the
invocation; the file is named after its first record, as SageMaker's are):

    {"captureData": {"endpointInput": {"observedContentType", "mode": "INPUT", "data", "encoding"},
                     "endpointOutput": {... "mode": "OUTPUT" ...}},
     "eventMetadata": {"eventId", "inferenceId" (when the caller gave one), "inferenceTime"},
     "eventVersion": "0"}

Only the modes of CaptureOptions are written. A payload whose media type is listed in
CaptureContentTypeHeader's CsvContentTypes or JsonContentTypes is kept as text with encoding CSV or JSON;
anything else (and everything when no header lists are given) is BASE64, as the API reference says.
Each request is sampled on its own with InitialSamplingPercentage; `rng` (seeded from the local SageMaker's
seed) is what a test replaces to decide which requests are kept.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from .. import s3

# A file is rewritten whole on every record (see DataCapture), so it rolls over at this size to keep that cheap.
MAX_FILE_BYTES = 1024 * 1024

_MODES = {"Input": ("INPUT",), "Output": ("OUTPUT",), "InputAndOutput": ("INPUT", "OUTPUT")}
_log = logging.getLogger(__name__)


def summary(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """DescribeEndpoint's DataCaptureConfig (DataCaptureConfigSummary) for a configuration's DataCaptureConfig."""
    if not config:
        return None
    enabled = config.get("EnableCapture", True)  # the API's default: enabled
    return {
        "EnableCapture": enabled,
        "CaptureStatus": "Started" if enabled else "Stopped",
        "CurrentSamplingPercentage": config["InitialSamplingPercentage"],
        "DestinationS3Uri": config["DestinationS3Uri"],
        "KmsKeyId": config.get("KmsKeyId", ""),  # required in the summary's shape, even without a key
    }


def modes(config: dict[str, Any]) -> set[str]:
    return {mode for option in config["CaptureOptions"] for mode in _MODES[option["CaptureMode"]]}


def payload(body: bytes, content_type: str, mode: str, header: dict[str, list[str]] | None) -> dict[str, str]:
    """One side of a capture record: the body as text when its media type is listed as CSV or JSON, else BASE64."""
    media = content_type.split(";", 1)[0].strip().lower()
    header = header or {}
    encoding = "BASE64"
    if media in {t.lower() for t in header.get("CsvContentTypes", [])}:
        encoding = "CSV"
    elif media in {t.lower() for t in header.get("JsonContentTypes", [])}:
        encoding = "JSON"
    data = None
    if encoding != "BASE64":
        try:
            data = body.decode("utf-8")
        except UnicodeDecodeError:  # not text after all: kept losslessly
            encoding = "BASE64"
    if data is None:
        data = base64.b64encode(body).decode("ascii")
    return {"observedContentType": content_type, "mode": mode, "data": data, "encoding": encoding}


def destination(uri: str) -> tuple[str, str]:
    """(bucket, key prefix) of a DestinationS3Uri: s3://, or https:// in path or virtual-hosted style."""
    if uri.startswith("s3://"):
        bucket, prefix = s3.split_uri(uri)
        return bucket, prefix.strip("/")
    parsed = urlparse(uri)
    path = parsed.path.strip("/")
    host = parsed.hostname or ""
    if host.startswith("s3.") or host.startswith("s3-"):
        bucket, _, prefix = path.partition("/")
        return bucket, prefix
    return host.split(".s3", 1)[0], path


@dataclass
class _File:
    key: str
    directory: str
    lines: list[str] = field(default_factory=list)
    size: int = 0


class DataCapture:
    """Captured requests of every endpoint of one local SageMaker.

    Records are written through: each one re-puts its file with the new line before InvokeEndpoint returns,
    so a test (or a person) reads them at once, and nothing waits in memory for a timer or for a stop that a
    killed runner never reaches. SageMaker delivers with a delay of up to a few minutes; that is not simulated.
    """

    def __init__(self, seed: int = 0, clock: Callable[[], float] = time.time):
        self.rng = random.Random(seed)
        self.clock = clock
        self._lock = threading.Lock()
        self._files: dict[tuple[str, str, str, str], _File] = {}
        self._client = None

    def sampled(self, config: dict[str, Any] | None) -> bool:
        if not config or not config.get("EnableCapture", True):
            return False
        return self.rng.random() * 100 < config["InitialSamplingPercentage"]

    def invocation(
        self,
        config: dict[str, Any] | None,
        endpoint: str,
        variant: str,
        request: tuple[bytes, str],
        response: tuple[bytes, str],
        inference_id: str | None = None,
    ) -> None:
        """Capture one answered request ((body, content type) each way) if the configuration samples it.
        A capture that cannot be written is logged and dropped: capture never fails an inference."""
        if not self.sampled(config):
            return
        now = self.clock()
        when = datetime.datetime.fromtimestamp(now, datetime.UTC)
        header = config.get("CaptureContentTypeHeader")
        kept = modes(config)
        data: dict[str, Any] = {}
        if "INPUT" in kept:
            data["endpointInput"] = payload(*request, "INPUT", header)
        if "OUTPUT" in kept:
            data["endpointOutput"] = payload(*response, "OUTPUT", header)
        metadata = {"eventId": str(uuid.uuid4())}
        if inference_id:
            metadata["inferenceId"] = inference_id
        metadata["inferenceTime"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        line = json.dumps({"captureData": data, "eventMetadata": metadata, "eventVersion": "0"}) + "\n"
        try:
            self._append(config, endpoint, variant, when, line)
        except Exception as error:
            _log.warning("data capture of endpoint %s to %s failed: %s", endpoint, config["DestinationS3Uri"], error)

    def _append(self, config: dict[str, Any], endpoint: str, variant: str, when: datetime.datetime, line: str) -> None:
        bucket, prefix = destination(config["DestinationS3Uri"])
        directory = "/".join(p for p in (prefix, endpoint, variant, when.strftime("%Y/%m/%d/%H")) if p)
        stream = (bucket, prefix, endpoint, variant)
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": config["KmsKeyId"]} if config.get("KmsKeyId") else {}
        with self._lock:  # one writer per file: two requests must not both re-put it with only their own line
            current = self._files.get(stream)
            if current is None or current.directory != directory or current.size + len(line) > MAX_FILE_BYTES:
                name = f"{when:%M-%S}-{when.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
                current = self._files[stream] = _File(f"{directory}/{name}", directory)
            current.lines.append(line)
            current.size += len(line)
            body = "".join(current.lines).encode()
            if self._client is None:  # made once, under the mock: a client costs tens of milliseconds
                self._client = s3.client()
            self._client.put_object(Bucket=bucket, Key=current.key, Body=body, **extra)
