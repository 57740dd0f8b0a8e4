"""Endpoint deployments: the real `serve` entry point on a free local port.

A server runs in its own session (its workers in its process group). An endpoint's server outlives the runner;
a transform job's dies with it (lifetime.py). `on_spawn` hears of the process before it is healthy, so that the
caller records it before anything can end the runner: a server nobody recorded is one `stop` must search for.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from .. import s3
from . import job_forks, job_zygote, lifetime, port_claims
from .jobs import fresh_dir

PING_TIMEOUT = 60.0


class DeploymentError(Exception):
    pass


@dataclass
class Deployment:
    pid: int
    port: int
    directory: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def to_dict(self) -> dict:
        return {"pid": self.pid, "port": self.port, "directory": self.directory}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")
_STABLE_FLOOR = 20000  # above the well-known and most registered services' ports


def stable_port(taken: Collection[int] = (), *, owner: port_claims.Owner | None = None) -> int:
    """A free port for an endpoint's URL, kept for as long as the endpoint exists: below the kernel's
    ephemeral range, which bind(0) and outgoing connections of every process draw from, so no other process
    is handed it while the endpoint's front is down (between runs, during a restart). `taken`: the ports other
    endpoints have recorded, free to bind until their fronts start. Given an `owner` (the cloud's store), the
    port is claimed for it, and ports other processes' clouds have claimed are skipped (port_claims.py)."""
    try:
        low = int(_EPHEMERAL.read_text().split()[0])
    except (OSError, ValueError, IndexError):  # not Linux: IANA's dynamic range starts at 49152
        low = 49152
    candidates = [port for port in range(_STABLE_FLOOR, max(_STABLE_FLOOR + 1, low)) if port not in taken]
    random.shuffle(candidates)
    for port in candidates[:200]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        if owner is None or port_claims.claim(port, owner):  # False: another process's cloud holds it
            return port
    return free_port()  # every probed port taken: an ephemeral one still works, if less stably


def alive(pid: int, directory: str | None = None) -> bool:
    """A live process (a zombie is not), started in `directory` when that is given (see lifetime.is_running)."""
    with contextlib.suppress(ChildProcessError):  # reap it if it is a child of this process that ended
        os.waitpid(pid, os.WNOHANG)
    return lifetime.is_running(pid, directory)


# One client for every call to a local server: `httpx.get` makes a client per call, and each client loads
# the CA bundle into an SSL context (38 ms of CPU, against 0.3 ms a call on a shared one), and a server that
# starts is pinged every 0.1 s. No kept-alive connections: a server on the same port may be a new one.
HTTP = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0))


def ping(port: int, timeout: float = 2.0) -> bool:
    try:
        return HTTP.get(f"http://127.0.0.1:{port}/ping", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def stop(deployment: dict | None) -> None:
    if not deployment:
        return
    pid, directory = deployment.get("pid"), deployment.get("directory")
    if pid and alive(pid, directory):  # a recorded pid that now names another program is left alone
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGTERM)
            os.killpg(pid, signal.SIGCONT)  # a stopped server handles its SIGTERM now
        # the whole group: a worker that outlives its leader still holds the port the next server binds
        if not _group_gone(pid, within=5):
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            _group_gone(pid, within=5)


def _popen(command: list[str], cwd: Path, env: dict[str, str], log: Path, death_signal: int | None):
    with open(log, "wb") as out:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=None if death_signal is None else lifetime.die_with_runner(death_signal),
        )


def _group_gone(leader: int, *, within: float) -> bool:
    deadline = time.monotonic() + within
    while _group_alive(leader):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _group_alive(leader: int) -> bool:
    """A live process is left in the group `leader` started (its own session): a zombie has closed its sockets."""
    alive(leader)  # reaps the leader if it is this process's child
    return any(_in_group(process, leader) for process in psutil.process_iter())


def _in_group(process: psutil.Process, group: int) -> bool:
    with contextlib.suppress(psutil.Error, OSError):
        return process.status() != psutil.STATUS_ZOMBIE and os.getpgid(process.pid) == group
    return False


def discard(deployment: dict | None) -> None:
    """Stop a fleet and remove its directory (its model and log)."""
    stop(deployment)
    if deployment and deployment.get("directory"):
        shutil.rmtree(deployment["directory"], ignore_errors=True)


def extract_model(model_data_url: str, target: Path) -> None:
    archive = target.parent / "model.tar.gz"
    bucket, key = s3.split_uri(model_data_url)
    try:
        body = s3.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as error:
        raise DeploymentError(f"Failed to download model data from {model_data_url}: {error}") from None
    archive.write_bytes(body)
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")


def start(
    directory: Path,
    model_data_url: str | None,
    environment: dict[str, str],
    cwd: Path,
    port: int | None = None,
    *,
    outlive_runner: bool = False,
    on_spawn: Callable[[Deployment], None] | None = None,
) -> Deployment:
    """Start `python -m training_code serve` and wait until /ping answers 200. `outlive_runner`: an endpoint's
    server, which keeps serving after the runner exits; otherwise it gets SIGTERM when the runner ends."""
    fresh_dir(directory)
    if model_data_url:
        extract_model(model_data_url, directory / "model")
    else:
        (directory / "model").mkdir()
    port = port or free_port()
    env = job_forks.machine_environment()
    env.update(environment or {})
    for variable in job_zygote.THREAD_VARIABLES:
        # what `serve` itself sets, unless the model's environment did (training_code/serving.py): a forked
        # server's math libraries are loaded already, so the fork server applies these from its request
        env.setdefault(variable, "1")
    env.update(
        {
            "SAGEMAKER_BASE_DIR": str(directory),
            "SAGEMAKER_BIND_TO_PORT": str(port),
            "SAGEMAKER_BIND_HOST": "127.0.0.1",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(cwd) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""),
        }
    )
    command = [sys.executable, "-m", "training_code", "serve"]
    death_signal = None if outlive_runner else signal.SIGTERM
    # its own session and process group: stop() ends its workers with it
    popen = job_forks.spawn(
        command, cwd=cwd, env=env, log_path=directory / "serve.log", new_session=True, death_signal=death_signal
    ) or _popen(command, cwd, env, directory / "serve.log", death_signal)
    deployment = Deployment(popen.pid, port, str(directory))
    if on_spawn is not None:
        try:
            on_spawn(deployment)
        except BaseException:
            stop(deployment.to_dict())
            raise
    deadline = time.monotonic() + PING_TIMEOUT
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            tail = " | ".join((directory / "serve.log").read_text(errors="replace").strip().splitlines()[-3:])
            raise DeploymentError(
                f"The primary container for production variant exited with code {popen.returncode}: {tail}"[:1024]
            )
        if ping(port, timeout=1.0):
            return deployment
        time.sleep(0.1)
    stop(deployment.to_dict())
    raise DeploymentError("The primary container did not pass the ping health check within the time limit.")
