"""Hyperparameter tuning jobs: a strategy (tuning.py) proposes training jobs, run so many at a time."""

from __future__ import annotations

import os
import secrets
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any

from ..validation import ServiceError, validate_request
from . import jobs
from .plumbing import JobFailed, SageMakerPlumbing, describe_record
from .training import TRAINING_KEYS
from .tuning import strategy_for

_TUNING_SUMMARY = (  # the fields of a HyperParameterTuningJobSummary that the record holds as they are
    "HyperParameterTuningJobName",
    "HyperParameterTuningJobArn",
    "HyperParameterTuningJobStatus",
    "CreationTime",
    "HyperParameterTuningEndTime",
    "LastModifiedTime",
    "TrainingJobStatusCounters",
    "ObjectiveStatusCounters",
)


class TuningJobs(SageMakerPlumbing):
    # -- tuning jobs ----------------------------------------------------------------
    def op_create_hyper_parameter_tuning_job(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["HyperParameterTuningJobName"]
        self.require_unique("tuning_jobs", name, "Hyperparameter tuning job", "hyper-parameter-tuning-job")
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
        arn = self.put_request(
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
        self.start_job(
            name, lambda: self._run_tuning(name, strategy, objective), f"tuning-{name}", role=definition["RoleArn"]
        )
        return {"HyperParameterTuningJobArn": arn}

    def _run_tuning(self, name: str, strategy, objective: dict[str, str]) -> None:
        record = self.store.get("tuning_jobs", name)
        stop = self.processes[name].stop_requested
        try:
            injected = self.faults.job_failure("tuning", name)
            if injected:
                raise JobFailed(injected)
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
                        request = {k: v for k, v in definition.items() if k in TRAINING_KEYS}
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
                raise JobFailed(reason[:1024])
            self.store.update(
                "tuning_jobs",
                name,
                HyperParameterTuningJobStatus="Completed",
                HyperParameterTuningEndTime=end,
                BestTrainingJob=self._summary(name, best, objective),
            )
        except JobFailed as failed:
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
        return describe_record(record, "DescribeHyperParameterTuningJob")

    def op_list_hyper_parameter_tuning_jobs(self, p: dict[str, Any]) -> dict[str, Any]:
        records = self.store.values("tuning_jobs")
        if p.get("NameContains"):
            records = [r for r in records if p["NameContains"].lower() in r["HyperParameterTuningJobName"].lower()]
        if p.get("StatusEquals"):
            records = [r for r in records if r["HyperParameterTuningJobStatus"] == p["StatusEquals"]]
        key = {"Name": "HyperParameterTuningJobName", "Status": "HyperParameterTuningJobStatus"}.get(
            p.get("SortBy", "CreationTime"), "CreationTime"
        )
        records = sorted(records, key=lambda r: r[key], reverse=p.get("SortOrder", "Descending") == "Descending")
        summaries = []
        for record in records[: p.get("MaxResults", 100)]:
            config = record.get("HyperParameterTuningJobConfig", {})
            summary = {k: record.get(k) for k in _TUNING_SUMMARY}
            summary.update(Strategy=config.get("Strategy", "Bayesian"), ResourceLimits=config.get("ResourceLimits"))
            summaries.append(summary)
        return {"HyperParameterTuningJobSummaries": summaries}

    def op_stop_hyper_parameter_tuning_job(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["HyperParameterTuningJobName"]
        self.stop_job("tuning_jobs", name, "HyperParameterTuningJobStatus")
        tuning_arn = self.store.get("tuning_jobs", name)["HyperParameterTuningJobArn"]
        for record in self.store.values("training_jobs"):
            if record.get("TuningJobArn") == tuning_arn and record["TrainingJobStatus"] == "InProgress":
                self.stop_job("training_jobs", record["TrainingJobName"], "TrainingJobStatus")
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
