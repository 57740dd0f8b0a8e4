"""Start a Python job or server as a fork of the job fork server (job_zygote.py), with the interface of a `Popen`.

One fork server per runner process, started at its first job and again if it ended. Only on Linux, and only
for `python -m module ...` or `python script.py ...`: elsewhere `spawn` returns None and the job is an `exec`
of its command, as before. `LOCAL_SAGEMAKER_FORK=0` turns forking off (every job is then a fresh interpreter).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from . import lifetime

#: Local jobs share this machine's cores: the parallel jobs of a tuning job, the hosts of a multi-instance job,
#: the runner. By default a waiting OpenMP thread spins on its core before it sleeps, and xgboost's threads
#: wait at every barrier of every tree: on a shared machine the spinning takes the cores the other jobs need
#: (a 2-instance tuned run used 2.1x the CPU). On AWS each host has its own instance. The OpenMP runtime reads
#: this when it loads, so the fork server, which loads it for every job, starts with it.
SHARED_MACHINE = {"OMP_WAIT_POLICY": "PASSIVE"}


def machine_environment() -> dict[str, str]:
    """The runner's environment, for a job or a server, with the settings of a shared machine; a value the
    user set wins."""
    return {**SHARED_MACHINE, **os.environ}


_ZYGOTE = Path(__file__).with_name("job_zygote.py")
_lock = threading.Lock()
_server: _ForkServer | None = None


class ForkedProcess:
    """A forked job: what `jobs.run`, StopJob and a multi-host job use of a `subprocess.Popen`."""

    def __init__(self, pid: int, channel: socket.socket):
        self.pid = pid
        self.returncode: int | None = None
        self._channel = channel
        self._lock = threading.Lock()

    def poll(self) -> int | None:
        return self._read(0.0)

    def wait(self, timeout: float | None = None) -> int:
        code = self._read(timeout)
        if code is None:
            raise subprocess.TimeoutExpired(f"job {self.pid}", timeout or 0.0)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:  # a reaped pid may belong to another process by now
            with contextlib.suppress(ProcessLookupError):  # ended, and not yet reported
                os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def _read(self, timeout: float | None) -> int | None:
        # several threads ask (the one that waits, a watcher that polls): none holds the lock while it waits
        if self.returncode is None and select.select([self._channel], [], [], timeout)[0]:
            with self._lock:
                if self.returncode is None:
                    message = self._channel.recv(4096)  # readable: at once (b"" at EOF)
                    # EOF without a code: the fork server ended, and the kernel ended its jobs with SIGKILL
                    self.returncode = json.loads(message)["returncode"] if message else -signal.SIGKILL
        return self.returncode

    def __del__(self) -> None:
        self._channel.close()  # not before: another thread may still be selecting on it


class _ForkServer:
    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {key: value for key, value in machine_environment().items() if key != "PYTHONPATH"}
        registry = lifetime.fork_registry()
        registry.mkdir(mode=0o700, exist_ok=True)
        _prune(registry)
        with theirs:
            self.popen = subprocess.Popen(
                [sys.executable, str(_ZYGOTE), str(theirs.fileno()), str(registry)],
                pass_fds=[theirs.fileno()],
                env=env,
                cwd="/",
                stdin=subprocess.DEVNULL,
            )
        self.control = ours
        self.lock = threading.Lock()

    def alive(self) -> bool:
        return self.popen.poll() is None

    def fork(self, argv: list[str], cwd: Path, env: dict[str, str], log_path: Path, **options) -> ForkedProcess:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        request = json.dumps({"argv": argv, "cwd": str(cwd), "env": env, "log": str(log_path), **options}).encode()
        with theirs, self.lock:
            socket.send_fds(self.control, [request], [theirs.fileno()])
        reply = ours.recv(4096)
        if not reply:
            ours.close()
            raise OSError("the job fork server ended before it forked the job")
        return ForkedProcess(json.loads(reply)["pid"], ours)


def _prune(registry: Path) -> None:
    """Remove the files of processes that have ended: a job of a fork server that was killed, a server that
    outlived its fork server, a worker of a server."""
    for entry in registry.glob("*.json"):
        with contextlib.suppress(OSError, ValueError):
            if lifetime.start_ticks(int(entry.stem)) != json.loads(entry.read_text()).get("start"):
                entry.unlink()


def python_arguments(cmd: list[str]) -> list[str] | None:
    """`[python, -m, module, ...]` or `[python, script.py, ...]` -> what follows the interpreter; else None."""
    if len(cmd) < 2 or cmd[0] != sys.executable:
        return None
    if cmd[1] == "-m" and len(cmd) > 2:
        return cmd[1:]
    if not cmd[1].startswith("-") and cmd[1].endswith(".py"):
        return cmd[1:]
    return None


def enabled() -> bool:
    return sys.platform.startswith("linux") and os.environ.get("LOCAL_SAGEMAKER_FORK", "1") != "0"


def spawn(
    cmd: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    log_path: Path,
    new_session: bool = False,
    death_signal: int | None = signal.SIGKILL,
) -> ForkedProcess | None:
    """The job forked from the fork server; None when it must be an `exec` (not Linux, not Python, or off).
    `new_session`: the job leads a session and process group of its own (`start_new_session`). `death_signal`:
    what the job gets when the runner goes (lifetime.die_with_runner); None: it outlives the runner."""
    argv = python_arguments(cmd)
    if argv is None or not enabled():
        return None
    return _started().fork(argv, cwd, env, log_path, session=new_session, death_signal=int(death_signal or 0))


def warm() -> None:
    """Start the fork server now, when jobs will follow: it imports the container's libraries (about 2 s) while
    the caller goes on, instead of while the first job waits. No-op when jobs are not forked."""
    if enabled():
        _started()


def _started() -> _ForkServer:
    global _server
    with _lock:
        if _server is None or not _server.alive():
            _server = _ForkServer()
        return _server
