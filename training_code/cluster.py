"""The hosts of a training job and how they reach each other (stdlib only until the collective starts).

SageMaker writes ``/opt/ml/input/config/resourceconfig.json`` with ``current_host`` (``algo-1`` ...) and ``hosts``;
the hosts reach each other by those names, so on AWS the tracker listens on the first host's name at
``TRACKER_PORT``. SageMaker sets no address map; the local runner, whose hosts all live on loopback, sets
``TRAINING_HOST_ADDRESSES`` (a JSON object of host name to ``"address:port"``) and the container reads it the same
way on both: the tracker's address is the first host's entry, or ``<first host>:TRACKER_PORT`` when unset.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UserError

#: The port SageMaker's XGBoost container gives its tracker (distributed.py); any free port would do on AWS.
TRACKER_PORT = 9099
ADDRESSES_ENV = "TRAINING_HOST_ADDRESSES"


@dataclass(frozen=True)
class Cluster:
    current_host: str = "algo-1"
    hosts: tuple[str, ...] = ("algo-1",)
    addresses: dict[str, str] = field(default_factory=dict)
    #: resourceconfig.json's current_instance_type (SageMaker writes it), for the instance's memory
    instance_type: str | None = None

    @property
    def size(self) -> int:
        return len(self.hosts)

    @property
    def rank(self) -> int:
        return self.hosts.index(self.current_host)

    @property
    def is_first(self) -> bool:
        return self.rank == 0

    def tracker(self) -> tuple[str, int]:
        """(address, port) the first host's tracker listens on and every worker connects to."""
        first = self.hosts[0]
        entry = self.addresses.get(first, f"{first}:{TRACKER_PORT}")
        host, _, port = entry.rpartition(":")
        if not host or not port.isdigit():
            raise UserError(f"{ADDRESSES_ENV}[{first!r}] is {entry!r}; expected 'address:port', e.g. '127.0.0.1:9099'")
        return host, int(port)


def _strings(value, source: str, what: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise UserError(f'{source}: {what} must be a non-empty list of host names such as ["algo-1", "algo-2"]')
    return value


def read(config_dir: Path) -> Cluster:
    """The job's hosts from ``resourceconfig.json`` (else ``SM_HOSTS``/``SM_CURRENT_HOST``; else one host)."""
    path = config_dir / "resourceconfig.json"
    if path.is_file():
        source = str(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise UserError(f"{source} is not valid JSON ({exc})") from None
        if not isinstance(raw, dict):
            raise UserError(f"{source} must be a JSON object with current_host and hosts")
        hosts, current = raw.get("hosts", ["algo-1"]), raw.get("current_host", "algo-1")
        instance_type = raw.get("current_instance_type")
    elif os.environ.get("SM_HOSTS"):
        source = "SM_HOSTS"
        try:
            hosts = json.loads(os.environ["SM_HOSTS"])
        except ValueError:
            raise UserError('SM_HOSTS must be a JSON list of host names such as ["algo-1", "algo-2"]') from None
        current = os.environ.get("SM_CURRENT_HOST", "algo-1")
        instance_type = os.environ.get("SM_CURRENT_INSTANCE_TYPE")
    else:
        return Cluster()
    hosts = _strings(hosts, source, "hosts")
    if current not in hosts:
        raise UserError(f"{source}: current_host {current!r} is not one of hosts {hosts}")
    # SageMaker's XGBoost container sorts the hosts, so rank 0 (the tracker) is the same on every host
    return Cluster(current, tuple(sorted(hosts)), _addresses(), instance_type)


def _addresses() -> dict[str, str]:
    raw = os.environ.get(ADDRESSES_ENV)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise UserError(
            f'{ADDRESSES_ENV} must be a JSON object of host name to "address:port", e.g. {{"algo-1": "127.0.0.1:9099"}}'
        )
    return value


def refuse_single_host_only(algorithm: str, hosts: int) -> None:
    """More than one host for an algorithm without a distributed engine would train N models and pay for N."""
    from .catalog import single_instance_refusal

    reason = single_instance_refusal(algorithm, hosts)
    if reason:
        raise UserError(reason)
