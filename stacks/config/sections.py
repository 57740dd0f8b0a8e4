"""The sections of an environment's configuration: one typed, validated model per concern.

`AppConfig` (stacks/config/__init__.py) composes them; a validator here names the key and what is allowed.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from stacks.config import instance_types
from training_code import instance_memory, objective
from training_code.errors import UserError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StorageConfig(_Section):
    removal_policy: Literal["retain", "destroy"] = "retain"
    noncurrent_version_expiration_days: int = Field(90, ge=1, le=3650)
    incomplete_upload_expiration_days: int = Field(7, ge=1, le=365)
    access_log_expiration_days: int = Field(365, ge=1, le=3650)
    untagged_image_expiration_days: int = Field(14, ge=1, le=3650)
    # Retained resources with a fixed name (the model package group) outlive a teardown; raise this to
    # build the environment again beside them (docs/pipeline.md, "Rebuilding an environment").
    # 1 keeps the original names.
    generation: int = Field(1, ge=1, le=999)


class ProcessingConfig(_Section):
    instance_type: str = "ml.m5.large"
    # > 1: each instance processes its shard of the input (training_code's --split hash; docs/training_code.md)
    instance_count: int = Field(1, ge=1, le=100)
    volume_size_gb: int = Field(30, ge=1, le=16384)
    max_runtime_seconds: int = Field(3600, ge=60, le=432000)

    _check_type = field_validator("instance_type")(instance_types.check_processing)


class TrainingConfig(_Section):
    instance_type: str = "ml.m5.large"
    instance_count: int = Field(1, ge=1, le=100)
    volume_size_gb: int = Field(30, ge=1, le=16384)
    max_runtime_seconds: int = Field(3600, ge=60, le=2419200)
    use_spot: bool = False
    max_wait_seconds: int = Field(7200, ge=60, le=2419200)
    warm_pool_seconds: int = Field(0, ge=0, le=3600)
    # The share of a training instance's memory that the data a host holds may take: an in-memory algorithm's
    # channel files, or streamed xgboost's per-row state. Beyond it the container streams or refuses before
    # training (docs/training_code.md, "Data bigger than memory"); every training job gets it.
    memory_fraction: float = Field(instance_memory.DEFAULT_FRACTION, gt=0, le=1)

    _check_type = field_validator("instance_type")(instance_types.check_training)

    @property
    def job_environment(self) -> dict[str, str]:
        """The training container's environment, the same for every training job of this environment."""
        return {instance_memory.FRACTION_ENV: f"{self.memory_fraction:g}"}

    @model_validator(mode="after")
    def _warm_pools_need_on_demand(self) -> TrainingConfig:
        if self.use_spot and self.warm_pool_seconds:
            raise ValueError("warm_pool_seconds must be 0 when use_spot is true: SageMaker warm pools need on-demand")
        return self

    @model_validator(mode="after")
    def _spot_wait_covers_runtime(self) -> TrainingConfig:
        if self.use_spot and self.max_wait_seconds < self.max_runtime_seconds:
            raise ValueError(
                f"max_wait_seconds ({self.max_wait_seconds}) must be >= max_runtime_seconds "
                f"({self.max_runtime_seconds}) when use_spot is true (SageMaker StoppingCondition rule)"
            )
        return self


class TuningConfig(_Section):
    enabled: bool = False
    strategy: Literal["Bayesian", "Random", "Hyperband", "Grid"] = "Bayesian"
    max_jobs: int = Field(8, ge=1, le=500)
    max_parallel_jobs: int = Field(2, ge=1, le=100)

    @model_validator(mode="after")
    def _parallel_within_total(self) -> TuningConfig:
        if self.max_parallel_jobs > self.max_jobs:
            raise ValueError(f"max_parallel_jobs ({self.max_parallel_jobs}) must be <= max_jobs ({self.max_jobs})")
        return self


class EndpointDeployment(_Section):
    """How an endpoint update shifts traffic (SageMaker deployment guardrails) and when it rolls back."""

    traffic_shift: Literal["ALL_AT_ONCE", "CANARY", "LINEAR"] = "ALL_AT_ONCE"
    step_percent: int = Field(10, ge=1, le=99)  # canary size, or linear step
    wait_seconds: int = Field(300, ge=0, le=3600)  # bake time of each step
    termination_wait_seconds: int = Field(120, ge=0, le=3600)  # old fleet kept for a fast rollback
    # Rollback alarms: 5XX errors per minute and p99 model latency.
    max_5xx_errors_per_minute: int = Field(5, ge=1)
    max_p99_latency_ms: int = Field(500, ge=1)


class EndpointAutoscaling(_Section):
    """Target tracking on invocations per instance for the endpoint's variant."""

    min_instances: int = Field(1, ge=1, le=100)
    max_instances: int = Field(2, ge=1, le=100)
    invocations_per_instance: int = Field(1000, ge=1)  # per minute, the tracked target
    scale_in_cooldown_seconds: int = Field(300, ge=0, le=3600)
    scale_out_cooldown_seconds: int = Field(60, ge=0, le=3600)

    @model_validator(mode="after")
    def _bounds(self) -> EndpointAutoscaling:
        if self.min_instances > self.max_instances:
            raise ValueError(f"min_instances ({self.min_instances}) must be <= max_instances ({self.max_instances})")
        return self


