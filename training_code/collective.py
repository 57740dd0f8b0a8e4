"""XGBoost's collective across the job's hosts: the tracker on the first host, a worker on every host.

Inside ``communicator(cluster)`` xgboost's own training (``Booster.update``, the quantile sketch, the base score)
all-reduces across the hosts, so every host holds the same model. What the hosts must agree on besides (the
class labels, an early-stopping decision) goes through ``union`` and ``broadcast``.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time

import numpy as np

from .cluster import Cluster
from .errors import UserError

log = logging.getLogger("training_code.collective")
#: Seconds the hosts have to find each other (names resolving, the tracker up, every worker connected).
CONNECT_SECONDS = 300
_RETRY = 0.5


def _resolve(host: str, deadline: float) -> str:
    """The host's address; on SageMaker the names ``algo-i`` may resolve only a moment after start."""
    while True:
        try:
            return socket.gethostbyname(host)
        except OSError as exc:
            if time.monotonic() > deadline:
                raise UserError(
                    f"host {host!r} does not resolve ({exc}); the job's hosts reach each other by "
                    "the names in resourceconfig.json"
                ) from None
            time.sleep(_RETRY)


@contextlib.contextmanager
def communicator(cluster: Cluster, connect_seconds: float = CONNECT_SECONDS):
    """Join the job's collective (a no-op on one host)."""
    if cluster.size == 1:
        yield
        return
    from xgboost import collective
    from xgboost.tracker import RabitTracker

    deadline = time.monotonic() + connect_seconds
    name, port = cluster.tracker()
    address = _resolve(name, deadline)
    tracker = None
    if cluster.is_first:
        # sortby task: rank = the host's index in the sorted host list, the same on every host
        tracker = RabitTracker(
            n_workers=cluster.size, host_ip=address, port=port, sortby="task", timeout=int(connect_seconds)
        )
        tracker.start()
    args = {
        "dmlc_tracker_uri": address,
        "dmlc_tracker_port": port,
        "dmlc_task_id": str(cluster.rank),
        "dmlc_timeout": int(connect_seconds),
    }
    context = None
    while context is None:
        try:
            context = collective.CommunicatorContext(**args)
            context.__enter__()
        except Exception as exc:  # the tracker is not up yet: xgboost does not retry a refused connection
            context = None
            if time.monotonic() > deadline:
                raise UserError(
                    f"host {cluster.current_host} could not join the tracker at {address}:{port} "
                    f"within {connect_seconds:g} s ({exc})"
                ) from None
            time.sleep(_RETRY)
    log.info(
        "host %s joined the collective as rank %d of %d",
        cluster.current_host,
        collective.get_rank(),
        collective.get_world_size(),
    )
    try:
        yield
    finally:
        context.__exit__(None, None, None)
        if tracker is not None:
            with contextlib.suppress(Exception):
                tracker.wait_for(timeout=30)
            tracker.free()


def broadcast(value, root: int = 0):
    """``value`` from host ``root`` on every host (itself on one host)."""
    from xgboost import collective

    if not collective.is_distributed():
        return value
    return collective.broadcast(value, root)


def union(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values over every host's ``values`` (each host broadcasts its own in turn)."""
    from xgboost import collective

    if not collective.is_distributed():
        return np.unique(values)
    parts = [collective.broadcast(np.unique(values), rank) for rank in range(collective.get_world_size())]
    return np.unique(np.concatenate(parts))


def total(count: int) -> int:
    """``count`` summed over every host."""
    from xgboost import collective

    if not collective.is_distributed():
        return count
    return int(collective.allreduce(np.array([count], dtype=np.int64), collective.Op.SUM)[0])


def gather(value) -> list:
    """Every host's ``value``, in rank order (``[value]`` on one host)."""
    from xgboost import collective

    if not collective.is_distributed():
        return [value]
    return [collective.broadcast(value, rank) for rank in range(collective.get_world_size())]
