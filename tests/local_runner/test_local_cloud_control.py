"""`python -m local_runner.server up|down|status` without a run: the port's sources, a taken port, a bad port,
and what down and status say when nothing runs. The server itself: test_local_cloud_clients.py."""

from __future__ import annotations

import socket
import subprocess
import sys

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
