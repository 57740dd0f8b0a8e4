"""Checks of values AWS defines (account ids, regions, e-mail endpoints, CloudWatch Logs' retention periods),
shared by the environments' configuration and the delivery pipeline's. Each returns the value or raises
ValueError with what is allowed; `null_means` says what leaving it null does in that file."""

from __future__ import annotations

import re

from stacks.config.retention import RETENTION_PERIODS

LOG_RETENTION_DAYS = tuple(RETENTION_PERIODS)

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


def account(value: str | None, *, null_means: str) -> str | None:
    if value is not None and not _ACCOUNT.match(value):
        raise ValueError(f"must be a 12-digit AWS account id, or null for {null_means}")
    return value


def region(value: str | None, *, null_means: str) -> str | None:
    if value is not None and not _REGION.match(value):
        raise ValueError(f"must be an AWS region such as eu-west-1, or null for {null_means}")
    return value


def email(value: str | None) -> str | None:
    if value is not None and not _EMAIL.match(value):
        raise ValueError("must be an e-mail address such as ml-platform@example.com, or null for no subscription")
    return value


def retention_days(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(f"must be one of CloudWatch's retention periods: {', '.join(map(str, LOG_RETENTION_DAYS))}")
    return value
