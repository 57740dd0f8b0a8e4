"""Batch transform jobs (developer guide "Batch transform", "How Containers Serve Requests").

The model's container runs `serve` in the job's own directory until GET /ping answers; GET
/execution-parameters, when the container answers it, supplies MaxConcurrentTransforms, BatchStrategy and
MaxPayloadInMB the request leaves unset. Every object under TransformInput's S3 prefix (or listed by its
manifest) is split into records (SplitType), grouped into mini-batches (BatchStrategy, MaxPayloadInMB) and
POSTed to /invocations with the ContentType and Accept headers, MaxConcurrentTransforms at a time, each
retried InvocationsMaxRetries times within InvocationsTimeoutInSeconds (ModelClientConfig). The results
are assembled in order (AssembleWith) into `<S3OutputPath>/<object's name under the prefix>.out`. The serve
process stops when the job ends, however it ends.
"""

from __future__ import annotations

import gzip
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from .. import s3
from ..validation import ServiceError
from . import endpoints, jobs, prerequisites, records

DEFAULT_TIMEOUT = 600  # API_ModelClientConfig: InvocationsTimeoutInSeconds defaults to 600
DEFAULT_RETRIES = 3  # and InvocationsMaxRetries to 3


class JobFailed(Exception):
    pass


class Stopped(Exception):
    pass


class TransformJobs:
    """Mixed into LocalSageMaker (store, faults, workdir, code_dir, processes and the plumbing are its)."""

    def op_create_transform_job(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["TransformJobName"]
        self.require_unique("transform_jobs", name, "Transform job", "transform-job")
        self.model_record(p["ModelName"])
        if p.get("MaxPayloadInMB", 0) > 100:
            raise ServiceError("ValidationException", "MaxPayloadInMB cannot be greater than 100 MB.")
        now = time.time()
        arn = self.put_request(
            "transform_jobs",
            "transform-job",
            name,
            p,
            arn_field="TransformJobArn",
            TransformJobStatus="InProgress",
            CreationTime=now,
            LastModifiedTime=now,
        )
        self.start_job(
            name, lambda: self._run_transform(name), f"transform-{name}", role=self.model_role(p["ModelName"])
        )
        return {"TransformJobArn": arn}

    def op_describe_transform_job(self, p: dict[str, Any]) -> dict[str, Any]:
        record = self.store.get("transform_jobs", p["TransformJobName"])
        if record is None:
            raise ServiceError("ResourceNotFound", f"Could not find requested job with name {p['TransformJobName']}")
        return self.describe_record(record, "DescribeTransformJob")

    def op_stop_transform_job(self, p: dict[str, Any]) -> dict[str, Any]:
        return self.stop_job("transform_jobs", p["TransformJobName"], "TransformJobStatus")

    def op_list_transform_jobs(self, p: dict[str, Any]) -> dict[str, Any]:
        keys = (
            "TransformJobName",
            "TransformJobArn",
            "CreationTime",
            "TransformEndTime",
            "LastModifiedTime",
            "TransformJobStatus",
            "FailureReason",
        )
        found = self.filtered("transform_jobs", p, "TransformJobName", "TransformJobStatus")
        return {"TransformJobSummaries": [{k: r.get(k) for k in keys} for r in found]}

    def _run_transform(self, name: str) -> None:
        record = self.store.get("transform_jobs", name)
        process = self.processes[name]
        base = jobs.fresh_dir(self.workdir / "transform" / name)
        fleet = None
        self.store.update("transform_jobs", name, TransformStartTime=time.time())
        try:
            injected = self.faults.job_failure("transform", name)
            if injected:
                raise JobFailed(injected)
            prerequisites.check(
                "transform",
                name,
                image=self.model_container(record["ModelName"])[0],
                volume_key=prerequisites.volume_key(record, "TransformResources", "VolumeKmsKeyId"),
            )
            batch = _Batch(record, process, base / "transform.log")  # an unsupported request fails before serving
            inputs = _inputs(record["TransformInput"])
            _, data_url, environment = self.model_container(record["ModelName"])
            environment.update(record.get("Environment", {}))
            environment.update(_batch_environment(record))
            try:
                started = endpoints.start(base / "container", data_url, environment, self.code_dir)
            except endpoints.DeploymentError as error:
                raise JobFailed(f"ClientError: {error}") from None
            fleet = {**started.to_dict(), "url": started.url}
            self.store.update("transform_jobs", name, local=fleet)  # so that a later run can stop it
            batch.run(fleet["url"], inputs)
            fields: dict[str, Any] = {"TransformJobStatus": "Completed"}
        except Stopped:
            fields = {"TransformJobStatus": "Stopped"}
        except JobFailed as failed:
            fields = {"TransformJobStatus": "Failed", "FailureReason": str(failed)[:1024]}
        except records.Unsupported as error:
            reason = f"ClientError: not supported by the local runner: {error}"
            fields = {"TransformJobStatus": "Failed", "FailureReason": reason[:1024]}
        except records.RecordError as error:
            fields = {"TransformJobStatus": "Failed", "FailureReason": f"ClientError: {error}"[:1024]}
        except Exception as error:  # an infrastructure fault, as SageMaker's InternalServerError
            fields = {"TransformJobStatus": "Failed", "FailureReason": jobs.unexpected_failure(error)}
        finally:
            endpoints.stop(fleet)
        if process.stop_requested.is_set():
            fields = {"TransformJobStatus": "Stopped"}
        self.store.update("transform_jobs", name, TransformEndTime=time.time(), **fields)


def _batch_environment(record: dict[str, Any]) -> dict[str, str]:
    """What SageMaker tells a batch container about the job (the inference toolkits read these)."""
    env = {"SAGEMAKER_BATCH": "true"}
    if record.get("MaxPayloadInMB"):
        env["SAGEMAKER_MAX_PAYLOAD_IN_MB"] = str(record["MaxPayloadInMB"])
    if record.get("BatchStrategy"):
        env["SAGEMAKER_BATCH_STRATEGY"] = {"MultiRecord": "MULTI_RECORD", "SingleRecord": "SINGLE_RECORD"}[
            record["BatchStrategy"]
        ]
    if record.get("MaxConcurrentTransforms"):
        env["SAGEMAKER_MAX_CONCURRENT_TRANSFORMS"] = str(record["MaxConcurrentTransforms"])
    return env


def _inputs(transform_input: dict[str, Any]) -> list[tuple[str, str]]:
    """(object URI, name of its output under S3OutputPath without `.out`) for every input object, in order."""
    source = transform_input["DataSource"]["S3DataSource"]
    kind, uri = source["S3DataType"], source["S3Uri"]
    client = s3.client()
    if kind == "S3Prefix":
        bucket, prefix = s3.split_uri(uri)
        folder = prefix[: prefix.rfind("/") + 1]  # outputs keep the keys' path below the prefix's folder
        keys = [
            o["Key"]
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for o in page.get("Contents", [])
            if not o["Key"].endswith("/")
        ]
        if not keys:
            raise JobFailed(
                f'ClientError: No S3 objects found under S3 URL "{uri}" given in input data source. Please ensure '
                "that the bucket exists in the selected region, that objects exist under that S3 prefix, and that "
                "the role has permission to read objects."
            )
        return [(f"s3://{bucket}/{key}", key[len(folder) :]) for key in sorted(keys)]
    if kind == "ManifestFile":
        bucket, key = s3.split_uri(uri)
        try:
            manifest = json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())
            base = manifest[0]["prefix"]
            names = [str(n) for n in manifest[1:]]
        except Exception as error:
            raise JobFailed(f"ClientError: cannot read the manifest file {uri}: {error}") from None
        return [(base + n if base.endswith("/") else f"{base}/{n}", n) for n in names]
    raise records.Unsupported(f"S3DataType {kind} (S3Prefix and ManifestFile are)")


