"""A job forked from the fork server is the process an `exec` of its command would be (job_forks.py)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from local_runner import Assembly, LocalCloud
from local_runner.sagemaker import job_forks, lifetime

pytestmark = [pytest.mark.skipif(not job_forks.enabled(), reason="jobs are forked on Linux only"), pytest.mark.slow]

PROBE = """
import atexit, json, os, sys, threading, time
import numpy
from threadpoolctl import threadpool_info

def report():
    # a set: the fork server may have loaded scipy's BLAS too, beside numpy's
    blas = sorted({pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"})
    print(json.dumps({
        "argv": sys.argv, "cwd": os.getcwd(), "path": sys.path[:3], "name": __name__,
        "env": {k: os.environ.get(k) for k in ("SAGEMAKER_BASE_DIR", "JOB_SETTING", "PYTHONPATH")},
        "blas_threads": blas, "draw": float(numpy.random.random()), "unbuffered": sys.stdout.write_through,
    }))

threading.Thread(target=lambda: (time.sleep(0.3), print("thread joined", flush=True))).start()
atexit.register(lambda: print("atexit ran", flush=True))
report()
if len(sys.argv) > 1 and sys.argv[1] == "fail":
    raise ValueError("the probe failed on purpose")
if len(sys.argv) > 1 and sys.argv[1] == "sleep":
    time.sleep(60)
sys.exit(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
"""


@pytest.fixture
def job(tmp_path):
    code = tmp_path / "code"
    (code / "probe").mkdir(parents=True)
    (code / "probe" / "__main__.py").write_text(PROBE)
    (code / "probe" / "__init__.py").write_text("")
    (code / "script.py").write_text(PROBE)
    base = tmp_path / "opt_ml"
    base.mkdir()
    env = {
        **os.environ,
        "SAGEMAKER_BASE_DIR": str(base),
        "JOB_SETTING": "from the request",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": f"{code}{os.pathsep}{tmp_path / 'extra'}",
        "OPENBLAS_NUM_THREADS": "1",
    }
    return code, env


def _forked(cmd, code: Path, env: dict, log: Path):
    process = job_forks.spawn(cmd, cwd=code, env=env, log_path=log)
    assert isinstance(process, job_forks.ForkedProcess)
    return process


def _exec(cmd, code: Path, env: dict, log: Path) -> int:
    with open(log, "wb") as out:
        return subprocess.run(cmd, cwd=code, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=60).returncode


def _report(log: Path) -> dict:
    return json.loads(next(line for line in log.read_text().splitlines() if line.startswith("{")))


@pytest.mark.parametrize("form", [["-m", "probe"], ["script.py"]])
def test_a_forked_job_sees_what_an_exec_of_its_command_sees(job, tmp_path, form):
    code, env = job
    cmd = [sys.executable, *(str(code / part) if part.endswith(".py") else part for part in form), "ok", "3"]
    forked = _forked(cmd, code, env, tmp_path / "forked.log").wait(timeout=60)
    executed = _exec(cmd, code, env, tmp_path / "exec.log")
    assert forked == executed == 3
    mine, theirs = _report(tmp_path / "forked.log"), _report(tmp_path / "exec.log")
    assert mine["draw"] != theirs["draw"]  # each job seeds numpy's global generator anew
    for report in (mine, theirs):
        report.pop("draw")
    assert mine == theirs
    assert mine["blas_threads"] == [1]  # OPENBLAS_NUM_THREADS of the job, not of the fork server
    for log in ("forked.log", "exec.log"):  # the interpreter's exit: threads joined, then atexit
        lines = (tmp_path / log).read_text().splitlines()
        assert lines[-2:] == ["thread joined", "atexit ran"], lines


def test_two_forked_jobs_draw_different_numbers(job, tmp_path):
    code, env = job
    draws = set()
    for index in range(2):
        log = tmp_path / f"{index}.log"
        assert _forked([sys.executable, "-m", "probe"], code, env, log).wait(timeout=60) == 0
        draws.add(_report(log)["draw"])
    assert len(draws) == 2


def test_an_uncaught_exception_exits_1_with_its_traceback_in_the_log(job, tmp_path):
    code, env = job
    log = tmp_path / "job.log"
    assert _forked([sys.executable, "-m", "probe", "fail"], code, env, log).wait(timeout=60) == 1
    assert log.read_text().splitlines()[-3:-1] == ["ValueError: the probe failed on purpose", "thread joined"]


def test_a_signalled_job_reports_the_signal_and_stop_finds_it_while_it_runs(job, tmp_path):
    code, env = job
    log = tmp_path / "job.log"
    process = _forked([sys.executable, "-m", "probe", "sleep"], code, env, log)
    with pytest.raises(subprocess.TimeoutExpired):
        process.wait(timeout=0.2)
    assert process.poll() is None
    found = lifetime.started_under(Path(env["SAGEMAKER_BASE_DIR"]).parent)
    assert [p.pid for p in found] == [process.pid]
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == -signal.SIGTERM
    deadline = time.monotonic() + 10
    while (lifetime.fork_registry() / f"{process.pid}.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not (lifetime.fork_registry() / f"{process.pid}.json").exists()


def test_only_python_commands_are_forked_and_forking_can_be_turned_off(job, tmp_path, monkeypatch):
    code, env = job
    assert job_forks.spawn(["/bin/true"], cwd=code, env=env, log_path=tmp_path / "x.log") is None
    assert job_forks.spawn([sys.executable, "-c", "pass"], cwd=code, env=env, log_path=tmp_path / "x.log") is None
    monkeypatch.setenv("LOCAL_SAGEMAKER_FORK", "0")
    assert job_forks.spawn([sys.executable, "-m", "probe"], cwd=code, env=env, log_path=tmp_path / "x.log") is None


SERVER = """
import os, signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: (print("terminated", flush=True), os._exit(0)))
if os.fork() == 0:  # a worker, as Granian forks them
    time.sleep(60)
    os._exit(0)
print("serving", flush=True)
time.sleep(60)
"""

#: a runner that forks one server and exits at once, as `make run` leaves an endpoint serving
RUNNER = """
import json, signal, sys
from pathlib import Path
from local_runner.sagemaker import job_forks
code, log, outlive = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "outlive"
env = json.loads(sys.stdin.read())
server = job_forks.spawn([sys.executable, str(code / "server.py")], cwd=code, env=env, log_path=log,
                         new_session=True, death_signal=None if outlive else signal.SIGTERM)
print(server.pid, flush=True)
"""


def _server_pid(job, tmp_path, mode: str) -> tuple[int, Path, dict]:
    code, env = job
    (code / "server.py").write_text(SERVER)
    log = tmp_path / "server.log"
    runner = subprocess.run(
        [sys.executable, "-c", RUNNER, str(code), str(log), mode],
        input=json.dumps(env),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[2],
    )
    assert runner.returncode == 0, runner.stderr
    return int(runner.stdout.strip()), log, env


def _wait_for(predicate, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


def test_a_server_forked_in_a_session_of_its_own_outlives_the_runner_and_stop_finds_its_workers(job, tmp_path):
    pid, log, env = _server_pid(job, tmp_path, "outlive")
    try:
        assert _wait_for(lambda: "serving" in log.read_text())
        assert os.getpgid(pid) == pid and os.getsid(pid) == pid  # stop() signals the group: its workers too
        found = lifetime.started_under(Path(env["SAGEMAKER_BASE_DIR"]).parent)
        workers = psutil.Process(pid).children()
        assert len(workers) == 1 and {p.pid for p in found} == {pid, workers[0].pid}
        assert lifetime.base_dir(workers[0]) == env["SAGEMAKER_BASE_DIR"]  # /proc shows the fork server's
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    assert _wait_for(lambda: not lifetime.started_under(Path(env["SAGEMAKER_BASE_DIR"]).parent))


def test_a_server_that_must_die_with_the_runner_gets_its_death_signal(job, tmp_path):
    pid, log, _ = _server_pid(job, tmp_path, "die")
    try:
        assert _wait_for(lambda: "terminated" in log.read_text()), log.read_text()  # SIGTERM, as a transform's
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def test_a_new_fork_server_removes_the_files_of_ended_processes_and_of_other_formats(tmp_path):
    """Found running an earlier checkout beside this one: its runner failed on a file it did not know."""
    live = os.getpid()
    files = {
        "mine": (live, {"base_dir": "/a", "start": lifetime.start_ticks(live)}),
        "reused pid": (os.getppid(), {"base_dir": "/b", "start": 1}),  # a live pid that started at another time
        "ended": (2**22 + 1, {"base_dir": "/c", "start": 5}),  # above the kernel's pid_max: never live
        "older format": (1, {"base_dir": "/d", "fork_server": 1}),
    }
    for pid, entry in files.values():
        (tmp_path / f"{pid}.json").write_text(json.dumps(entry))
    job_forks._prune(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{live}.json"]


def _fork_servers() -> int:
    return sum("job_zygote.py" in " ".join(child.cmdline()) for child in psutil.Process().children())


def test_deploying_a_stage_starts_the_fork_server_before_its_first_job(tmp_path, fixture_assembly, monkeypatch):
    # Its imports take about 2 s: started at the deployment, they overlap the deployment and a run's first
    # states, where the first job would otherwise wait for them.
    monkeypatch.setattr(job_forks, "_server", None)  # this process's own fork server, if any, is left alone
    before = _fork_servers()
    with LocalCloud(tmp_path, persist=False) as cloud:
        entered = _fork_servers()  # a cloud entered only to stop endpoints starts none
        cloud.deploy(Assembly.load(fixture_assembly))
        deployed = _fork_servers()
        started = job_forks._server
    if started is not None:
        started.popen.kill()
        started.popen.wait()
    assert (entered - before, deployed - before) == (0, 1)
