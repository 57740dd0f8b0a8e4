"""The clients moto's Step Functions interpreter calls services with, made once per process.

moto's interpreter builds a boto3 client (`boto_client_for`) for every task state it runs; building one costs
as much as many calls, and a client holds nothing of a run (moto's stubber and the router's hooks are
process-wide). `install` puts a caching `boto_client_for` in each interpreter module that imported moto's.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any

from moto.core.models import botocore_stubber
from moto.stepfunctions.parser.asl.component.state.exec.state_task.credentials import StateCredentials
from moto.stepfunctions.parser.asl.utils import boto_client as moto_boto_client

_MAKE = moto_boto_client.boto_client_for


@functools.cache
def _cached(region: str, service: str, access_key: str | None, intercepting: bool, role_arn: str | None) -> Any:
    credentials = None if role_arn is None else StateCredentials(role_arn=role_arn)
    return _MAKE(region=region, service=service, state_credentials=credentials)


def boto_client_for(region: str, service: str, state_credentials: StateCredentials | None = None) -> Any:
    # the key holds what a client is built from: the mock's credentials, whether moto intercepts calls, and
    # the role the state acts as (moto passes the execution role's for every aws-sdk task)
    role_arn = None if state_credentials is None else state_credentials.role_arn
    return _cached(region, service, os.environ.get("AWS_ACCESS_KEY_ID"), botocore_stubber.enabled, role_arn)


def install() -> None:
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "boto_client_for", None) is _MAKE:
            module.boto_client_for = boto_client_for