class _Batch:
    """One job's traffic: mini-batches to /invocations and the assembled outputs to S3."""

    def __init__(self, record: dict[str, Any], process: jobs.Process, log: Path):
        self.record = record
        self.url = ""
        self.process = process
        self.log = log
        self.input = record["TransformInput"]
        self.output = record["TransformOutput"]
        client = record.get("ModelClientConfig", {})
        self.timeout = client.get("InvocationsTimeoutInSeconds", DEFAULT_TIMEOUT)
        self.retries = client.get("InvocationsMaxRetries", DEFAULT_RETRIES)
        records.check_split(self.input.get("SplitType", "None"))
        processing = record.get("DataProcessing", {})
        self.input_filter = records.path(processing.get("InputFilter"))
        self.output_filter = records.path(processing.get("OutputFilter"))
        self.join = processing.get("JoinSource", "None") == "Input"
        self.filters_input = (processing.get("InputFilter") or "$").strip() != "$"
        # Joining or filtering outputs needs each record's own output; otherwise responses are kept whole.
        self.per_record = self.join or (processing.get("OutputFilter") or "$").strip() != "$"

    def _note(self, text: str) -> None:
        with open(self.log, "a") as log:
            log.write(f"{time.strftime('%H:%M:%S')} {text}\n")

    def _parameters(self) -> tuple[int, str, int]:
        """MaxConcurrentTransforms, BatchStrategy, MaxPayloadInMB (bytes): the request's, else the container's."""
        offered: dict[str, Any] = {}
        try:
            answer = endpoints.HTTP.get(f"{self.url}/execution-parameters", timeout=10)
            if answer.status_code == 200:
                offered = answer.json()
        except (httpx.HTTPError, ValueError):
            pass  # optional for containers: SageMaker's defaults apply
        strategy = {"MULTI_RECORD": "MultiRecord", "SINGLE_RECORD": "SingleRecord"}.get(offered.get("BatchStrategy"))
        concurrency = self.record.get("MaxConcurrentTransforms") or offered.get("MaxConcurrentTransforms") or 1
        payload = self.record.get("MaxPayloadInMB", offered.get("MaxPayloadInMB", 6))
        strategy = self.record.get("BatchStrategy") or strategy or "MultiRecord"
        return int(concurrency), strategy, int(payload) * 1024 * 1024

    def run(self, url: str, inputs: list[tuple[str, str]]) -> None:
        self.url = url
        concurrency, strategy, payload = self._parameters()
        self._note(f"{len(inputs)} objects, {concurrency} concurrent, {strategy}, MaxPayloadInMB {payload >> 20}")
        destination = self.output["S3OutputPath"].rstrip("/")
        pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="transform")
        try:
            pending = []  # every object's mini-batches are queued at once: the pool works across objects
            for uri, name in inputs:
                originals = records.split(self._read(uri), self.input.get("SplitType", "None"))
                sent = [self._filtered(r) for r in originals] if self.filters_input else originals
                ranges = records.batches(sent, strategy, payload, name)
                futures = [pool.submit(self._invoke, b"\n".join(sent[a:b]), name, a, b) for a, b in ranges]
                pending.append((uri, name, originals, ranges, futures))
            for uri, name, originals, ranges, futures in pending:  # assembled and written in order
                out = self._assemble(originals, ranges, [f.result() for f in futures])
                bucket, key = s3.split_uri(f"{destination}/{name}.out")
                s3.client().put_object(Bucket=bucket, Key=key, Body=out)
                self._note(f"{uri}: {len(originals)} records in {len(ranges)} requests -> {destination}/{name}.out")
        finally:  # a failed or stopped job sends nothing more
            pool.shutdown(wait=True, cancel_futures=True)

    def _read(self, uri: str) -> bytes:
        bucket, key = s3.split_uri(uri)
        body = s3.client().get_object(Bucket=bucket, Key=key)["Body"].read()
        return gzip.decompress(body) if self.input.get("CompressionType") == "Gzip" else body

    def _filtered(self, record: bytes) -> bytes:
        content_type = self.input.get("ContentType", "")
        return records.render(self.input_filter(records.parse(record, content_type)), content_type)

    def _invoke(self, body: bytes, name: str, first: int, last: int) -> bytes:
        headers = {"Content-Type": self.input.get("ContentType", "application/octet-stream")}
        if self.output.get("Accept"):
            headers["Accept"] = self.output["Accept"]
        where = f"{name}, records {first + 1}-{last}"
        problem = ""
        for attempt in range(self.retries + 1):
            if self.process.stop_requested.is_set():
                raise Stopped()
            try:
                answer = endpoints.HTTP.post(
                    f"{self.url}/invocations", content=body, headers=headers, timeout=self.timeout
                )
            except httpx.TimeoutException:
                problem = f"the model did not answer within InvocationsTimeoutInSeconds ({self.timeout} s) ({where})"
            except httpx.HTTPError as error:
                problem = f"the model's connection failed: {error} ({where})"
            else:
                if answer.status_code < 400:
                    return answer.content
                problem = (
                    f"Bad HTTP status received from algorithm: {answer.status_code} ({where}): "
                    f"{answer.text.strip()[:300]}"
                )
            self._note(f"attempt {attempt + 1}: {problem}")
        raise JobFailed(f"ClientError: {problem}. See the job log {self.log}")

    def _assemble(self, originals: list[bytes], ranges: list[tuple[int, int]], answers: list[bytes]) -> bytes:
        line = self.output.get("AssembleWith", "None") == "Line"
        if not self.per_record:
            if not line:
                return b"".join(answers)
            return b"".join(a if a.endswith(b"\n") else a + b"\n" for a in answers)
        accept = self.output.get("Accept", "")
        content_type = self.input.get("ContentType", "")
        rendered = []
        for (first, last), answer in zip(ranges, answers, strict=True):
            results = records.outputs(answer, accept, last - first)
            for original, result in zip(originals[first:last], results, strict=True):
                output = records.parse(result, accept)
                if self.join:
                    joined = records.join(records.parse(original, content_type), output, content_type)
                    rendered.append(records.render(self.output_filter(joined), content_type))
                else:
                    rendered.append(records.render(self.output_filter(output), accept))
        separator = b"\n" if line else b""
        return b"".join(r + separator for r in rendered)
