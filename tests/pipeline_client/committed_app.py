"""The committed app (HEAD), synthesized once per test process for the local-backend and notebook tests.

Engineers share this working tree: edits in progress to stacks/ must not change what these tests run, as in
tests/local_runner/pipeline_harness.py. `LOCAL_RUNNER_TEST_TREE=worktree` synthesizes the working tree instead.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from local_runner.pipeline import REPO_ROOT, synth

_built: dict[str, Path] = {}  # one synthesis per process, shared by every conftest that asks


def committed_cdk_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if "dev" in _built:
        return _built["dev"]
    if not (REPO_ROOT / "node_modules" / ".bin" / "cdk").exists():
        pytest.skip("the CDK CLI is not installed (make setup)")
    repo = REPO_ROOT
    if os.environ.get("LOCAL_RUNNER_TEST_TREE") != "worktree":
        repo = tmp_path_factory.mktemp("head")
        archive = subprocess.run(["git", "archive", "HEAD"], cwd=REPO_ROOT, capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(repo, filter="data")
        for shared in ("node_modules", ".venv"):
            (repo / shared).symlink_to(REPO_ROOT / shared)
    out = tmp_path_factory.mktemp("synth") / "cdk.out"
    synth(out, env="dev", repo=repo)
    _built["dev"] = out
    return out
