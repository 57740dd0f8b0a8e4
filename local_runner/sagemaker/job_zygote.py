"""The fork server of the local jobs: a Python that imported the container's libraries once and forks a job.

A processing, training or evaluation job, or an endpoint's server, is `python -m training_code <command>` in a
fresh container. Most of the CPU of a small job is its imports: scikit-learn, pandas and xgboost take about
2.3 s of a 2.9 s ridge job, and a tuned run starts dozens of jobs. This process imports them once; each job
is a fork of it that then becomes the job: its environment, working directory, `sys.path`, argv and log, and
the interpreter's own exit (non-daemon threads joined, atexit handlers, its exit code or the signal that ended
it).

Run as a script (`python job_zygote.py FD REGISTRY`; the runner imports it for its constants and
`start_ticks`): it is stdlib-only, so that a fork carries no state of the runner. FD is a SOCK_SEQPACKET
socket to the runner (job_forks.py). Each request is one JSON packet with one socket attached, on which the
job's pid and, later, its exit code are sent. EOF on FD (the runner ended, however it ended) ends this
process, and each job it forked gets its death signal (PR_SET_PDEATHSIG: SIGKILL for a job, SIGTERM for a
transform job's server), as a job started by the runner itself does.

A request may also ask for a session of the job's own (an endpoint's server, whose workers `stop` ends by
process group) and for no death signal (a server that outlives the runner, as a real endpoint does).

A fork starts with the environment of this process, which is what /proc shows of it, so `stop` cannot read a
forked job's SAGEMAKER_BASE_DIR there. REGISTRY is a directory where each live job has a file, `<pid>.json`:
its /opt/ml tree and its start time in clock ticks, which tells it from a later process with the same pid
(lifetime.base_dir reads it). A process a job forks (a server's Granian workers) registers itself the same
way, at the fork. A file whose process has gone is stale, never wrong; the next fork server removes it.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import os
import selectors
import signal
import socket
import sys

# The third-party modules the container's entry points import; one that is missing is skipped.
PRELOAD = (
    "numpy",
    "pandas",
    "pyarrow",
    "scipy.sparse",
    "scipy.stats",
    "sklearn.base",
    "sklearn.ensemble",
    "sklearn.impute",
    "sklearn.linear_model",
    "sklearn.metrics",
    "sklearn.model_selection",
    "xgboost",
    "matplotlib",
    "threadpoolctl",
    "granian",  # an endpoint's server
    "orjson",
)
#: the math libraries read these when they load: in a fork they are applied with threadpoolctl instead
THREAD_VARIABLES = {"OMP_NUM_THREADS": "openmp", "OPENBLAS_NUM_THREADS": "blas", "MKL_NUM_THREADS": "blas"}
_PR_SET_PDEATHSIG = 1
_MAX_REQUEST = 1 << 20


def preload() -> None:
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            __import__(name)


def serve(control: socket.socket, registry: str) -> dict:
    """Fork a job for each request until the runner goes. Returns only in a fork: the job's request."""
    jobs: dict[int, socket.socket] = {}
    wakeup_read, wakeup_write = socket.socketpair()
    wakeup_read.setblocking(False)
    wakeup_write.setblocking(False)
    signal.set_wakeup_fd(wakeup_write.fileno())
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so that SIGCHLD writes to the wakeup fd
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wakeup_read, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj is wakeup_read:
                with contextlib.suppress(BlockingIOError):
                    while wakeup_read.recv(4096):
                        pass
                continue  # the exits are reported after the loop
            message, fds, _, _ = socket.recv_fds(control, _MAX_REQUEST, 1)
            if not message:  # the runner is gone; so are its jobs, at their death signal, when this process ends
                sys.exit(0)  # their files stay until they are pruned: a job may still be ending, a server outlives it
            reply = socket.socket(fileno=fds[0])
            request = json.loads(message)
            pid = os.fork()
            if pid == 0:
                for held in (control, wakeup_read, wakeup_write, reply, *jobs.values()):
                    held.close()
                selector.close()
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                return request
            jobs[pid] = reply
            _register(registry, pid, request["env"].get("SAGEMAKER_BASE_DIR"))  # before anyone gets its pid
            with contextlib.suppress(OSError):
                reply.send(json.dumps({"pid": pid}).encode())
        _report_exits(jobs, registry)


