"""Issue 12, local runner: a kill -9 of `python -m local_runner run` at each phase, then `stop`.

The runner runs as a subprocess on the synthesized pipeline. When the phase's first container process appears
(a processing job, a tuning job's training job, the endpoint's server), the test freezes it with SIGSTOP, so
that it cannot finish on its own and the phase cannot move on, then kills the runner with SIGKILL.
A job must die with its runner; the endpoint server may outlive it but must be on record, and `stop` must end
it. Afterwards no process started under the run's state directory may remain, and none of them listens.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from local_runner import s3
from local_runner.cli import main
from local_runner.pipeline import REPO_ROOT
from local_runner.sagemaker import Store, endpoints, lifetime

pytestmark = pytest.mark.slow

BOUND = 240.0  # seconds a phase may take to start on a loaded machine; a bound, not a measurement


def _started_under(state_dir: Path) -> list[psutil.Process]:
    """Every live process whose /opt/ml tree is under `state_dir`: jobs (forked ones by the fork server's
    registry), servers and whatever they forked (the environment is inherited)."""
    return lifetime.started_under(state_dir)


def _base_dir(process: psutil.Process) -> Path | None:
    """Its SAGEMAKER_BASE_DIR, or the one the fork server registered for a job it forked."""
    base = lifetime.base_dir(process)
    return Path(base) if base else None


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _listening_ports(processes: list[psutil.Process]) -> set[int]:
    ports = set()
    for process in processes:
        with contextlib.suppress(psutil.Error):
            ports |= {c.laddr.port for c in process.net_connections("inet") if c.status == psutil.CONN_LISTEN}
    return ports


def _gone(processes_of, bound: float = 30.0) -> list[psutil.Process]:
    """What `processes_of()` still returns after waiting up to `bound` seconds for it to become empty."""
    deadline = time.monotonic() + bound
    left = processes_of()
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = processes_of()
    return left


@pytest.fixture
def state_dir(tmp_path):
    state = tmp_path / "state"
    yield state
    for process in _started_under(state):  # a failing test must not leave frozen processes behind
        with contextlib.suppress(psutil.Error):
            process.kill()


@pytest.fixture(scope="module")
def cdk_out(pipeline_assembly) -> Path:
    return pipeline_assembly.directory.parent  # the root cloud assembly (its manifest names the stage)


def _recorded_pids(state_dir: Path) -> set[int]:
    path = state_dir / "runner" / "sagemaker" / "state.json"
    with contextlib.suppress(OSError, ValueError):
        state = json.loads(path.read_text())
        return {
            fleet["pid"]
            for record in state.get("endpoints", {}).values()
            for fleet in (record.get("local"), record.get("green"), record.get("launching"), record.get("front"))
            if fleet
        }
    return set()


def _kill_runner_during(
    phase: str, cdk_out: Path, state_dir: Path, dataset: Path, *options: str, once_recorded: bool = False
):
    """Start a run, freeze the first container process whose tree is under `<workdir>/<phase>/`, SIGKILL the
    runner; return the frozen process, its /opt/ml tree and the runner's output. `once_recorded`: kill only once
    the runner has put the frozen process on record (the runner records a server right after the exec that
    makes it visible here; a kill inside that instant is not the case under test)."""
    log = state_dir.parent / "runner.log"
    state_dir.mkdir(parents=True)
    command = [sys.executable, "-m", "local_runner", "run", "--cdk-out", str(cdk_out), "--state-dir", str(state_dir)]
    with open(log, "wb") as out:
        runner = subprocess.Popen(
            [*command, "--data", str(dataset), *options],
            cwd=REPO_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    phase_dir = state_dir / "runner" / "sagemaker" / phase
    deadline = time.monotonic() + BOUND
    frozen = frozen_base = None
    try:
        while frozen is None:
            assert runner.poll() is None, f"the run ended before {phase}:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no {phase} process within {BOUND} s:\n{log.read_text()[-3000:]}"
            # the runner's descendants, not every process's environment: this loop polls every 20 ms for a run
            for process in _descendants(runner.pid):
                base = _base_dir(process)
                if base is not None and base.is_relative_to(phase_dir):
                    with contextlib.suppress(psutil.Error):
                        process.suspend()
                        frozen, frozen_base = process, base
                        break
            time.sleep(0.02)
        while once_recorded and frozen.pid not in _recorded_pids(state_dir):
            assert runner.poll() is None, f"the run ended before recording {frozen.pid}:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"{frozen.pid} not on record within {BOUND} s"
            time.sleep(0.02)
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.wait()
    return frozen, frozen_base, log.read_text()


def _stop(state_dir: Path) -> str:
    stopped = subprocess.run(
        [sys.executable, "-m", "local_runner", "stop", "--state-dir", str(state_dir)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    return stopped.stdout


@pytest.mark.parametrize(
    ("phase", "options"),
    [
        ("processing", ["--no-tuning"]),
        ("training", ["--max-jobs", "2", "--parallel", "2"]),  # the tuning job's training jobs
    ],
    ids=["processing", "tuning"],
)
def test_a_job_dies_with_its_runner_and_stop_leaves_nothing(phase, options, cdk_out, state_dir, dataset):
    _, base, output = _kill_runner_during(phase, cdk_out, state_dir, dataset, *options)
    if phase == "training":
        assert re.search(r"-00[12]-[0-9a-f]{8}$", base.name), base  # a training job of the tuning job

    def jobs_left() -> list[psutil.Process]:
        return [p for p in _started_under(state_dir) if (_base_dir(p) or Path("/")).parent.name in (phase,)]

    left = _gone(jobs_left)
    assert not left, f"job processes outlived their runner: {[p.cmdline() for p in left]}\n{output[-2000:]}"

    _stop(state_dir)
    left = _gone(lambda: _started_under(state_dir), bound=10)
    assert not left, [p.cmdline() for p in left]


def test_an_endpoint_server_started_before_the_kill_is_on_record_and_stop_ends_it(cdk_out, state_dir, dataset):
    frozen, _, output = _kill_runner_during("endpoints", cdk_out, state_dir, dataset, "--no-tuning", once_recorded=True)
    assert frozen.is_running()  # the endpoint server may outlive its runner, as a real endpoint does

    # it is on record: the state on disk names its process and port, so nothing listens untracked
    state = json.loads((state_dir / "runner" / "sagemaker" / "state.json").read_text())
    fleets = [
        fleet
        for record in state["endpoints"].values()
        for fleet in (record.get("local"), record.get("green"), record.get("launching"), record.get("front"))
        if fleet
    ]
    assert frozen.pid in {fleet["pid"] for fleet in fleets}, (fleets, output[-2000:])
    recorded_ports = {fleet["port"] for fleet in fleets}
    assert _listening_ports(_started_under(state_dir)) <= recorded_ports

    [name] = state["endpoints"]
    assert name in _stop(state_dir)
    left = _gone(lambda: _started_under(state_dir), bound=15)
    assert not left, [p.cmdline() for p in left]
    for port in recorded_ports:
        with contextlib.suppress(OSError), endpoints.socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers"


def _unrecorded_server(state_dir: Path) -> psutil.Process:
    """A process in an endpoint's tree that no record names, started by a process that exits at once (as a
    runner killed between starting a server and writing its record): it is not our child."""
    server_dir = state_dir / "runner" / "sagemaker" / "endpoints" / "lost" / "0000"
    server_dir.mkdir(parents=True)
    launcher = subprocess.run(
        [
            sys.executable,
            "-c",
            "import subprocess, sys; print(subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'],"
            " start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid)",
        ],
        env={**os.environ, "SAGEMAKER_BASE_DIR": str(server_dir)},
        capture_output=True,
        text=True,
        check=True,
    )
    return psutil.Process(int(launcher.stdout))


def _alive(process: psutil.Process) -> list[psutil.Process]:
    with contextlib.suppress(psutil.Error):
        if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
            return [process]
    return []


def test_stop_finds_a_server_that_no_record_names(state_dir):
    server = _unrecorded_server(state_dir)
    output = _stop(state_dir)
    assert not _gone(lambda: _alive(server))
    assert str(server.pid) in output, output


def test_a_fresh_run_ends_what_the_state_it_forgets_had_started(state_dir, tmp_path, capsys):
    server = _unrecorded_server(state_dir)
    # --fresh forgets the state first; the missing assembly then ends the run (exit 3) before anything starts
    assert main(["run", "--fresh", "--state-dir", str(state_dir), "--cdk-out", str(tmp_path / "none")]) == 3
    assert not _gone(lambda: _alive(server))


def test_stop_ends_the_recorded_servers_from_the_records_alone(state_dir, monkeypatch, capsys):
    # `stop` started a local cloud to read the records: its start put every object of the local S3 into moto,
    # and its stop wrote them all back, so that `make stop` took longer with every run kept in .local/.
    server = _unrecorded_server(state_dir)
    records = Store(state_dir / "runner" / "sagemaker" / "state.json")
    directory = state_dir / "runner" / "sagemaker" / "endpoints" / "lost" / "0000"
    fleet = {"pid": server.pid, "directory": str(directory)}
    records.put("endpoints", "lost", {"EndpointName": "lost", "EndpointStatus": "InService", "local": fleet})

    def not_read(root):
        raise AssertionError(f"stop loaded the local S3 ({root})")

    monkeypatch.setattr(s3, "load", not_read)
    assert main(["stop", "--state-dir", str(state_dir)]) == 0
    assert "Stopped: lost" in capsys.readouterr().out
    assert not _gone(lambda: _alive(server))
    assert Store(records.path).values("endpoints") == []
