"""`make traffic` and `make monitor` run the local runner's monitoring commands with their arguments."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _commands(*args: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    command = ["make", "--no-print-directory", "-n", *args]
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True)
    return [line.strip() for line in done.stdout.splitlines()]


def test_traffic_passes_its_arguments() -> None:
    commands = _commands("traffic", "TRAFFIC_ARGS=--drift 1=3 --rows 300")
    assert commands[-1].endswith("-m local_runner traffic --drift 1=3 --rows 300")


def test_monitor_runs_prod_unless_told() -> None:
    assert _commands("monitor")[-1].endswith("-m local_runner monitor")
    assert _commands("monitor", "ENV=staging")[-1].endswith("-m local_runner monitor --env staging")