def _register(registry: str, pid: int, base_dir: str | None) -> None:
    entry = os.path.join(registry, f"{pid}.json")
    with open(f"{entry}.{os.getpid()}.tmp", "w") as file:
        json.dump({"base_dir": base_dir, "start": start_ticks(pid)}, file)
    os.replace(f"{entry}.{os.getpid()}.tmp", entry)


def start_ticks(pid: int) -> int | None:
    """When `pid` started, in clock ticks since boot (/proc/<pid>/stat, field 22): with the pid, it names one
    process (lifetime.py asks this function too)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return int(stat.read().rsplit(b")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _report_exits(jobs: dict[int, socket.socket], registry: str) -> None:
    while jobs:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(registry, f"{pid}.json"))
        reply = jobs.pop(pid, None)
        if reply is not None:
            with contextlib.suppress(OSError):
                reply.send(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}).encode())
            reply.close()


def become(request: dict, base_path: list[str], zygote_pid: int, registry: str) -> None:
    """In the fork: take on the job's process state, as `exec` of its command would have set it."""
    if request.get("session"):
        os.setsid()
    if request.get("death_signal"):
        _die_with(zygote_pid, request["death_signal"])
    # what the job forks inherits this process's /proc environment too: it registers its own tree at the fork
    os.register_at_fork(after_in_child=lambda: _register(registry, os.getpid(), os.environ.get("SAGEMAKER_BASE_DIR")))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    env = request["env"]
    os.environ.clear()
    os.environ.update(env)
    os.chdir(request["cwd"])
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    unbuffered = bool(env.get("PYTHONUNBUFFERED"))
    encoding = sys.stdout.encoding  # the locale's: this process started with the runner's
    sys.stdout = sys.__stdout__ = _text_stream(1, encoding, "strict", unbuffered)
    sys.stderr = sys.__stderr__ = _text_stream(2, encoding, "backslashreplace", True)
    argv = request["argv"]
    first = os.getcwd() if argv[0] == "-m" else os.path.dirname(os.path.realpath(argv[0]))
    python_path = [entry for entry in env.get("PYTHONPATH", "").split(os.pathsep) if entry]
    sys.path[:] = [first, *python_path, *base_path]
    _apply_thread_limits(env)
    _reseed()


def run(argv: list[str]) -> None:
    """`python -m module args` or `python script.py args`; the interpreter's exit follows, as for a command."""
    import runpy

    if argv[0] == "-m":
        sys.argv = [argv[1], *argv[2:]]  # runpy sets sys.argv[0] to the module's file
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = list(argv)
        runpy.run_path(argv[0], run_name="__main__")


def _text_stream(fd: int, encoding: str, errors: str, write_through: bool) -> io.TextIOWrapper:
    raw = open(fd, "wb", buffering=0, closefd=False)  # noqa: SIM115 - the stream lives as long as the job
    return io.TextIOWrapper(
        io.BufferedWriter(raw), encoding=encoding, errors=errors, line_buffering=True, write_through=write_through
    )


def _die_with(zygote_pid: int, sig: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
    if os.getppid() != zygote_pid:  # the fork server ended between the fork and prctl
        os.kill(os.getpid(), sig)


def _apply_thread_limits(env: dict[str, str]) -> None:
    """A fresh process would read these when numpy's BLAS and xgboost's OpenMP load; here they already have."""
    limits: dict[str, int] = {}
    for variable, api in THREAD_VARIABLES.items():
        with contextlib.suppress(KeyError, ValueError):
            limits.setdefault(api, max(1, int(env[variable])))
    if limits and "threadpoolctl" in sys.modules:
        from threadpoolctl import threadpool_limits

        for api, count in limits.items():
            threadpool_limits(limits=count, user_api=api)


def _reseed() -> None:
    """`random` reseeds itself in a fork; numpy's global generator does not: each job draws its own seed, as a
    job in its own container does."""
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()


def main() -> None:
    control, registry = socket.socket(fileno=int(sys.argv[1])), sys.argv[2]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the runner, which stops its jobs
    base_path = sys.path[1:]  # started without PYTHONPATH: the interpreter's own path, after this script's dir
    preload()
    zygote_pid = os.getpid()
    request = serve(control, registry)
    become(request, base_path, zygote_pid, registry)
    run(request["argv"])


if __name__ == "__main__":
    main()
