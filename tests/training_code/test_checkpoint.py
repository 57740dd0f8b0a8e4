"""Spot interruption: SIGTERM saves a checkpoint and exits; a restarted job resumes and ends where an
uninterrupted run ends."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import REPO, setup_job, split

from training_code import model_io, train

XGB = {"objective": "binary:logistic", "num_round": "250", "max_depth": "3", "eta": "0.05"}


def _run_subprocess(base):
    env = {**os.environ, "SAGEMAKER_BASE_DIR": str(base), "SM_NUM_CPUS": "1"}
    return subprocess.Popen([sys.executable, "-m", "training_code", "train"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _checkpoint_epoch(base):
    try:
        return json.loads((base / "checkpoints" / "checkpoint.json").read_text())["epoch"]
    except (FileNotFoundError, ValueError):
        return -1


def _predictions(model_dir, data):
    model, _ = model_io.load(model_dir)
    _, (x, _) = split(data)
    return model.predict(x)


def _interrupt(base, sig, after_epoch=15):
    process = _run_subprocess(base)
    deadline = time.monotonic() + 60
    while _checkpoint_epoch(base) < after_epoch:
        assert process.poll() is None, process.stdout.read()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(sig)
    code = process.wait(timeout=60)
    return code, process.stdout.read()


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_kill_and_resume_matches_uninterrupted(tmp_path, sig):
    reference = tmp_path / "reference"
    (reference / "input" / "config").mkdir(parents=True)
    setup_job(reference, "xgboost", "breast_cancer", XGB)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SAGEMAKER_BASE_DIR", str(reference))
        patch.setenv("SM_NUM_CPUS", "1")
        assert train.run() == 0

    base = tmp_path / "spot"
    (base / "input" / "config").mkdir(parents=True)
    setup_job(base, "xgboost", "breast_cancer", XGB)
    code, output = _interrupt(base, sig)
    saved = _checkpoint_epoch(base)
    assert 15 <= saved < 249
    assert not (base / "model" / "model.joblib").exists()
    if sig == signal.SIGTERM:
        assert code == 143
        failure = (base / "output" / "failure").read_text()
        assert failure.startswith("training interrupted by signal 15 after epoch")
        assert f"after epoch {saved};" in failure
    else:
        assert code == -signal.SIGKILL

    process = _run_subprocess(base)
    output = process.communicate(timeout=120)[0]
    assert process.returncode == 0, output
    # checkpoint.json is written just after checkpoint.joblib: a SIGKILL between the two leaves it one behind
    resumed = int(re.search(r"checkpoint: resuming after epoch (\d+)", output).group(1))
    assert resumed in (saved, saved + 1)
    epochs = [line for line in output.splitlines() if line.startswith("[epoch ")]
    assert epochs[0].startswith(f"[epoch {resumed + 1}]") and epochs[-1].startswith("[epoch 249]")
    np.testing.assert_allclose(_predictions(base / "model", "breast_cancer")["score"],
                               _predictions(reference / "model", "breast_cancer")["score"], rtol=1e-6)


class _StopAfter:
    """Stands in for checkpoint.StopFlag: 'receives SIGTERM' after a number of epochs."""

    def __init__(self, epochs):
        self.remaining = epochs
        self.signal = 15

    def install(self):
        return self

    def __bool__(self):
        self.remaining -= 1
        return self.remaining < 0


@pytest.mark.parametrize(("algorithm", "data", "hps"), [
    ("linear-learner", "breast_cancer", {"epochs": "8", "mini_batch_size": "50"}),
    ("kmeans", "iris", {"k": "3", "epochs": "6", "mini_batch_size": "40"}),
    ("gradient-boosting-regressor", "diabetes", {"n_estimators": "40"}),
])
def test_in_process_resume_is_exact(tmp_path, monkeypatch, algorithm, data, hps):
    monkeypatch.setenv("SM_NUM_CPUS", "1")
    reference = tmp_path / "ref"
    (reference / "input" / "config").mkdir(parents=True)
    setup_job(reference, algorithm, data, hps)
    monkeypatch.setenv("SAGEMAKER_BASE_DIR", str(reference))
    assert train.run() == 0

    base = tmp_path / "job"
    (base / "input" / "config").mkdir(parents=True)
    setup_job(base, algorithm, data, hps)
    monkeypatch.setenv("SAGEMAKER_BASE_DIR", str(base))
    monkeypatch.setattr(train, "StopFlag", lambda: _StopAfter(2))
    assert train.run() == 143
    assert _checkpoint_epoch(base) == 2
    monkeypatch.undo()
    monkeypatch.setenv("SM_NUM_CPUS", "1")
    monkeypatch.setenv("SAGEMAKER_BASE_DIR", str(base))
    assert train.run() == 0
    ours, theirs = _predictions(base / "model", data), _predictions(reference / "model", data)
    for key in ours:
        if isinstance(ours[key], np.ndarray):
            np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-9)


def test_checkpoint_of_another_configuration_is_ignored(ml_base, capsys):
    setup_job(ml_base, "kmeans", "iris", {"k": "3", "epochs": "3"})
    assert train.run() == 0
    setup_job(ml_base, "kmeans", "iris", {"k": "4", "epochs": "3"})
    assert train.run() == 0
    assert "checkpoint from a different job configuration ignored" in capsys.readouterr().out
    assert json.loads((ml_base / "model" / "metadata.json").read_text())["hyperparameters"]["k"] == 4
