"""The typed, validated configuration of one deployment environment.

`config/<environment>.json` is the single source of every tunable. A wrong value fails synthesis
with one line naming the key, the value and what is allowed (see `ConfigError`).
"""

from __future__ import annotations

import difflib
import json
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from stacks.config import aws_values
from stacks.config.aws_values import LOG_RETENTION_DAYS
from stacks.config.sections import (
    AllowedInstanceTypes,
    BatchTransformConfig,
    EndpointAutoscaling,
    EndpointConfig,
    EndpointDeployment,
    MonitoringConfig,
    NotebookConfig,
    PipelineDefaults,
    ProcessingConfig,
    ServerlessEndpoint,
    StorageConfig,
    TrainingConfig,
    TriggersConfig,
    TuningConfig,
    _Section,
)
from stacks.config.timeouts import TaskTimeouts, minimum_execution_minutes, task_timeouts
from training_code import catalog

__all__ = [
    "LOG_RETENTION_DAYS",
    "AllowedInstanceTypes",
    "AppConfig",
    "BatchTransformConfig",
    "ConfigError",
    "EndpointAutoscaling",
    "EndpointConfig",
    "EndpointDeployment",
    "MonitoringConfig",
    "NotebookConfig",
    "PipelineDefaults",
    "ProcessingConfig",
    "ServerlessEndpoint",
    "StorageConfig",
    "TrainingConfig",
    "TriggersConfig",
    "TuningConfig",
    "load_config",
    "parse_config",
    "run_defaults",
    "scoring_defaults",
]

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"

# CloudWatch Logs accepts only these retention periods (AWS::Logs::LogGroup RetentionInDays).


class ConfigError(ValueError):
    """A configuration value that cannot be deployed; the message is one actionable line."""


