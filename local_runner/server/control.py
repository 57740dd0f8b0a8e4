"""`up`, `down` and `status`: the local cloud in the background, found again through its record in `.local/`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..pipeline import REPO_ROOT
from ..template import REGION
from . import state
from .front import HEALTH_PATH

START_TIMEOUT = 900  # a first start synthesizes the stages (cdk synth) before it serves
STOP_TIMEOUT = 120  # jobs in flight stop, the endpoints stop, the state is written


def healthy(url: str, timeout: float = 2.0) -> dict | None:
    try:
        with urllib.request.urlopen(url + HEALTH_PATH, timeout=timeout) as answer:
            return json.loads(answer.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None


def hints(url: str) -> str:
    return "\n".join(
        (
            f"The local cloud serves the AWS APIs at {url}",
            "Point the AWS CLI, boto3 or the SageMaker SDK at it (any credentials do; the region is fixed):",
            f"  export AWS_ENDPOINT_URL={url}",
            "  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing",
            f"  export AWS_DEFAULT_REGION={REGION}",
            "  aws stepfunctions list-state-machines",
            "Stop it (the state stays in .local/) with: make down",
        )
    )


def up(state_dir: Path, port: int, serve_args: list[str]) -> int:
    running = state.read(state_dir)
    if running is not None:
        print(f"The local cloud is already up (pid {running['pid']}, environments {', '.join(running['envs'])}).")
        print(hints(running["url"]))
        return 0
    url = f"http://127.0.0.1:{port}"
    if healthy(url, timeout=1.0) is not None:
        print(
            f"error: a local cloud of another state directory already answers at {url}: stop it, or pick "
            f"another port with make up PORT={port + 1}",
            file=sys.stderr,
        )
        return 1
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / state.LOG
    command = [
        sys.executable,
        "-m",
        "local_runner.server",
        "serve",
        "--state-dir",
        str(state_dir),
        "--port",
        str(port),
        *serve_args,
    ]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(  # its own session: it outlives this command and the terminal's ^C
            command,
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    print(f"Starting the local cloud (pid {process.pid}; log: {log_path}) …", flush=True)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace").splitlines()[-15:]
            print(
                f"error: the local cloud exited ({process.returncode}) before it served:\n" + "\n".join(tail),
                file=sys.stderr,
            )
            return 1
        if state.read(state_dir) is not None and healthy(url) is not None:
            print(hints(url))
            return 0
        time.sleep(0.5)
    print(f"error: the local cloud did not answer within {START_TIMEOUT} s; see {log_path}", file=sys.stderr)
    return 1


def down(state_dir: Path) -> int:
    running = state.read(state_dir)
    if running is None:
        print("The local cloud is not running.")
        return 0
    pid, start = running["pid"], running.get("start")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while state.alive(pid, start) and time.monotonic() < deadline:
        time.sleep(0.2)
    if state.alive(pid, start):
        print(
            f"error: the local cloud (pid {pid}) is still stopping after {STOP_TIMEOUT} s; see {state_dir / state.LOG}",
            file=sys.stderr,
        )
        return 1
    print(f"Stopped the local cloud (pid {pid}); its state stays in {state_dir / 'runner'}: make up serves it again.")
    return 0


def status(state_dir: Path) -> int:
    running = state.read(state_dir)
    if running is None:
        print("The local cloud is not running: make up")
        return 1
    answer = healthy(running["url"])
    print(json.dumps(answer or {"status": "starting", **running}, indent=1))
    return 0
