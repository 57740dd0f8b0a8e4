"""Training jobs: CreateTrainingJob runs training_code in a subprocess; spot interruptions resume from checkpoints."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from .. import s3
from ..permissions import Principal, acting_as
from ..validation import ServiceError
from . import hosts, jobs, multihost, prerequisites
from .plumbing import JobFailed, SageMakerPlumbing, describe_record

TRAINING_KEYS = {
    "AlgorithmSpecification",
    "RoleArn",
    "InputDataConfig",
    "OutputDataConfig",
    "ResourceConfig",
    "StoppingCondition",
    "VpcConfig",
    "EnableNetworkIsolation",
    "EnableInterContainerTrafficEncryption",
    "EnableManagedSpotTraining",
    "CheckpointConfig",
    "RetryStrategy",
    "Environment",
}


class TrainingJobs(SageMakerPlumbing):
    # -- training jobs ------------------------------------------------------------
    def op_create_training_job(
        self, p: dict[str, Any], tuning_arn: str | None = None, env: dict[str, str] | None = None
    ) -> dict[str, Any]:
        name = p["TrainingJobName"]
        self.require_unique("training_jobs", name, "Training job", "training-job")
        if not p.get("AlgorithmSpecification", {}).get("TrainingImage") and not p.get("AlgorithmSpecification", {}).get(
            "AlgorithmName"
        ):
            raise ServiceError(
                "ValidationException", "AlgorithmSpecification must specify TrainingImage or AlgorithmName"
            )
        now = time.time()
        arn = self.put_request(
            "training_jobs",
            "training-job",
            name,
            p,
            arn_field="TrainingJobArn",
            TrainingJobStatus="InProgress",
            SecondaryStatus="Starting",
            ModelArtifacts={"S3ModelArtifacts": ""},
            CreationTime=now,
            LastModifiedTime=now,
            SecondaryStatusTransitions=[
                {"Status": "Starting", "StartTime": now, "StatusMessage": "Preparing the instances for training"}
            ],
            **({"TuningJobArn": tuning_arn} if tuning_arn else {}),
        )
        if tuning_arn is None:
            self.start_job(name, lambda: self._run_training(name, env or {}), f"training-{name}", role=p["RoleArn"])
        else:  # the tuning job runs it on its own thread, but Stop* still reaches it
            self.processes[name] = jobs.Process()
        return {"TrainingJobArn": arn}

    def _secondary(self, name: str, status: str, message: str, **fields: Any) -> None:
        record = self.store.get("training_jobs", name)
        now = time.time()
        transitions = record.get("SecondaryStatusTransitions", [])
        if transitions:
            transitions[-1]["EndTime"] = now
        transitions.append({"Status": status, "StartTime": now, "StatusMessage": message})
        self.store.update(
            "training_jobs", name, SecondaryStatus=status, SecondaryStatusTransitions=transitions, **fields
        )

    def _run_training_as(self, role: str, name: str, env: dict[str, str]) -> None:
        with acting_as(Principal(role, session="SageMaker")):
            self._run_training(name, env)

    def _run_training(self, name: str, env: dict[str, str]) -> None:
        record = self.store.get("training_jobs", name)
        process = self.processes[name]
        started = time.time()
        try:
            injected = self.faults.job_failure("training", name)
            if injected:
                raise JobFailed(injected)
            prerequisites.check(
                "training",
                name,
                image=record["AlgorithmSpecification"].get("TrainingImage"),
                volume_key=prerequisites.volume_key(record, "ResourceConfig", "VolumeKmsKeyId"),
            )
            base = jobs.fresh_dir(self.workdir / "training" / name)
            self._secondary(name, "Downloading", "Downloading input data", TrainingStartTime=started)
            jobs.prepare_training(base, record)
            self._secondary(name, "Training", "Training image download completed. Training in progress.")
            spec = record["AlgorithmSpecification"]
            cmd = jobs.command(
                spec.get("ContainerEntrypoint"),
                spec.get("ContainerArguments"),
                ["python3", "-m", "training_code", "train"],
            )
            environment = dict(record.get("Environment", {}))
            environment.update(env)
            environment.setdefault("TRAINING_JOB_NAME", name)
            environment.setdefault("TRAINING_JOB_ARN", record["TrainingJobArn"])
            runtime = record.get("StoppingCondition", {}).get("MaxRuntimeInSeconds")
            interrupt_after = self.faults.training_interruption(name)
            if interrupt_after:
                jobs.interrupt_after_checkpoints(base / "checkpoints", process, interrupt_after)
            count = hosts.instance_count(record.get("ResourceConfig"))
            host_status = lambda status: self.store.update("training_jobs", name, LocalHostStatus=status)  # noqa: E731
            run = (cmd, base, self.code_dir, environment, base / "job.log", process, runtime, count, host_status)
            outcome = multihost.run(*run)
            if process.interrupted.is_set() and not outcome.stopped:
                base = self._restart_after_interruption(name, record, base)
                outcome = multihost.run(*run)
            metrics = jobs.final_metrics(outcome.log, spec.get("MetricDefinitions", []))
            now = time.time()
            metric_list = [{"MetricName": k, "Value": v, "Timestamp": now} for k, v in metrics.items()]
            if outcome.stopped:
                self._secondary(
                    name,
                    "Stopped",
                    "Training job stopped",
                    TrainingJobStatus="Stopped",
                    TrainingEndTime=now,
                    FinalMetricDataList=metric_list,
                )
                return
            if outcome.returncode != 0:
                raise JobFailed(jobs.failure_reason(outcome), metrics=metric_list)
            self._secondary(name, "Uploading", "Uploading generated training model")
            output = record["OutputDataConfig"]["S3OutputPath"].rstrip("/")
            archive = base / "model.tar.gz"
            jobs.package_model(base, archive)
            model_uri = f"{output}/{name}/output/model.tar.gz"
            s3.upload_file(archive, model_uri)
            data_dir = base / "output" / "data"
            if any(data_dir.iterdir()):
                data_archive = base / "output.tar.gz"
                import tarfile

                with tarfile.open(data_archive, "w:gz") as tar:
                    for path in sorted(data_dir.iterdir()):
                        tar.add(path, arcname=path.name)
                s3.upload_file(data_archive, f"{output}/{name}/output/output.tar.gz")
            checkpoint = record.get("CheckpointConfig", {}).get("S3Uri")
            if checkpoint:
                s3.upload_dir(base / "checkpoints", checkpoint)
            end = time.time()
            seconds = max(1, int(end - started))
            self._secondary(
                name,
                "Completed",
                "Training job completed",
                TrainingJobStatus="Completed",
                ModelArtifacts={"S3ModelArtifacts": model_uri},
                FinalMetricDataList=metric_list,
                TrainingEndTime=end,
                TrainingTimeInSeconds=seconds,
                BillableTimeInSeconds=seconds,
            )
        except JobFailed as failed:
            self._secondary(
                name,
                "Failed",
                failed.reason[:200],
                TrainingJobStatus="Failed",
                FailureReason=failed.reason,
                TrainingEndTime=time.time(),
                FinalMetricDataList=failed.metrics or [],
            )
        except Exception as error:
            self._secondary(
                name,
                "Failed",
                jobs.unexpected_failure(error)[:200],
                TrainingJobStatus="Failed",
                FailureReason=jobs.unexpected_failure(error),
                TrainingEndTime=time.time(),
            )

    def _restart_after_interruption(self, name: str, record: dict[str, Any], base: Path) -> Path:
        """Managed spot: the instance was reclaimed. The checkpoints go to CheckpointConfig.S3Uri and the job
        restarts in a fresh tree that downloads them, as on a new instance; the old tree is kept beside it."""
        self._secondary(name, "Interrupted", "Training job interrupted: the spot instance was reclaimed")
        checkpoint = record.get("CheckpointConfig", {}).get("S3Uri")
        if checkpoint:
            s3.upload_dir(base / "checkpoints", checkpoint)
        interrupted = base.with_name(f"{base.name}.interrupted")
        if interrupted.exists():
            shutil.rmtree(interrupted)
        base.rename(interrupted)
        self._secondary(name, "Restarting", "Restarting training on a new spot instance")
        base = jobs.fresh_dir(base)
        jobs.prepare_training(base, record)
        self._secondary(name, "Training", "Training image download completed. Training in progress.")
        return base

    def op_describe_training_job(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["TrainingJobName"]
        record = self.store.get("training_jobs", name)
        if record is None:
            raise ServiceError("ResourceNotFound", f"Requested resource not found: TrainingJob {name}")
        return describe_record(record, "DescribeTrainingJob")

    def op_stop_training_job(self, p: dict[str, Any]) -> dict[str, Any]:
        return self.stop_job("training_jobs", p["TrainingJobName"], "TrainingJobStatus")

    def op_list_training_jobs(self, p: dict[str, Any]) -> dict[str, Any]:
        summaries = [
            {
                k: r.get(k)
                for k in (
                    "TrainingJobName",
                    "TrainingJobArn",
                    "CreationTime",
                    "TrainingEndTime",
                    "LastModifiedTime",
                    "TrainingJobStatus",
                )
            }
            for r in self.filtered("training_jobs", p, "TrainingJobName", "TrainingJobStatus")
        ]
        return {"TrainingJobSummaries": summaries}
