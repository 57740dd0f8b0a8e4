"""boto3 clients, created on first use so that importing the function costs nothing."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import boto3
from botocore.config import Config

# Standard mode retries throttling and transient errors with backoff; a handler that
# gave up on the first ThrottlingException would lose the very failure it reports.
RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})


class AwsClients:
    """One lazily created client per service; tests may assign a stubbed client."""

    def __init__(self, region: str) -> None:
        self.region = region

    def _client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region, config=RETRY_CONFIG)

    @cached_property
    def sagemaker(self) -> Any:
        return self._client("sagemaker")

    @cached_property
    def s3(self) -> Any:
        return self._client("s3")

    @cached_property
    def sns(self) -> Any:
        return self._client("sns")

    @cached_property
    def stepfunctions(self) -> Any:
        return self._client("stepfunctions")
