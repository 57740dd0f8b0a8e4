"""How long the processes the local SageMaker starts live.

Jobs (processing, training, a transform job's server) die with the runner that started them: on Linux the
child asks the kernel for a signal when its parent goes (PR_SET_PDEATHSIG, kept across exec), so a runner
killed with SIGKILL takes its jobs along. The signal comes when the *thread* that started the child ends, so
the thread that starts a job must wait for it (jobs.run does). Endpoint servers outlive the runner, as real
endpoints do; they are on record (hosting.py), and `stop` also finds any process whose /opt/ml tree
(SAGEMAKER_BASE_DIR, inherited by whatever it forks) lies under the state directory, records or not.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import psutil

from . import job_zygote

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def die_with_runner(sig: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A `preexec_fn` after which the child gets `sig` when this process (the thread calling Popen) ends.

    None where the kernel offers no such request (not Linux): there jobs end at a clean exit, and `stop` or
    the next run ends what a killed runner left."""
    if _libc is None:
        return None
    prctl = _libc.prctl  # looked up before the fork: the child only calls it
    parent = os.getpid()

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the runner died between fork and prctl: nobody will send the signal
            os.kill(os.getpid(), sig)

    return arm


def fork_registry() -> Path:
    """Where the job fork server (job_zygote.py) keeps a file for each job it forked and that still runs."""
    # the format's version is in the name: a runner of an earlier version on this machine (another checkout)
    # failed on files it did not know, and reads only its own
    return Path(tempfile.gettempdir()) / f"sagemaker-local-forks-2-{os.getuid()}"


def base_dir(process: psutil.Process) -> str | None:
    """The /opt/ml tree of a live process: its SAGEMAKER_BASE_DIR, or for a process forked from the fork
    server (or by such a process), whose environment on record is the fork server's, the tree registered for it."""
    with contextlib.suppress(psutil.Error):
        if process.status() != psutil.STATUS_ZOMBIE:
            return _forked_base_dir(process) or process.environ().get("SAGEMAKER_BASE_DIR")
    return None


def _forked_base_dir(process: psutil.Process) -> str | None:
    try:
        entry = json.loads((fork_registry() / f"{process.pid}.json").read_text())
    except (OSError, ValueError):
        return None
    # the file of a process that has ended names a pid that may be another program's by now
    return entry.get("base_dir") if entry.get("start") == start_ticks(process.pid) else None


def start_ticks(pid: int) -> int | None:
    """When `pid` started, in clock ticks since boot: the value the fork server records for what it forks."""
    return job_zygote.start_ticks(pid)


def is_running(pid: int, directory: str | None = None) -> bool:
    """`pid` is a live process (not a zombie), and, given `directory`, one started in that /opt/ml tree: a
    recorded pid that the system gave to another program since (a reboot) is not ours to stop."""
    try:
        process = psutil.Process(pid)
    except psutil.Error:
        return False
    base = base_dir(process)
    if directory is None:
        with contextlib.suppress(psutil.Error):
            return process.status() != psutil.STATUS_ZOMBIE
        return False
    return base is not None and Path(base) == Path(directory)


def started_under(root: Path) -> list[psutil.Process]:
    """Every live process whose /opt/ml tree is under `root` (this process excepted)."""
    root = Path(root).resolve()
    found = []
    for process in psutil.process_iter():
        if process.pid == os.getpid():
            continue
        base = base_dir(process)
        if base is not None and Path(base).is_relative_to(root):
            found.append(process)
    return found


def terminate(processes: list[psutil.Process], grace: float = 5.0) -> list[int]:
    """SIGTERM (and SIGCONT, for a stopped one), then SIGKILL after `grace` seconds; the pids that were ended."""
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.terminate()
            process.resume()
    _, alive = psutil.wait_procs(processes, timeout=grace)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(alive, timeout=grace)
    return [process.pid for process in processes]
