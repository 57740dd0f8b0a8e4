"""What the stack tells the function through its environment: buckets, endpoint, per-environment defaults."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Settings:
    data_bucket: str
    artifacts_bucket: str
    endpoint_name: str
    defaults: dict[str, Any]  # the environment's configuration: see stacks/components/pipeline_functions.py

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        _require(environ, "DATA_BUCKET", "ARTIFACTS_BUCKET", "ENDPOINT_NAME", "RUN_DEFAULTS")
        return cls(
            data_bucket=environ["DATA_BUCKET"],
            artifacts_bucket=environ["ARTIFACTS_BUCKET"],
            endpoint_name=environ["ENDPOINT_NAME"],
            defaults=json.loads(environ["RUN_DEFAULTS"]),
        )


@dataclass(frozen=True)
class ScoringSettings:
    data_bucket: str
    artifacts_bucket: str
    model_package_group: str
    defaults: dict[str, Any]  # instance type and count, allowed instance types: see stacks/config/

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> ScoringSettings:
        _require(environ, "DATA_BUCKET", "ARTIFACTS_BUCKET", "MODEL_PACKAGE_GROUP", "SCORING_DEFAULTS")
        return cls(
            data_bucket=environ["DATA_BUCKET"],
            artifacts_bucket=environ["ARTIFACTS_BUCKET"],
            model_package_group=environ["MODEL_PACKAGE_GROUP"],
            defaults=json.loads(environ["SCORING_DEFAULTS"]),
        )


def _require(environ: Mapping[str, str], *names: str) -> None:
    missing = [name for name in names if not environ.get(name)]
    if missing:
        raise RuntimeError(
            f"environment variables {', '.join(missing)} are not set: deploy the function with the stack"
        )
