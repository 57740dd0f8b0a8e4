"""The settings the monitoring constructs take: a narrow slice of the environment's configuration."""

from __future__ import annotations

from dataclasses import dataclass

from stacks.config.sections import MonitoringConfig, ProcessingConfig


@dataclass(frozen=True)
class MonitoringSettings:
    """The settings the monitoring uses, and no others."""

    monitoring: MonitoringConfig
    processing: ProcessingConfig  # the monitor job runs on the processing instances
    environment: str
    log_retention_days: int
    powertools_layer_version: int
