"""`python -m local_runner.server up|down|status` without a run: the port's sources, a taken port, a bad port,
and what down and status say when nothing runs. The server itself: test_local_cloud_clients.py."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import psutil
import pytest

from local_runner.pipeline import REPO_ROOT
from local_runner.server import __main__ as server_cli


def _server(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "local_runner.server", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )


def test_the_port_comes_from_the_flag_else_the_variable_else_4566(monkeypatch) -> None:
    assert server_cli.parser().parse_args(["up"]).port == 4566
    monkeypatch.setenv("LOCAL_CLOUD_PORT", "4570")
    assert server_cli.parser().parse_args(["up"]).port == 4570
    assert server_cli.parser().parse_args(["up", "--port", "4571"]).port == 4571


def test_a_bad_port_or_environment_is_named(capsys) -> None:
    with pytest.raises(SystemExit):
        server_cli.parser().parse_args(["up", "--port", "70000"])
    assert "port 70000 is outside 1-65535" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        server_cli.parser().parse_args(["up", "--env", "staging"])
    assert "no configuration config/staging.json; known: dev, prod" in capsys.readouterr().err


def test_a_taken_port_is_named_with_the_fix_before_anything_loads(tmp_path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = _server("up", "--port", str(port), "--state-dir", str(tmp_path), "--cdk-out", str(tmp_path / "none"))
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is taken" in done.stderr, done.stderr
    assert f"make up PORT={port + 1}" in done.stderr
    assert not (tmp_path / "server.json").exists()


def test_down_and_status_say_when_nothing_runs(tmp_path) -> None:
    down = _server("down", "--state-dir", str(tmp_path))
    assert (down.returncode, down.stdout.strip()) == (0, "The local cloud is not running.")
    status = _server("status", "--state-dir", str(tmp_path))
    assert status.returncode == 1
    assert "not running: make up" in status.stdout


def test_a_record_whose_process_is_gone_is_stale(tmp_path) -> None:
    from local_runner.server import state

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    state.write(tmp_path, pid=int(gone.stdout), port=1, url="http://127.0.0.1:1", envs=["dev"])
    assert state.read(tmp_path) is None
    assert not state.path(tmp_path).exists()


def test_ctrl_c_while_up_waits_says_the_server_goes_on(monkeypatch, tmp_path, capsys) -> None:
    def interrupted(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(server_cli.control, "up", interrupted)
    assert server_cli.main(["up", "--state-dir", str(tmp_path)]) == 130
    assert "goes on starting in the background: make down stops it" in capsys.readouterr().out


def _zombie(command: str = "pass") -> subprocess.Popen:
    """A child that has exited and is not reaped yet: what the server is between its exit and its reaping by
    PID 1, which `make up` left it to (an init that reaps late, or never: a container without --init)."""
    child = subprocess.Popen([sys.executable, "-c", command])
    deadline = time.monotonic() + 60
    while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the child did not exit"
        time.sleep(0.01)
    return child


def test_a_record_whose_process_has_exited_but_is_not_reaped_is_stale(tmp_path) -> None:
    from local_runner.server import state

    child = _zombie()
    try:
        state.write(tmp_path, pid=child.pid, port=1, url="http://127.0.0.1:1", envs=["dev"])
        assert not state.alive(child.pid)
        assert state.read(tmp_path) is None
    finally:
        child.wait()


def test_down_ends_when_the_server_has_exited_not_when_it_is_reaped(monkeypatch, tmp_path, capsys) -> None:
    from local_runner.server import control, state

    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])  # SIGTERM ends it
    monkeypatch.setattr(control, "STOP_TIMEOUT", 10)  # not reaped here until the test ends: a zombie till then
    try:
        state.write(tmp_path, pid=server.pid, port=1, url="http://127.0.0.1:1", envs=["dev"])
        assert control.down(tmp_path) == 0, capsys.readouterr().err
        assert f"Stopped the local cloud (pid {server.pid})" in capsys.readouterr().out
    finally:
        server.kill()
        server.wait()


def test_down_and_status_load_none_of_the_engine(tmp_path) -> None:
    # They read a record and send a signal: moto's interpreter and backends (over a second of CPU) are the
    # server's own process's to load.
    probe = (
        "import sys; from local_runner.server.__main__ import main; main(sys.argv[1:]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'moto' or m == 'local_runner.cloud'))"
    )
    for command in ("down", "status"):
        done = subprocess.run(
            [sys.executable, "-c", probe, command, "--state-dir", str(tmp_path)],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.stdout.splitlines()[-1] == "[]", (command, done.stdout, done.stderr)


def test_a_record_whose_pid_now_names_another_process_is_stale_and_down_leaves_that_process_alone(tmp_path):
    # After a reboot (the server never removed its record) the system may give its pid to another program:
    # `make down` must not signal that program, nor `make up` say the local cloud is already up.
    from local_runner.server import control, state

    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    time.sleep(0.1)  # a start time of its own: /proc counts them in ticks of 10 ms
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        state.write(tmp_path, pid=server.pid, port=1, url="http://127.0.0.1:1", envs=["dev"])
        assert state.read(tmp_path)["pid"] == server.pid
        record = json.loads(state.path(tmp_path).read_text())
        state.path(tmp_path).write_text(json.dumps({**record, "pid": other.pid}))  # the record, with a reused pid
        assert control.down(tmp_path) == 0
        assert other.poll() is None, "down signalled a process that is not the server"
        assert not state.path(tmp_path).exists()
    finally:
        for process in (server, other):
            process.kill()
            process.wait()
