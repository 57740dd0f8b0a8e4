"""The Makefile targets the README documents: what each one runs (make -n), and clean-local for real."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _dry_run(*args: str, cwd: Path = REPO_ROOT) -> str:
    # Not make's own variables: under `make test` they would make this a sub-make that prints directories.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_notebook_starts_as_root_where_jupyter_would_refuse() -> None:
    command = next(line for line in _dry_run("notebook").splitlines() if "jupyter lab" in line)
    assert command.startswith(".venv/bin/jupyter lab")
    assert ("--allow-root" in command) == (os.geteuid() == 0)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("destroy", "ENV=prod"), "cdk destroy -c env=prod 'SageMakerPipeline-prod/*'"),
        (("approve",), "-m local_runner approve --env prod"),
        (("summary",), "tools/synth_summary.py"),
        (("up", "PORT=4567", "ENV=prod"), "-m local_runner.server up --env prod --port 4567"),
        (("down",), "-m local_runner.server down"),
        (("run", "RUN_ARGS=--algorithm ridge --metric rmse --threshold 0.35"), "-m local_runner run --algorithm ridge"),
    ],
)
def test_documented_targets_run_what_the_readme_says(args: tuple[str, ...], expected: str) -> None:
    assert expected in _dry_run(*args)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_clean_local_deletes_the_local_state(tmp_path: Path) -> None:
    shutil.copy(REPO_ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / ".local" / "cdk.out").mkdir(parents=True)
    (tmp_path / ".local" / "cdk.out" / "manifest.json").write_text("{}")
    subprocess.run(["make", "clean-local"], cwd=tmp_path, capture_output=True, check=True)
    assert not (tmp_path / ".local").exists()
