"""boto3 sessions that share one botocore loader, so a service's model files are read once per process, and
the local clouds' clients, made once per process.

moto resets boto3's default session whenever a mock starts, and every new session read and parsed the JSON
models of each service it made a client for again: about 0.14 s of CPU for six services, in every local cloud
and every client of one. The loader only reads files that do not change while the process runs.
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Any

import boto3
import botocore.loaders
import botocore.session


@functools.cache
def _loader() -> botocore.loaders.Loader:
    # the loader a plain session would make (it honours AWS_DATA_PATH), made once
    return botocore.session.Session().get_component("data_loader")


def session(region_name: str | None = None) -> boto3.Session:
    core = botocore.session.Session()
    core.register_component("data_loader", _loader())
    return boto3.Session(botocore_session=core, region_name=region_name)


def install_default() -> None:
    """Make boto3's default session (which moto has just reset) one that shares the loader."""
    boto3.DEFAULT_SESSION = session()


_clients: dict[tuple[str, str, str | None], Any] = {}
_clients_lock = threading.Lock()


def shared_client(service: str, region: str) -> Any:
    """One client per service, region and credentials for the whole process.

    Building a client (its class, its handlers, its endpoint rules) costs as much as many calls. A client holds
    nothing of a cloud: moto's stubber and the router's hooks are process-wide and answer for whichever cloud is
    started, so a later cloud reuses an earlier one's clients. Clients are thread-safe.
    """
    key = (service, region, os.environ.get("AWS_ACCESS_KEY_ID"))  # the mock's credentials, or the real ones
    with _clients_lock:
        if key not in _clients:
            _clients[key] = boto3.client(service, region_name=region)
        return _clients[key]
