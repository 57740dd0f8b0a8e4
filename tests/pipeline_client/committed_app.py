"""The committed app (HEAD), synthesized once per test run for the local-runner, local-backend and notebook tests.

Engineers share this working tree: edits in progress to stacks/ must not change what these tests run.
`LOCAL_RUNNER_TEST_TREE=worktree` synthesizes the working tree instead. One `cdk synth` holds both stages
(dev and prod) and serves every worker of the run: each synthesis costs tens of seconds on this machine.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from local_runner.pipeline import REPO_ROOT, synth
from local_runner.template import Assembly
from stacks.contract import stage_name
from tests.shared_build import built_once

ENVIRONMENTS = ("dev", "prod")


def _extract_head(root: Path) -> None:
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=REPO_ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    for shared in ("node_modules", ".venv"):
        (root / shared).symlink_to(REPO_ROOT / shared)


def committed_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """HEAD's files (or the working tree, see above), with the shared venv and Node toolchain linked in."""
    if not (REPO_ROOT / "node_modules" / ".bin" / "cdk").exists():
        pytest.skip("the CDK CLI is not installed (make setup)")
    if os.environ.get("LOCAL_RUNNER_TEST_TREE") == "worktree":
        return REPO_ROOT
    return built_once(tmp_path_factory, "head", _extract_head)


def committed_cdk_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cloud assembly of the committed tree's dev and prod stages (pick one with `committed_assembly`)."""
    tree = committed_tree(tmp_path_factory)
    name = "synth-worktree" if tree == REPO_ROOT else "synth-head"
    out = built_once(tmp_path_factory, name, lambda d: synth(d / "cdk.out", env=",".join(ENVIRONMENTS), repo=tree))
    return out / "cdk.out"


def committed_assembly(tmp_path_factory: pytest.TempPathFactory, env: str) -> Assembly:
    return Assembly.load(committed_cdk_out(tmp_path_factory), stage=stage_name(env))
