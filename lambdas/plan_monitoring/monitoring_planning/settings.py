"""What the stack tells the function through its environment (stacks/components/monitoring/)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MonitoringSettings:
    endpoint_name: str
    data_bucket: str
    artifacts_bucket: str
    pipeline_state_machine_arn: str
    config: dict[str, Any]  # the environment's `monitoring` section, as stacks/config validated it

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> MonitoringSettings:
        names = ("ENDPOINT_NAME", "DATA_BUCKET", "ARTIFACTS_BUCKET", "PIPELINE_STATE_MACHINE_ARN", "MONITORING")
        missing = [name for name in names if not environ.get(name)]
        if missing:
            raise RuntimeError(
                f"environment variables {', '.join(missing)} are not set: deploy the function with the stack"
            )
        return cls(
            endpoint_name=environ["ENDPOINT_NAME"],
            data_bucket=environ["DATA_BUCKET"],
            artifacts_bucket=environ["ARTIFACTS_BUCKET"],
            pipeline_state_machine_arn=environ["PIPELINE_STATE_MACHINE_ARN"],
            config=json.loads(environ["MONITORING"]),
        )