class ServerlessEndpoint(_Section):
    """A serverless endpoint: pay per request, scale to zero (ProductionVariantServerlessConfig)."""

    memory_size_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144] = 2048
    max_concurrency: int = Field(5, ge=1, le=200)
    provisioned_concurrency: int | None = Field(None, ge=1, le=200)  # warm capacity, billed while idle

    @model_validator(mode="after")
    def _provisioned_within_max(self) -> ServerlessEndpoint:
        if self.provisioned_concurrency and self.provisioned_concurrency > self.max_concurrency:
            raise ValueError(
                f"provisioned_concurrency ({self.provisioned_concurrency}) must be <= max_concurrency "
                f"({self.max_concurrency})"
            )
        return self


class EndpointConfig(_Section):
    # instance_type and initial_instance_count size an instance-backed endpoint; `serverless` replaces them.
    instance_type: str = "ml.m5.large"
    initial_instance_count: int = Field(1, ge=1, le=100)
    serverless: ServerlessEndpoint | None = None
    data_capture_percent: int = Field(100, ge=0, le=100)
    deployment: EndpointDeployment = EndpointDeployment()
    autoscaling: EndpointAutoscaling | None = EndpointAutoscaling()

    _check_type = field_validator("instance_type")(instance_types.check_endpoint)

    @model_validator(mode="after")
    def _serverless_limits(self) -> EndpointConfig:
        if self.serverless is None:
            return self
        if self.data_capture_percent:
            raise ValueError(
                "data_capture_percent must be 0 with a serverless endpoint: SageMaker serverless endpoints "
                "do not capture data (use an instance endpoint to capture requests)"
            )
        if self.autoscaling is not None:
            raise ValueError(
                "autoscaling must be null with a serverless endpoint: it scales by itself up to "
                "serverless.max_concurrency"
            )
        if self.deployment.traffic_shift != "ALL_AT_ONCE":
            raise ValueError(
                "deployment.traffic_shift must be ALL_AT_ONCE with a serverless endpoint: SageMaker shifts "
                "serverless traffic all at once"
            )
        return self


class BatchTransformConfig(_Section):
    """Offline scoring of a dataset with a registered model (the scoring state machine)."""

    enabled: bool = False
    instance_type: str = "ml.m5.large"
    instance_count: int = Field(1, ge=1, le=100)
    max_payload_mb: int = Field(6, ge=1, le=100)  # per request to /invocations
    max_concurrent_transforms: int = Field(2, ge=1, le=100)  # requests in flight per instance
    max_runtime_seconds: int = Field(3600, ge=60, le=172800)

    _check_type = field_validator("instance_type")(instance_types.check_transform)


