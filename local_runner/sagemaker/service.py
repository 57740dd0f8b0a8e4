"""The local SageMaker API: one implementation behind the state machine and plain boto3 clients."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from .. import s3
from ..faults import Faults
from ..permissions import Principal, acting_as
from ..template import ACCOUNT, REGION
from ..validation import ServiceError, operation_model, shape_response, validate_request
from . import endpoints, hosts, jobs, multihost, prerequisites
from .alarms import CloudWatch
from .bluegreen import BlueGreen
from .capture import DataCapture
from .hosting import Hosting
from .store import Store
from .transform import TransformJobs
from .tuning import strategy_for

TERMINAL = ("Completed", "Failed", "Stopped")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _members(operation: str) -> set[str]:
    return set(operation_model("sagemaker", operation).output_shape.members)


def _describe(record: dict[str, Any], operation: str) -> dict[str, Any]:
    keys = _members(operation)
    return {k: v for k, v in record.items() if k in keys}


class LocalSageMaker(Hosting, BlueGreen, TransformJobs):
    """SageMaker's control plane (jobs, tuning, models, endpoints, model registry) on this machine.

    `workdir` holds each job's `/opt/ml` tree and each endpoint's model; the record
    of every resource lives in `store` (persisted, so a second run finds its endpoint).
    Hosting (hosting.py, bluegreen.py) and transform jobs (transform.py) are mixed in.
    `time_scale` multiplies the waits of blue/green updates (baking periods), as the runner's do.
    """

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

    def _spawn(self, target: Callable[[], None], name: str, *, role: str | None = None) -> None:
        """Run target on a thread of its own, acting as `role` (a job's or endpoint's execution role)."""

        def run() -> None:
            with acting_as(Principal(role, session="SageMaker") if role else None):
                target()

        thread = threading.Thread(target=run, name=name, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _notify(self, kind: str, name: str, record: dict[str, Any]) -> None:
        for listener in self.listeners:
            listener(kind, name, record)

    def wait_for_change(self, name: str, timeout: float) -> None:
        self.store.wait(timeout)

    def join(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in list(self.threads):
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))

    @staticmethod
    def _describe(record: dict[str, Any], operation: str) -> dict[str, Any]:
        return _describe(record, operation)

    def _require(self, collection: str, name: str, what: str) -> dict[str, Any]:
        record = self.store.get(collection, name)
        if record is None:
            raise ServiceError("ResourceNotFound", f"{what} {name} does not exist.")
        return record

    def _unique(self, collection: str, name: str, what: str, kind: str) -> None:
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
    def _tag(self, arn: str, tags: list[dict[str, str]] | None) -> None:
        if tags:
            current = {t["Key"]: t["Value"] for t in (self.store.get("tags", arn) or {}).get("Tags", [])}
            current.update({t["Key"]: t["Value"] for t in tags})
            self.store.put("tags", arn, {"Tags": [{"Key": k, "Value": v} for k, v in current.items()]})

    def _put_request(
        self, collection: str, resource: str, name: str, p: dict[str, Any], *, arn_field: str, **fields: Any
    ) -> str:
        """Keep a Create* request (its Tags apart, as SageMaker does) as `name`'s record with its ARN under
        `arn_field` and `fields` added, tag the resource, and return the ARN."""
        arn = self.arn(resource, name)
        record = {k: v for k, v in p.items() if k != "Tags"}
        record.update({arn_field: arn}, **fields)
        self.store.put(collection, name, record)
        self._tag(arn, p.get("Tags"))
        return arn

    def _start_job(self, name: str, target: Callable[[], None], thread_name: str, *, role: str | None) -> None:
        """A job runs on its own thread, as its execution role, with a Process handle that Stop* reaches."""
        self.processes[name] = jobs.Process()
        self._spawn(target, thread_name, role=role)

    def op_add_tags(self, p: dict[str, Any]) -> dict[str, Any]:
        self._tag(p["ResourceArn"], p["Tags"])
        return {"Tags": p["Tags"]}

    def op_list_tags(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": (self.store.get("tags", p["ResourceArn"]) or {}).get("Tags", [])}

    # -- processing jobs ----------------------------------------------------------
    def op_create_processing_job(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["ProcessingJobName"]
        self._unique("processing_jobs", name, "Processing job", "processing-job")
        now = time.time()
        arn = self._put_request(
            "processing_jobs",
            "processing-job",
            name,
            p,
            arn_field="ProcessingJobArn",
            ProcessingJobStatus="InProgress",
            CreationTime=now,
            LastModifiedTime=now,
        )
        self._start_job(name, lambda: self._run_processing(name), f"processing-{name}", role=p["RoleArn"])
        return {"ProcessingJobArn": arn}

    def _run_processing(self, name: str) -> None:
        record = self.store.get("processing_jobs", name)
        process = self.processes[name]
        self.store.update("processing_jobs", name, ProcessingStartTime=time.time())
        try:
            injected = self.faults.job_failure("processing", name)
            if injected:
                raise _JobFailed(injected)
            prerequisites.check(
                "processing",
                name,
                image=record["AppSpecification"].get("ImageUri"),
                volume_key=prerequisites.volume_key(record, "ProcessingResources", "ClusterConfig", "VolumeKmsKeyId"),
            )
            base = jobs.fresh_dir(self.workdir / "processing" / name)
            for uri in jobs.prepare_processing(base, record)[:1]:
                raise _JobFailed(
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
            if outcome.stopped:
                self.store.update("processing_jobs", name, ProcessingJobStatus="Stopped", ProcessingEndTime=time.time())
                return
            if outcome.returncode != 0:
                raise _JobFailed(jobs.failure_reason(outcome), outcome.failure)
            jobs.upload_processing_outputs(base, record)
            exit_message = base / "output" / "message"
            fields: dict[str, Any] = {"ProcessingJobStatus": "Completed", "ProcessingEndTime": time.time()}
            if exit_message.is_file():
                fields["ExitMessage"] = exit_message.read_text(errors="replace")[:1024]
            self.store.update("processing_jobs", name, **fields)
        except _JobFailed as failed:
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
        return _describe(record, "DescribeProcessingJob")

    def op_stop_processing_job(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._stop("processing_jobs", p["ProcessingJobName"], "ProcessingJobStatus")

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
            for r in self._filtered("processing_jobs", p, "ProcessingJobName", "ProcessingJobStatus")
        ]
        return {"ProcessingJobSummaries": summaries}

    def _filtered(self, collection: str, p: dict[str, Any], name_key: str, status_key: str) -> list[dict[str, Any]]:
        records = self.store.values(collection)
        if p.get("NameContains"):
            records = [r for r in records if p["NameContains"].lower() in r[name_key].lower()]
        if p.get("StatusEquals"):
            records = [r for r in records if r.get(status_key) == p["StatusEquals"]]
        records.sort(key=lambda r: r["CreationTime"], reverse=p.get("SortOrder", "Descending") == "Descending")
        return records[: p.get("MaxResults", 100)]

    def _stop(self, collection: str, name: str, status_key: str) -> dict[str, Any]:
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

    # -- training jobs ------------------------------------------------------------
    def op_create_training_job(
        self, p: dict[str, Any], tuning_arn: str | None = None, env: dict[str, str] | None = None
    ) -> dict[str, Any]:
        name = p["TrainingJobName"]
        self._unique("training_jobs", name, "Training job", "training-job")
        if not p.get("AlgorithmSpecification", {}).get("TrainingImage") and not p.get("AlgorithmSpecification", {}).get(
            "AlgorithmName"
        ):
            raise ServiceError(
                "ValidationException", "AlgorithmSpecification must specify TrainingImage or AlgorithmName"
            )
        now = time.time()
        arn = self._put_request(
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
            self._start_job(name, lambda: self._run_training(name, env or {}), f"training-{name}", role=p["RoleArn"])
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
                raise _JobFailed(injected)
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
                raise _JobFailed(jobs.failure_reason(outcome), metrics=metric_list)
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
        except _JobFailed as failed:
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
        return _describe(record, "DescribeTrainingJob")

    def op_stop_training_job(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._stop("training_jobs", p["TrainingJobName"], "TrainingJobStatus")

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
            for r in self._filtered("training_jobs", p, "TrainingJobName", "TrainingJobStatus")
        ]
        return {"TrainingJobSummaries": summaries}

    # -- tuning jobs ----------------------------------------------------------------
    def op_create_hyper_parameter_tuning_job(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["HyperParameterTuningJobName"]
        self._unique("tuning_jobs", name, "Hyperparameter tuning job", "hyper-parameter-tuning-job")
        definition = p.get("TrainingJobDefinition")
        if definition is None:
            raise ServiceError(
                "ValidationException", "The local runner supports TrainingJobDefinition (not TrainingJobDefinitions)"
            )
        config = p["HyperParameterTuningJobConfig"]
        objective = config.get("HyperParameterTuningJobObjective") or definition.get("TuningObjective")
        if objective is None:
            raise ServiceError("ValidationException", "HyperParameterTuningJobObjective is required")
        names = [m["Name"] for m in definition["AlgorithmSpecification"].get("MetricDefinitions", [])]
        if objective["MetricName"] not in names:
            raise ServiceError(
                "ValidationException",
                f"The objective metric {objective['MetricName']} is not defined in MetricDefinitions "
                f"({', '.join(names)})",
            )
        ranges = config.get("ParameterRanges") or definition.get("HyperParameterRanges") or {}
        limits = config.get("ResourceLimits", {})
        strategy = strategy_for(
            config["Strategy"], ranges, limits.get("MaxNumberOfTrainingJobs"), objective["Type"], self.seed
        )
        now = time.time()
        arn = self._put_request(
            "tuning_jobs",
            "hyper-parameter-tuning-job",
            name,
            p,
            arn_field="HyperParameterTuningJobArn",
            HyperParameterTuningJobStatus="InProgress",
            CreationTime=now,
            LastModifiedTime=now,
            TrainingJobStatusCounters={
                "Completed": 0,
                "InProgress": 0,
                "RetryableError": 0,
                "NonRetryableError": 0,
                "Stopped": 0,
            },
            ObjectiveStatusCounters={"Succeeded": 0, "Pending": 0, "Failed": 0},
        )
        self._start_job(
            name, lambda: self._run_tuning(name, strategy, objective), f"tuning-{name}", role=definition["RoleArn"]
        )
        return {"HyperParameterTuningJobArn": arn}

    def _run_tuning(self, name: str, strategy, objective: dict[str, str]) -> None:
        record = self.store.get("tuning_jobs", name)
        stop = self.processes[name].stop_requested
        try:
            injected = self.faults.job_failure("tuning", name)
            if injected:
                raise _JobFailed(injected)
            definition = record["TrainingJobDefinition"]
            limits = record["HyperParameterTuningJobConfig"].get("ResourceLimits", {})
            parallel = max(1, limits.get("MaxParallelTrainingJobs", 1))
            threads = str(max(1, (os.cpu_count() or 1) // parallel))
            env = {"OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
            goal = objective["Type"]
            results: list[dict[str, Any]] = []
            launched = 0
            running: dict[Any, tuple[str, Any, dict[str, str]]] = {}
            with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix=f"tuning-{name}") as pool:
                while True:
                    while not stop.is_set() and len(running) < parallel and launched < strategy.total():
                        suggestion = strategy.suggest()
                        if suggestion is None:
                            break
                        token, tuned = suggestion
                        launched += 1
                        job = f"{name}-{launched:03d}-{secrets.token_hex(4)}"
                        hyperparameters = dict(definition.get("StaticHyperParameters", {}))
                        hyperparameters.update(tuned)
                        hyperparameters["_tuning_objective_metric"] = objective["MetricName"]
                        request = {k: v for k, v in definition.items() if k in _TRAINING_KEYS}
                        request.update(TrainingJobName=job, HyperParameters=hyperparameters)
                        validate_request("sagemaker", "CreateTrainingJob", request)
                        self.op_create_training_job(request, tuning_arn=record["HyperParameterTuningJobArn"])
                        future = pool.submit(self._run_training_as, definition["RoleArn"], job, env)
                        running[future] = (job, token, tuned)
                        self._tuning_counters(name, results, len(running))
                    if not running:
                        break
                    done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                    for future in done:
                        job, token, tuned = running.pop(future)
                        described = self.store.get("training_jobs", job)
                        value = next(
                            (
                                m["Value"]
                                for m in described.get("FinalMetricDataList", [])
                                if m["MetricName"] == objective["MetricName"]
                            ),
                            None,
                        )
                        if described["TrainingJobStatus"] != "Completed":
                            value = None
                        strategy.report(token, value)
                        results.append({"job": job, "record": described, "tuned": tuned, "value": value})
                    self._tuning_counters(name, results, len(running))
            best = None
            for result in results:
                if result["value"] is None:
                    continue
                if best is None or (
                    result["value"] > best["value"] if goal == "Maximize" else result["value"] < best["value"]
                ):
                    best = result
            end = time.time()
            if stop.is_set():
                self.store.update(
                    "tuning_jobs", name, HyperParameterTuningJobStatus="Stopped", HyperParameterTuningEndTime=end
                )
                return
            if best is None:
                first = next(
                    (r["record"].get("FailureReason") for r in results if r["record"].get("FailureReason")),
                    "no objective metric was reported",
                )
                reason = (
                    f"No training job succeeded after {len(results)} attempts. Please take a look at the "
                    f"training job failures to get more details. First failure: {first}"
                )
                raise _JobFailed(reason[:1024])
            self.store.update(
                "tuning_jobs",
                name,
                HyperParameterTuningJobStatus="Completed",
                HyperParameterTuningEndTime=end,
                BestTrainingJob=self._summary(name, best, objective),
            )
        except _JobFailed as failed:
            self.store.update(
                "tuning_jobs",
                name,
                HyperParameterTuningJobStatus="Failed",
                FailureReason=failed.reason,
                HyperParameterTuningEndTime=time.time(),
            )
        except ServiceError as error:
            self.store.update(
                "tuning_jobs",
                name,
                HyperParameterTuningJobStatus="Failed",
                FailureReason=f"{error.code}: {error.message}"[:1024],
                HyperParameterTuningEndTime=time.time(),
            )
        except Exception as error:
            self.store.update(
                "tuning_jobs",
                name,
                HyperParameterTuningJobStatus="Failed",
                FailureReason=jobs.unexpected_failure(error),
                HyperParameterTuningEndTime=time.time(),
            )

    def _summary(self, tuning: str, result: dict[str, Any], objective: dict[str, str]) -> dict[str, Any]:
        record = result["record"]
        summary = {
            "TrainingJobName": record["TrainingJobName"],
            "TrainingJobArn": record["TrainingJobArn"],
            "TuningJobName": tuning,
            "CreationTime": record["CreationTime"],
            "TrainingStartTime": record.get("TrainingStartTime"),
            "TrainingEndTime": record.get("TrainingEndTime"),
            "TrainingJobStatus": record["TrainingJobStatus"],
            "TunedHyperParameters": result["tuned"],
            "FailureReason": record.get("FailureReason"),
            "ObjectiveStatus": "Succeeded" if result["value"] is not None else "Failed",
        }
        if result["value"] is not None:
            summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
                "Type": objective["Type"],
                "MetricName": objective["MetricName"],
                "Value": result["value"],
            }
        return summary

    def _tuning_counters(self, name: str, results: list[dict[str, Any]], running: int) -> None:
        statuses = [r["record"]["TrainingJobStatus"] for r in results]
        self.store.update(
            "tuning_jobs",
            name,
            TrainingJobStatusCounters={
                "Completed": statuses.count("Completed"),
                "InProgress": running,
                "RetryableError": 0,
                "NonRetryableError": statuses.count("Failed"),
                "Stopped": statuses.count("Stopped"),
            },
            ObjectiveStatusCounters={
                "Succeeded": sum(1 for r in results if r["value"] is not None),
                "Pending": running,
                "Failed": sum(1 for r in results if r["value"] is None),
            },
        )

    def op_describe_hyper_parameter_tuning_job(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["HyperParameterTuningJobName"]
        record = self.store.get("tuning_jobs", name)
        if record is None:
            raise ServiceError("ResourceNotFound", f"Amazon SageMaker can't find a tuning job with name {name}")
        return _describe(record, "DescribeHyperParameterTuningJob")

    def op_stop_hyper_parameter_tuning_job(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["HyperParameterTuningJobName"]
        self._stop("tuning_jobs", name, "HyperParameterTuningJobStatus")
        tuning_arn = self.store.get("tuning_jobs", name)["HyperParameterTuningJobArn"]
        for record in self.store.values("training_jobs"):
            if record.get("TuningJobArn") == tuning_arn and record["TrainingJobStatus"] == "InProgress":
                self._stop("training_jobs", record["TrainingJobName"], "TrainingJobStatus")
        return {}

    def op_list_training_jobs_for_hyper_parameter_tuning_job(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["HyperParameterTuningJobName"]
        tuning = self.store.get("tuning_jobs", name)
        if tuning is None:
            raise ServiceError("ResourceNotFound", f"Amazon SageMaker can't find a tuning job with name {name}")
        objective = tuning["HyperParameterTuningJobConfig"].get("HyperParameterTuningJobObjective", {})
        static = tuning["TrainingJobDefinition"].get("StaticHyperParameters", {})
        summaries = []
        for record in self.store.values("training_jobs"):
            if record.get("TuningJobArn") != tuning["HyperParameterTuningJobArn"]:
                continue
            value = next(
                (
                    m["Value"]
                    for m in record.get("FinalMetricDataList", [])
                    if m["MetricName"] == objective.get("MetricName")
                ),
                None,
            )
            if record["TrainingJobStatus"] != "Completed":
                value = None
            tuned = {
                k: v for k, v in record.get("HyperParameters", {}).items() if k not in static and not k.startswith("_")
            }
            summaries.append(self._summary(name, {"record": record, "tuned": tuned, "value": value}, objective))
        if p.get("StatusEquals"):
            summaries = [s for s in summaries if s["TrainingJobStatus"] == p["StatusEquals"]]
        summaries.sort(key=lambda s: s["CreationTime"])
        return {"TrainingJobSummaries": summaries[: p.get("MaxResults", 100)]}

    # -- model registry -------------------------------------------------------------------
    def op_create_model_package_group(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["ModelPackageGroupName"]
        if self.store.get("model_package_groups", name) is not None:
            raise ServiceError(
                "ValidationException", f"Model Package Group already exists: {self.arn('model-package-group', name)}"
            )
        arn = self.arn("model-package-group", name)
        record = {k: v for k, v in p.items() if k != "Tags"}
        record.update(
            ModelPackageGroupArn=arn, CreationTime=time.time(), CreatedBy={}, ModelPackageGroupStatus="Completed"
        )
        self.store.put("model_package_groups", name, record)
        return {"ModelPackageGroupArn": arn}

    def ensure_model_package_group(self, name: str, description: str = "") -> None:
        if self.store.get("model_package_groups", name) is None:
            self.op_create_model_package_group(
                {"ModelPackageGroupName": name, "ModelPackageGroupDescription": description}
            )

    def op_describe_model_package_group(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["ModelPackageGroupName"].rsplit("/", 1)[-1]
        record = self.store.get("model_package_groups", name)
        if record is None:
            raise ServiceError("ValidationException", f"ModelPackageGroup {name} does not exist.")
        return _describe(record, "DescribeModelPackageGroup")

    def op_create_model_package(self, p: dict[str, Any]) -> dict[str, Any]:
        group = p.get("ModelPackageGroupName")
        if group:
            group = group.rsplit("/", 1)[-1]
            if self.store.get("model_package_groups", group) is None:
                raise ServiceError("ValidationException", f"Model Package Group {group} does not exist.")
            version = 1 + sum(1 for r in self.store.values("model_packages") if r.get("ModelPackageGroupName") == group)
            key = f"{group}/{version}"
            arn = self.arn("model-package", key)
            extra = {"ModelPackageGroupName": group, "ModelPackageVersion": version, "ModelPackageName": group}
        else:
            key = p.get("ModelPackageName") or ""
            if not key:
                raise ServiceError("ValidationException", "ModelPackageGroupName or ModelPackageName is required")
            arn = self.arn("model-package", key)
            extra = {"ModelPackageName": key}
        now = time.time()
        record = {k: v for k, v in p.items() if k not in ("Tags", "ClientToken")}
        record.update(extra)
        record.update(
            ModelPackageArn=arn,
            CreationTime=now,
            LastModifiedTime=now,
            ModelPackageStatus="Completed",
            ModelPackageStatusDetails={"ValidationStatuses": [], "ImageScanStatuses": []},
        )
        if group:
            record.setdefault("ModelApprovalStatus", "PendingManualApproval")
        self.store.put("model_packages", key, record)
        self._tag(arn, p.get("Tags"))
        self._notify("model_package", key, record)
        return {"ModelPackageArn": arn}

    def _find_package(self, name_or_arn: str) -> dict[str, Any] | None:
        for record in self.store.values("model_packages"):
            if (
                name_or_arn in (record["ModelPackageArn"], record.get("ModelPackageName"))
                and record.get("ModelPackageVersion") is None
            ):
                return record
            if name_or_arn == record["ModelPackageArn"]:
                return record
        return None

    def op_describe_model_package(self, p: dict[str, Any]) -> dict[str, Any]:
        record = self._find_package(p["ModelPackageName"])
        if record is None:
            raise ServiceError("ValidationException", f"ModelPackage {p['ModelPackageName']} does not exist.")
        return _describe(record, "DescribeModelPackage")

    def op_update_model_package(self, p: dict[str, Any]) -> dict[str, Any]:
        record = self._find_package(p["ModelPackageArn"])
        if record is None:
            raise ServiceError("ValidationException", f"ModelPackage {p['ModelPackageArn']} does not exist.")
        key = (
            f"{record['ModelPackageGroupName']}/{record['ModelPackageVersion']}"
            if record.get("ModelPackageVersion")
            else record["ModelPackageName"]
        )
        fields = {k: v for k, v in p.items() if k != "ModelPackageArn"}
        self.store.update("model_packages", key, **fields)
        self._notify("model_package", key, {**record, **fields})
        return {"ModelPackageArn": record["ModelPackageArn"]}

    def op_list_model_packages(self, p: dict[str, Any]) -> dict[str, Any]:
        records = self.store.values("model_packages")
        if p.get("ModelPackageGroupName"):
            group = p["ModelPackageGroupName"].rsplit("/", 1)[-1]
            records = [r for r in records if r.get("ModelPackageGroupName") == group]
        if p.get("ModelApprovalStatus"):
            records = [r for r in records if r.get("ModelApprovalStatus") == p["ModelApprovalStatus"]]
        records.sort(key=lambda r: r["CreationTime"], reverse=p.get("SortOrder", "Ascending") == "Descending")
        keys = (
            "ModelPackageName",
            "ModelPackageGroupName",
            "ModelPackageVersion",
            "ModelPackageArn",
            "ModelPackageDescription",
            "CreationTime",
            "ModelPackageStatus",
            "ModelApprovalStatus",
        )
        return {"ModelPackageSummaryList": [{k: r.get(k) for k in keys} for r in records[: p.get("MaxResults", 100)]]}


_TRAINING_KEYS = {
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


class _JobFailed(Exception):
    def __init__(self, reason: str, exit_message: str | None = None, metrics: list | None = None):
        super().__init__(reason)
        self.reason = reason[:1024]
        self.exit_message = exit_message
        self.metrics = metrics
