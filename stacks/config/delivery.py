"""The delivery pipeline's configuration: config/delivery/pipeline.json, one per tooling account.

Not an environment: it lives beside config/<env>.json, not among them, so `-c env=all` never reads it. The
environments it promotes keep their own account and region in config/dev.json and config/prod.json (the single
source of both); this file names the tooling account that runs the pipeline and the Git repository it watches.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from stacks.config import CONFIG_DIR, ConfigError, aws_values
from stacks.config.sections import _Section

DELIVERY_CONFIG = CONFIG_DIR / "delivery" / "pipeline.json"
# AWS CodeConnections ARNs; connections made before the 2024 rename keep the codestar-connections service name.
_CONNECTION = re.compile(
    r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d:\d{12}:"
    r"connection/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$")
PREFIX = "invalid delivery configuration (config/delivery/pipeline.json)"
CONNECTION_FIX = (
    "create one (aws codeconnections create-connection --provider-type GitHub --connection-name ml-pipeline), "
    "complete its handshake in the console (Developer Tools > Settings > Connections), and put its ARN in "
    "config/delivery/pipeline.json"
)


class DeliveryConfig(_Section):
    """The tooling account's pipeline: where it runs, what it watches, who hears about approvals and failures."""

    # The tooling account and region; null for both deploys into the credentials' account (one-account setup).
    account: str | None = None
    region: str | None = None
    connection_arn: str | None = None  # AWS CodeConnections (GitHub, GitLab, Bitbucket); CodeCommit is closed
    repository: str | None = None  # owner/name on the Git host
    branch: str = "main"
    notification_email: str | None = None  # approvals needed and failed stages
    log_retention_days: int = 365
    # How long the smoke check's run may take (processing, one training job, a serverless endpoint's deployment);
    # its CodeBuild project gets `make setup`'s time on top.
    smoke_timeout_minutes: int = Field(60, ge=10, le=480)
    synth_timeout_minutes: int = Field(60, ge=10, le=480)  # `make test`, then the synthesis
    # CodeBuild's size for every step: `make test` runs the suite on 2 workers (BUILD_GENERAL1_<size>).
    build_compute_type: Literal["SMALL", "MEDIUM", "LARGE", "X2_LARGE"] = "MEDIUM"
    # The artifact and access-log buckets: each execution's artifacts are rebuilt by the next one.
    noncurrent_version_expiration_days: int = Field(30, ge=1, le=3650)
    incomplete_upload_expiration_days: int = Field(7, ge=1, le=365)

    @field_validator("account")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        return aws_values.account(value, null_means="the account of the credentials")

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return aws_values.region(value, null_means="the region of the credentials")

    @field_validator("connection_arn")
    @classmethod
    def _connection(cls, value: str | None) -> str | None:
        if value is not None and not _CONNECTION.match(value):
            raise ValueError(
                "must be an AWS CodeConnections ARN such as arn:aws:codeconnections:eu-west-1:111111111111:"
                f"connection/<uuid>: {CONNECTION_FIX}"
            )
        return value

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str | None) -> str | None:
        if value is not None and not _REPOSITORY.match(value):
            raise ValueError("must be the repository as the Git host names it, owner/name (GitLab: group/.../name)")
        return value

    @field_validator("notification_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return aws_values.email(value)

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return aws_values.retention_days(value)

    @model_validator(mode="after")
    def _one_account_or_both(self) -> DeliveryConfig:
        if (self.account is None) != (self.region is None):
            raise ValueError("account and region go together: set both, or leave both null")
        return self

    def require_source(self) -> tuple[str, str]:
        """(connection ARN, repository): a pipeline cannot be built without both."""
        if self.connection_arn is None:
            raise ConfigError(f"{PREFIX}: connection_arn is not set: {CONNECTION_FIX}")
        if self.repository is None:
            raise ConfigError(
                f"{PREFIX}: repository is not set: put the repository the pipeline "
                'watches in config/delivery/pipeline.json, as owner/name ("repository": "my-org/ml-pipeline")'
            )
        return self.connection_arn, self.repository


def load_delivery_config(path: Path = DELIVERY_CONFIG, overrides: dict[str, Any] | None = None) -> DeliveryConfig:
    if not path.is_file():
        raise ConfigError(f"no delivery configuration: create {path} (docs/delivery.md shows one)")
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path.name} is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    raw = {**raw, **{k: v for k, v in (overrides or {}).items() if v is not None}}
    return parse_delivery_config(raw)


def parse_delivery_config(raw: dict[str, Any]) -> DeliveryConfig:
    try:
        return DeliveryConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    """The key, the value and what is allowed, as for an environment's configuration."""
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    prefix = PREFIX
    if error["type"] == "extra_forbidden":
        known = list(DeliveryConfig.model_fields)
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"{prefix}: {key}: not a configuration key; {hint}the keys are {', '.join(known)}"
    value = error.get("input")
    shown = "" if isinstance(value, dict) else f" = {value!r}"
    return f"{prefix}: {key}{shown}: {error['msg'].removeprefix('Value error, ')}"