class NotebookConfig(_Section):
    """An optional SageMaker notebook instance for data scientists, inside the team's VPC."""

    enabled: bool = False
    instance_type: str = "ml.t3.medium"
    volume_size_gb: int = Field(20, ge=5, le=16384)
    # No direct internet: the instance reaches AWS through this subnet's VPC endpoints or NAT.
    subnet_id: str | None = None
    security_group_ids: tuple[str, ...] = ()

    _check_type = field_validator("instance_type")(instance_types.check_notebook)

    @field_validator("subnet_id")
    @classmethod
    def _subnet(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^subnet-[0-9a-f]{8,17}$", value):
            raise ValueError("must be a subnet id such as subnet-0123456789abcdef0")
        return value

    @field_validator("security_group_ids")
    @classmethod
    def _groups(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not re.match(r"^sg-[0-9a-f]{8,17}$", value):
                raise ValueError(f"{value!r} is not a security group id such as sg-0123456789abcdef0")
        return values

    @model_validator(mode="after")
    def _network(self) -> NotebookConfig:
        if self.enabled and (self.subnet_id is None or not self.security_group_ids):
            raise ValueError(
                "an enabled notebook needs subnet_id and security_group_ids: it has no direct internet access, "
                "so it must sit in a VPC subnet (with endpoints or NAT) of your network"
            )
        return self


Task = Literal["classification", "regression", "clustering", "anomaly_detection", "dimensionality_reduction"]


class TaskObjective(_Section):
    """A task's default quality gate, for algorithms whose task does not measure `objective_metric`."""

    metric: str
    threshold: float


def _default_task_objectives() -> dict[str, TaskObjective]:
    return {
        "classification": TaskObjective(metric="accuracy", threshold=0.9),
        "regression": TaskObjective(metric="r2", threshold=0.5),
        "clustering": TaskObjective(metric="silhouette", threshold=0.1),
        "anomaly_detection": TaskObjective(metric="roc_auc", threshold=0.5),
        "dimensionality_reduction": TaskObjective(metric="explained_variance_ratio", threshold=0.5),
    }


class PipelineDefaults(_Section):
    """What an execution gets for every field its input leaves out."""

    algorithm: str = "xgboost"
    # Applied when an execution runs the default algorithm and gives no hyperparameters of its own.
    hyperparameters: dict[str, str] = Field(default_factory=lambda: {"objective": "binary:logistic"})
    objective_metric: str = "accuracy"
    threshold: float = 0.9
    # `--algorithm ridge` alone must run: a task that does not measure objective_metric gates on its own.
    task_objectives: dict[Task, TaskObjective] = Field(default_factory=_default_task_objectives)
    deploy: bool = True
    # "Approved" deploys in the same run; "PendingManualApproval" registers and waits for a person.
    model_approval_status: Literal["Approved", "PendingManualApproval"] = "Approved"
    execution_timeout_minutes: int = Field(360, ge=5, le=525600)

    @model_validator(mode="after")
    def _objectives_can_be_met(self) -> PipelineDefaults:
        # The same checks as an execution's objective (training_code/objective.py), at synthesis.
        try:
            objective.check_threshold(self.objective_metric, self.threshold)
            for task, gate in self.task_objectives.items():
                objective.check_metric(gate.metric, task, f"task_objectives.{task}")
                objective.check_threshold(gate.metric, gate.threshold)
        except (UserError, KeyError) as error:
            raise ValueError(str(error).strip("'")) from None
        return self


class TriggersConfig(_Section):
    """Optional ways a run starts by itself; both off by default."""

    # Start a run for each object created under this prefix of the data bucket, e.g. "incoming/".
    new_data_prefix: str | None = None
    # Start a run on a schedule (EventBridge expression) over `scheduled_data_prefix`.
    schedule: str | None = None
    scheduled_data_prefix: str = "datasets/"

    @field_validator("new_data_prefix", "scheduled_data_prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is not None and (value.startswith("/") or not value.endswith("/")):
            raise ValueError("must be a key prefix such as incoming/ (no leading slash, ending in /)")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is not None and not re.match(
            r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$", value
        ):
            raise ValueError("must be an EventBridge expression such as rate(1 day) or cron(0 6 * * ? *)")
        return value


class AllowedInstanceTypes(_Section):
    """The instance types an execution input may ask for; anything else is rejected at validation."""

    processing: tuple[str, ...] = ("ml.m5.large", "ml.m5.xlarge")
    training: tuple[str, ...] = ("ml.m5.large", "ml.m5.xlarge", "ml.c5.xlarge", "ml.c5.2xlarge")
    endpoint: tuple[str, ...] = ("ml.m5.large", "ml.c5.large")
    transform: tuple[str, ...] = ("ml.m5.large", "ml.m5.xlarge")

    @field_validator("processing")
    @classmethod
    def _processing(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(instance_types.check_processing(v) for v in values)

    @field_validator("training")
    @classmethod
    def _training(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(instance_types.check_training(v) for v in values)

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(instance_types.check_endpoint(v) for v in values)

    @field_validator("transform")
    @classmethod
    def _transform(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(instance_types.check_transform(v) for v in values)


class DriftThresholds(_Section):
    """Per-feature limits of the monitoring job (training_code/monitoring/drift.py)."""

    distance: float = Field(0.2, gt=0, le=10)  # population stability index
    missing_rate: float = Field(0.05, ge=0, le=1)  # increase over the baseline's share of missing values
    type_rate: float = Field(0.01, ge=0, le=1)  # share of values of the wrong type
    out_of_range_rate: float = Field(0.05, ge=0, le=1)  # share outside the baseline's [min, max]
    min_rows: int = Field(100, ge=1, le=10_000_000)  # fewer captured rows: reported, not judged


class MonitoringConfig(_Section):
    """Drift and model quality of the endpoint's captured traffic, on a schedule (docs/monitoring.md)."""

    enabled: bool = False
    period: Literal["hour", "day"] = "hour"  # how often it runs, and the window of captures it reads
    drift: DriftThresholds = DriftThresholds()
    quality_tolerance: float = Field(0.05, ge=0)  # how much worse than at evaluation the live metric may be
    ground_truth_prefix: str = "ground-truth/"  # in the data bucket: <prefix>yyyy/mm/dd/hh/*.jsonl
    metrics_namespace: str = Field("SageMakerPipeline/Monitoring", pattern=r"^[A-Za-z0-9._/#:-]{1,255}$")
    retrain_on_drift: bool = False
    retrain_data_prefix: str = "datasets/"  # its newest sub-prefix (by name) is the retraining data
    retrain_cooldown_hours: int = Field(24, ge=1, le=24 * 90)

    @field_validator("ground_truth_prefix", "retrain_data_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if value.startswith("/") or not value.endswith("/"):
            raise ValueError("must be a key prefix such as ground-truth/ (no leading slash, ending in /)")
        return value
