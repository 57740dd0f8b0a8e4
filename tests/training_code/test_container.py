"""The image's entry points (without Docker): the shims on PATH run the package like `docker run IMAGE X`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO, setup_job

BIN = REPO / "training_code" / "docker" / "bin"


def _env(base: Path) -> dict:
    return {**os.environ, "SAGEMAKER_BASE_DIR": str(base), "SM_NUM_CPUS": "1", "PYTHONPATH": str(REPO),
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


def test_train_shim_trains_like_docker_run_image_train(ml_base):
    setup_job(ml_base, "naive-bayes", "iris")
    result = subprocess.run([str(BIN / "train")], env=_env(ml_base), cwd="/", capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads((ml_base / "model" / "metadata.json").read_text())["algorithm"] == "naive-bayes"


def test_entrypoint_failure_exit_code_and_reason(ml_base):
    (ml_base / "input" / "config" / "hyperparameters.json").write_text('{"algorithm": "foo"}')
    result = subprocess.run([str(BIN / "entrypoint"), "train"], env=_env(ml_base), cwd="/", capture_output=True,
                            text=True)
    assert result.returncode != 0
    assert (ml_base / "output" / "failure").read_text().startswith("unknown algorithm 'foo'; known:")


def test_dockerfile_is_pinned_and_wired():
    text = (REPO / "training_code" / "Dockerfile").read_text()
    base = re.search(r"^FROM (\S+)", text, re.M).group(1)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base), base
    assert 'ENTRYPOINT ["/opt/program/bin/entrypoint"]' in text
    assert "useradd" in text and "setpriv" in (BIN / "entrypoint").read_text()
    for line in (REPO / "training_code" / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[\w.\-+]+", line.strip()), line
    for name in ("train", "serve", "process", "evaluate", "entrypoint"):
        assert os.access(BIN / name, os.X_OK), name
