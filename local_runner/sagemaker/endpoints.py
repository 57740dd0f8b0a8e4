"""Endpoint deployments: the real `serve` entry point on a free local port."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from .. import s3
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


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie child of this process is not alive
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def ping(port: int, timeout: float = 2.0) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/ping", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def stop(deployment: dict | None) -> None:
    if not deployment:
        return
    pid = deployment.get("pid")
    if pid and alive(pid):
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if alive(pid):
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)


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
) -> Deployment:
    """Start `python -m training_code serve` and wait until /ping answers 200."""
    fresh_dir(directory)
    if model_data_url:
        extract_model(model_data_url, directory / "model")
    else:
        (directory / "model").mkdir()
    port = port or free_port()
    env = dict(os.environ)  # `serve` itself pins math threads per worker (see training_code/serving.py)
    env.update(environment or {})
    env.update(
        {
            "SAGEMAKER_BASE_DIR": str(directory),
            "SAGEMAKER_BIND_TO_PORT": str(port),
            "SAGEMAKER_BIND_HOST": "127.0.0.1",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(cwd) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""),
        }
    )
    log = open(directory / "serve.log", "wb")  # noqa: SIM115 - kept open by the child
    popen = subprocess.Popen(
        [sys.executable, "-m", "training_code", "serve"],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the endpoint outlives this run, like a real one
    )
    log.close()
    deployment = Deployment(popen.pid, port, str(directory))
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