class AppConfig(_Section):
    environment: str
    account: str | None = None
    region: str | None = None
    termination_protection: bool = False
    notification_email: str | None = None
    log_retention_days: int = 90
    # Version of the AWS-managed Powertools for Lambda layer (python3.13, x86_64) in every region.
    powertools_layer_version: int = Field(27, ge=1, le=1000)
    tags: dict[str, str] = Field(default_factory=dict)
    storage: StorageConfig = StorageConfig()
    processing: ProcessingConfig = ProcessingConfig()
    training: TrainingConfig = TrainingConfig()
    tuning: TuningConfig = TuningConfig()
    endpoint: EndpointConfig = EndpointConfig()
    pipeline: PipelineDefaults = PipelineDefaults()
    allowed_instance_types: AllowedInstanceTypes = AllowedInstanceTypes()
    triggers: TriggersConfig = TriggersConfig()
    batch_transform: BatchTransformConfig = BatchTransformConfig()
    notebook: NotebookConfig = NotebookConfig()
    monitoring: MonitoringConfig = MonitoringConfig()

    @field_validator("account")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        return aws_values.account(value, null_means="an environment-agnostic synth")

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return aws_values.region(value, null_means="an environment-agnostic synth")

    @field_validator("notification_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return aws_values.email(value)

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return aws_values.retention_days(value)

    def _prod_is_strict(self) -> None:
        """Prod serves customers: a person approves each model, updates bake on a canary first, and
        someone is told about failures."""
        if not self.termination_protection:
            raise ValueError("termination_protection must be true in prod")
        if self.pipeline.model_approval_status != "PendingManualApproval":
            raise ValueError(
                "pipeline.model_approval_status must be PendingManualApproval in prod: a person approves each model"
            )
        if self.endpoint.serverless is None and self.endpoint.deployment.traffic_shift == "ALL_AT_ONCE":
            raise ValueError(
                "endpoint.deployment.traffic_shift must be CANARY or LINEAR in prod: an update bakes on part of "
                "the traffic before it takes all of it"
            )
        if self.notification_email is None:
            raise ValueError("notification_email must be set in prod: failures must reach a person")

    @model_validator(mode="after")
    def _consistent(self) -> AppConfig:
        if self.environment == "prod" and self.storage.removal_policy != "retain":
            raise ValueError("storage.removal_policy must be 'retain' in prod: a stack update must never delete data")
        if self.environment == "prod":
            self._prod_is_strict()
        defaults = {
            "processing": self.processing,
            "training": self.training,
            "endpoint": self.endpoint,
            "transform": self.batch_transform,
        }
        for kind, section in defaults.items():
            allowed = getattr(self.allowed_instance_types, kind)
            if section.instance_type not in allowed:
                section_name = "batch_transform" if kind == "transform" else kind
                raise ValueError(
                    f"{section_name}.instance_type {section.instance_type!r} must be one of "
                    f"allowed_instance_types.{kind}: {', '.join(allowed)}"
                )
        self._execution_outlasts_its_tasks()
        refusal = catalog.single_instance_refusal(self.pipeline.algorithm, self.training.instance_count)
        if refusal:
            raise ValueError(
                f"training.instance_count {self.training.instance_count} with pipeline.algorithm: {refusal}"
            )
        if self.monitoring.enabled and not self.endpoint.data_capture_percent:
            raise ValueError(
                "monitoring.enabled needs endpoint.data_capture_percent > 0: the monitoring reads the captured "
                "requests (a serverless endpoint captures none: use an instance endpoint, or disable monitoring)"
            )
        return self

    @property
    def task_timeouts(self) -> TaskTimeouts:
        """Each task's timeout, from the job limits: derived here once, for this check and the workflow."""
        return task_timeouts(self.processing, self.training, self.tuning, self.endpoint.deployment)

    def _execution_outlasts_its_tasks(self) -> None:
        """The execution's timeout must not kill a run its tasks' own timeouts still allow."""
        timeouts = self.task_timeouts
        minimum = minimum_execution_minutes(timeouts)
        if self.pipeline.execution_timeout_minutes < minimum:
            raise ValueError(
                f"pipeline.execution_timeout_minutes {self.pipeline.execution_timeout_minutes} is shorter than the "
                f"longest run the job limits allow ({timeouts.describe_longest_run()}): set it to at least "
                f"{minimum}, or lower tuning.max_jobs, training.max_wait_seconds / max_runtime_seconds or "
                "processing.max_runtime_seconds"
            )


def run_defaults(config: AppConfig) -> dict[str, Any]:
    """What an execution gets for every field its input leaves out (handed to the prepare-run function)."""
    return {
        **config.pipeline.model_dump(
            include={"algorithm", "hyperparameters", "objective_metric", "threshold", "task_objectives", "deploy"}
        ),
        "tuning": config.tuning.model_dump(),
        "processing": config.processing.model_dump(include={"instance_type", "instance_count", "volume_size_gb"}),
        "training": config.training.model_dump(
            include={
                "instance_type",
                "instance_count",
                "volume_size_gb",
                "max_runtime_seconds",
                "use_spot",
                "max_wait_seconds",
            }
        ),
        "endpoint": {
            **config.endpoint.model_dump(include={"instance_type", "initial_instance_count"}),
            "serverless": config.endpoint.serverless is not None,
        },
        "allowed_instance_types": {k: list(v) for k, v in config.allowed_instance_types.model_dump().items()},
    }


def scoring_defaults(config: AppConfig) -> dict[str, Any]:
    """What a batch-scoring execution gets for every field its input leaves out (the prepare-scoring function)."""
    return {
        **config.batch_transform.model_dump(include={"instance_type", "instance_count"}),
        "allowed_instance_types": list(config.allowed_instance_types.transform),
    }


def known_environments() -> list[str]:
    return sorted(path.stem for path in CONFIG_DIR.glob("*.json"))


def load_config(environment: str, overrides: Mapping[str, Any] | None = None) -> AppConfig:
    """Read `config/<environment>.json`, apply top-level overrides (e.g. account from the CLI), validate."""
    path = CONFIG_DIR / f"{environment}.json"
    if not path.is_file():
        raise ConfigError(
            f"unknown environment {environment!r}: known environments are {', '.join(known_environments())} "
            f"(pass one with -c env=NAME, or add config/{environment}.json)"
        )
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path.name} is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    raw = {**raw, **{k: v for k, v in (overrides or {}).items() if v is not None}, "environment": environment}
    return parse_config(raw)


def parse_config(raw: Mapping[str, Any]) -> AppConfig:
    try:
        return AppConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_one_line(raw.get("environment"), exc)) from None


def _one_line(environment: object, exc: ValidationError) -> str:
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    shown = "" if isinstance(value, dict) else f" = {value!r}"
    if error["type"] == "extra_forbidden":
        # pydantic says "Extra inputs are not permitted": name the key the user most likely meant instead.
        known = _known_keys(error["loc"][:-1])
        close = difflib.get_close_matches(str(error["loc"][-1]), known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"invalid configuration for environment {environment!r}: {key}: not a configuration key; {hint}" + (
            f"the keys here are {', '.join(known)}"
        )
    return f"invalid configuration for environment {environment!r}: {key}{shown}: {message}"


def _known_keys(parents: tuple) -> list[str]:
    """The field names of the section at `parents` (a path of keys from the top of the configuration)."""
    model: type[BaseModel] = AppConfig
    for part in parents:
        field = model.model_fields.get(str(part))
        if field is None:
            continue  # a dict key (e.g. a task name): stay with the value type found below
        candidates = [field.annotation, *typing.get_args(field.annotation)]
        for args in list(candidates):
            candidates += typing.get_args(args)
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), model)
    return [name for name in model.model_fields if name != "environment"]
