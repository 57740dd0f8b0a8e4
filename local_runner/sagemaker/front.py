"""An endpoint's stable address: a small reverse proxy on the port recorded with the endpoint.

Fleets come and go on free ports (a blue/green update starts the new fleet beside the serving one), but a
client holds one URL. The front listens on the endpoint's port for as long as the endpoint exists and
forwards every request to the fleet named in its route file, read for each request: switching fleets
is one atomic file write, with no moment when nothing listens. Granian serves it, as it serves the model;
like a model server, it outlives the runner and has a SAGEMAKER_BASE_DIR, so `stop` finds it (lifetime.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from . import endpoints
from .front_server import ROUTE_FILE

#: The server itself, run as a script: importing local_runner (moto and all) would take seconds per start.
_SERVER = Path(__file__).with_name("front_server.py")


def write_route(directory: str | Path, url: str) -> None:
    """Point the front at the fleet serving `url` (atomic: the front reads the old route or the new one)."""
    path = Path(directory) / ROUTE_FILE
    tmp = path.with_name(f".{ROUTE_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"url": url}))
    os.replace(tmp, path)


def check_free(port: int, endpoint: str) -> None:
    """The recorded port must be free to bind: never silently move an endpoint to another URL."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as error:
            raise endpoints.DeploymentError(
                f"Port {port}, the port of endpoint {endpoint}'s URL http://127.0.0.1:{port}, is in use by another "
                f"process ({error.strerror}: {_holders(port)}). Free it: `make stop` (python -m local_runner stop) "
                f"stops this runner's endpoints; otherwise find the process with `ss -ltnp 'sport = :{port}'` and "
                "end it. "
                "Or delete the endpoint, and a new one gets a new port."
            ) from None


def _holders(port: int) -> str:
    """Who holds `port` now, as the kernel's socket table says: processes, or connections still closing."""
    with contextlib.suppress(psutil.Error, OSError):
        found = []
        for connection in psutil.net_connections("tcp"):
            if not connection.laddr or connection.laddr.port != port:
                continue
            state = "listening" if connection.status == psutil.CONN_LISTEN else connection.status
            if connection.pid is None:
                found.append(f"a connection in {state} that no process owns")
                continue
            try:
                command = " ".join(" ".join(psutil.Process(connection.pid).cmdline()).split())[:80]
            except psutil.Error:
                command = "it has ended since"
            found.append(f"held by pid {connection.pid} ({command}), {state}")
        if found:
            return "; ".join(list(dict.fromkeys(found))[:3])  # the first few, once each: the reason is bounded
    return "no holder in the socket table"


def start(
    directory: Path, port: int, url: str, endpoint: str, on_spawn: Callable[[endpoints.Deployment], None]
) -> endpoints.Deployment:
    """Start the front on `port`, routed to `url`, and wait until /ping answers through it. `on_spawn` records
    the process as soon as it exists, as endpoints.start does for a fleet: a killed runner leaves it on record."""
    check_free(port, endpoint)
    directory.mkdir(parents=True, exist_ok=True)
    write_route(directory, url)
    env = dict(os.environ)
    env.update(
        {
            "SAGEMAKER_BASE_DIR": str(directory),  # how `stop` recognises the process as this runner's
            "ENDPOINT_FRONT_PORT": str(port),
            "ENDPOINT_FRONT_ROUTE": str(directory / ROUTE_FILE),
            "PYTHONPATH": str(_SERVER.parent),  # Granian's workers import the server as `front_server`
        }
    )
    with open(directory / "front.log", "wb") as log:
        popen = subprocess.Popen(
            [sys.executable, str(_SERVER)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives the runner, as the endpoint's servers do
        )
    front = endpoints.Deployment(popen.pid, port, str(directory))
    on_spawn(front)
    deadline = time.monotonic() + endpoints.PING_TIMEOUT
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            tail = " | ".join((directory / "front.log").read_text(errors="replace").strip().splitlines()[-3:])
            raise endpoints.DeploymentError(f"The endpoint's front on port {port} exited: {tail}"[:1024])
        if endpoints.ping(port, timeout=1.0):
            return front
        time.sleep(0.05)
    endpoints.stop(front.to_dict())
    raise endpoints.DeploymentError(f"The endpoint's front on port {port} did not answer /ping in time.")
