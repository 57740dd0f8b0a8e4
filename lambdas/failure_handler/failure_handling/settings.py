"""Configuration the stack passes in environment variables, read once per invocation."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

REQUIRED_VARIABLES = (
    "FAILURE_RECORD_BUCKET",
    "FAILURE_RECORD_PREFIX",
    "NOTIFICATION_TOPIC_ARN",
    "PIPELINE_NAME",
    "ENVIRONMENT_NAME",
    "POWERTOOLS_SERVICE_NAME",
)


class ConfigurationError(RuntimeError):
    """The function was deployed without a setting it cannot work without."""


@dataclass(frozen=True)
class Settings:
    record_bucket: str
    record_prefix: str
    topic_arn: str
    pipeline_name: str
    environment_name: str
    region: str


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check the settings; raise naming every missing variable at once."""
    env = os.environ if environ is None else environ
    missing = [name for name in REQUIRED_VARIABLES if not env.get(name, "").strip()]
    # The Lambda runtime sets AWS_REGION; AWS_DEFAULT_REGION covers local runs.
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or ""
    if not region:
        missing.append("AWS_REGION (or AWS_DEFAULT_REGION)")
    if missing:
        raise ConfigurationError("failure handler is missing environment variable(s): " + ", ".join(missing))
    prefix = env["FAILURE_RECORD_PREFIX"].strip()
    return Settings(
        record_bucket=env["FAILURE_RECORD_BUCKET"].strip(),
        # A prefix without its slash would glue the execution name onto it.
        record_prefix=prefix if prefix.endswith("/") else prefix + "/",
        topic_arn=env["NOTIFICATION_TOPIC_ARN"].strip(),
        pipeline_name=env["PIPELINE_NAME"].strip(),
        environment_name=env["ENVIRONMENT_NAME"].strip(),
        region=region,
    )
