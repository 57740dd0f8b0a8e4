"""`make run RUN_ARGS="--algorithm X"` end to end for one algorithm of each task, with the task's default gate,
through the CLI as a new user types it: output in plain lines, the plots named, a curl line that pastes.

The runs share one local state (the endpoint is updated from task to task) and skip tuning, to stay short;
classification's run is the CLI test in test_pipeline.py."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from local_runner.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def state(tmp_path_factory):
    state = tmp_path_factory.mktemp("first-hour")
    yield state
    main(["stop", "--state-dir", str(state)])


@pytest.mark.parametrize(
    ("algorithm", "metric"),
    [("ridge", "r2"), ("kmeans", "silhouette"), ("pca", "explained_variance_ratio"), ("isolation-forest", "roc_auc")],
)
def test_each_task_runs_with_its_defaults(pipeline_assembly, state, capsys, algorithm: str, metric: str) -> None:
    argv = ["--cdk-out", str(pipeline_assembly.directory), "--state-dir", str(state), "--time-scale", "0.01"]
    code = main(["run", "--algorithm", algorithm, "--no-tuning", *argv])
    out = capsys.readouterr().out
    assert code == 0, out[-3000:]
    assert re.search(rf"Quality gate: passed — {metric} = -?\d+\.\d{{4}}, needed >= [\d.]+: DEPLOYED", out), out
    plots = next(line for line in out.splitlines() if line.startswith("Plots: ")).removeprefix("Plots: ")
    for plot in plots.split(", "):
        assert Path(plot).read_bytes().startswith(b"\x89PNG"), plot
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed: the printed command cannot be tried")
    curl = next(line for line in out.splitlines() if line.startswith("Try it: ")).removeprefix("Try it: ")
    answer = subprocess.run(shlex.split(curl), capture_output=True, text=True, timeout=30, check=True)
    assert answer.stdout.strip(), "the pasted curl command got no prediction"
