"""The hosts of a local multi-instance job: their names, /opt/ml trees, resourceconfig.json and addresses.

SageMaker names a job's instances algo-1..N and they reach each other by those names. Locally every host is a
process on this machine, so the runner also tells the container where each host listens on loopback through
TRAINING_HOST_ADDRESSES (training_code/cluster.py reads it; on AWS it is unset and the names resolve).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

#: The environment variable training_code/cluster.py reads: host name -> "address:port".
ADDRESSES_ENV = "TRAINING_HOST_ADDRESSES"


def names(count: int) -> list[str]:
    return [f"algo-{index}" for index in range(1, count + 1)]


def instance_count(resources: dict | None) -> int:
    """InstanceCount of a ResourceConfig / ClusterConfig (1 when absent)."""
    return int((resources or {}).get("InstanceCount", 1) or 1)


def tree(base: Path, index: int) -> Path:
    """Host `index`'s /opt/ml: the first host's is the job's own tree (where the model, output and log are
    collected, as for one host); the others' lie inside it, under `hosts/`, so removing the job removes them."""
    return base if index == 0 else base / "hosts" / names(index + 1)[-1]


def resource_config(host: str, hosts: list[str], instance_type: str | None = None) -> dict:
    """What SageMaker writes: the hosts, and (its instance group's fields) the instance type."""
    config = {"current_host": host, "hosts": hosts, "network_interface_name": "eth0"}
    if instance_type:
        config.update(
            current_instance_type=instance_type,
            current_group_name="homogeneousCluster",
            instance_groups=[
                {"instance_group_name": "homogeneousCluster", "instance_type": instance_type, "hosts": hosts}
            ],
        )
    return config


def write_resource_config(path: Path, host: str, hosts: list[str], instance_type: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(resource_config(host, hosts, instance_type)))


def loopback_addresses(hosts: list[str]) -> dict[str, str]:
    """Each host on 127.0.0.1 with a port free now (the first host's tracker binds it a moment later)."""
    ports = []
    sockets = []
    try:
        for _ in hosts:  # held open together, so the ports differ
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
            ports.append(sock.getsockname()[1])
    finally:
        for sock in sockets:
            sock.close()
    return {host: f"127.0.0.1:{port}" for host, port in zip(hosts, ports, strict=True)}
