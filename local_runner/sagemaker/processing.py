"""Processing jobs: CreateProcessingJob runs the container's processing entry point in a subprocess."""

from __future__ import annotations

import time
from typing import Any

from ..validation import ServiceError
from . import hosts, jobs, multihost, prerequisites
from .plumbing import JobFailed, SageMakerPlumbing, describe_record


class ProcessingJobs(SageMakerPlumbing):
    # -- processing jobs ----------------------------------------------------------
    def op_create_processing_job(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["ProcessingJobName"]
        self.require_unique("processing_jobs", name, "Processing job", "processing-job")
        now = time.time()
        arn = self.put_request(
            "processing_jobs",
            "processing-job",
            name,
            p,
            arn_field="ProcessingJobArn",
            ProcessingJobStatus="InProgress",
            CreationTime=now,
            LastModifiedTime=now,
        )
        self.start_job(name, lambda: self._run_processing(name), f"processing-{name}", role=p["RoleArn"])
        return {"ProcessingJobArn": arn}

    def _run_processing(self, name: str) -> None:
        record = self.store.get("processing_jobs", name)
        process = self.processes[name]
        self.store.update("processing_jobs", name, ProcessingStartTime=time.time())
        try:
            injected = self.faults.job_failure("processing", name)
            if injected:
                raise JobFailed(injected)
            prerequisites.check(
                "processing",
                name,
                image=record["AppSpecification"].get("ImageUri"),
                volume_key=prerequisites.volume_key(record, "ProcessingResources", "ClusterConfig", "VolumeKmsKeyId"),
            )
            base = jobs.fresh_dir(self.workdir / "processing" / name)
            for uri in jobs.prepare_processing(base, record)[:1]:
                raise JobFailed(
                    f'ClientError: No S3 objects found under S3 URL "{uri}" given in input data '
                    "source. Please ensure that the bucket exists in the selected region, that objects exist "
                    "under that S3 prefix, and that the role has permission to read objects."
                )
            app = record["AppSpecification"]
            cmd = jobs.command(
                app.get("ContainerEntrypoint"),
                app.get("ContainerArguments"),
                ["python3", "-m", "training_code", "process"],
            )
            runtime = record.get("StoppingCondition", {}).get("MaxRuntimeInSeconds")
            count = hosts.instance_count(record["ProcessingResources"]["ClusterConfig"])
            host_status = lambda status: self.store.update("processing_jobs", name, LocalHostStatus=status)  # noqa: E731
            environment = record.get("Environment", {})
            outcome = multihost.run(
                cmd, base, self.code_dir, environment, base / "job.log", process, runtime, count, host_status
            )
            self.cloudwatch.put_embedded(outcome.log)  # its log reaches CloudWatch Logs, EMF metrics and all
            if outcome.stopped:
                self.store.update("processing_jobs", name, ProcessingJobStatus="Stopped", ProcessingEndTime=time.time())
                return
            if outcome.returncode != 0:
                raise JobFailed(jobs.failure_reason(outcome), outcome.failure)
            jobs.upload_processing_outputs(base, record)
            exit_message = base / "output" / "message"
            fields: dict[str, Any] = {"ProcessingJobStatus": "Completed", "ProcessingEndTime": time.time()}
            if exit_message.is_file():
                fields["ExitMessage"] = exit_message.read_text(errors="replace")[:1024]
            self.store.update("processing_jobs", name, **fields)
        except JobFailed as failed:
            fields = {"ProcessingJobStatus": "Failed", "FailureReason": failed.reason, "ProcessingEndTime": time.time()}
            if failed.exit_message:
                fields["ExitMessage"] = failed.exit_message
            self.store.update("processing_jobs", name, **fields)
        except Exception as error:  # an infrastructure fault, as SageMaker's InternalServerError
            self.store.update(
                "processing_jobs",
                name,
                ProcessingJobStatus="Failed",
                FailureReason=jobs.unexpected_failure(error),
                ProcessingEndTime=time.time(),
            )

    def op_describe_processing_job(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["ProcessingJobName"]
        record = self.store.get("processing_jobs", name)
        if record is None:
            raise ServiceError("ResourceNotFound", f"Could not find requested job with name {name}")
        return describe_record(record, "DescribeProcessingJob")

    def op_stop_processing_job(self, p: dict[str, Any]) -> dict[str, Any]:
        return self.stop_job("processing_jobs", p["ProcessingJobName"], "ProcessingJobStatus")

    def op_list_processing_jobs(self, p: dict[str, Any]) -> dict[str, Any]:
        summaries = [
            {
                k: r.get(k)
                for k in (
                    "ProcessingJobName",
                    "ProcessingJobArn",
                    "CreationTime",
                    "ProcessingEndTime",
                    "LastModifiedTime",
                    "ProcessingJobStatus",
                    "FailureReason",
                    "ExitMessage",
                )
            }
            for r in self.filtered("processing_jobs", p, "ProcessingJobName", "ProcessingJobStatus")
        ]
        return {"ProcessingJobSummaries": summaries}
