"""CloudWatch Logs retention from the configuration's days (stacks/config/retention.py lists the valid ones)."""

from __future__ import annotations

from aws_cdk import aws_logs as logs

from stacks.config.retention import RETENTION_PERIODS


def log_retention(days: int) -> logs.RetentionDays:
    return logs.RetentionDays[RETENTION_PERIODS[days]]
