"""Training on several hosts: XGBoost's collective across container processes, refusal for the others."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, free_port, split, write_csv

from training_code import model_io
from training_code.task_metrics import score

pytestmark = pytest.mark.slow

HPS = {"algorithm": "xgboost", "objective": "binary:logistic", "num_round": "30", "max_depth": "3"}


def _host_tree(
    base: Path, host: str, hosts: list[str], hps: dict, shards: dict[str, np.ndarray], distribution: str
) -> Path:
    config = base / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(hps))
    (config / "resourceconfig.json").write_text(json.dumps({"current_host": host, "hosts": hosts}))
    (config / "inputdataconfig.json").write_text(
        json.dumps({"train": {"ContentType": "text/csv", "S3DistributionType": distribution}})
    )
    for name, (x, y) in shards.items():
        write_csv(base / "input" / "data" / "train" / name, x, y)
    return base


def _train(bases: list[Path], addresses: dict[str, str] | None = None) -> list[subprocess.CompletedProcess]:
    env = {**os.environ, "SM_NUM_CPUS": "1", "PYTHONPATH": str(REPO)}
    if addresses:
        env["TRAINING_HOST_ADDRESSES"] = json.dumps(addresses)
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "training_code", "train"],
            env={**env, "SAGEMAKER_BASE_DIR": str(base)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for base in bases
    ]
    results = []
    for popen in started:
        out, _ = popen.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(popen.args, popen.returncode, out))
    return results


def _accuracy(base: Path, x, y) -> float:
    model, _ = model_io.load(base / "model")
    return score(model, x, y, 0)["accuracy"]


def test_two_hosts_train_one_model_through_the_collective_as_good_as_one_host(tmp_path):
    (train_x, train_y), (test_x, test_y) = split("breast_cancer")
    half = len(train_y) // 2
    shards = {
        "algo-1": {"part-0.csv": (train_x[:half], train_y[:half])},
        "algo-2": {"part-1.csv": (train_x[half:], train_y[half:])},
    }
    hosts = ["algo-1", "algo-2"]
    bases = [_host_tree(tmp_path / host, host, hosts, HPS, shards[host], "ShardedByS3Key") for host in hosts]
    single = _host_tree(
        tmp_path / "single", "algo-1", ["algo-1"], HPS, {"all.csv": (train_x, train_y)}, "FullyReplicated"
    )
    port = free_port()
    results = _train(bases, {host: f"127.0.0.1:{port}" for host in hosts})
    assert [r.returncode for r in results] == [0, 0], "\n".join(r.stdout for r in results)
    assert _train([single])[0].returncode == 0

    # one model: the first host writes it, and it was trained on both shards' rows
    assert (bases[0] / "model" / model_io.MODEL_FILE).is_file()
    assert not (bases[1] / "model").exists() or not any((bases[1] / "model").iterdir())
    metadata = json.loads((bases[0] / "model" / model_io.METADATA_FILE).read_text())
    assert metadata["hosts"] == 2 and metadata["train_rows"] == len(train_y)
    assert "joined the collective as rank 1 of 2" in results[1].stdout

    distributed, alone = _accuracy(bases[0], test_x, test_y), _accuracy(single, test_x, test_y)
    assert distributed >= alone - 0.03, (distributed, alone)
    # not the first host's half alone: its model predicts like the full-data model
    full, _ = model_io.load(single / "model")
    both, _ = model_io.load(bases[0] / "model")
    assert np.mean(np.abs(full.class_scores(test_x)[0] - both.class_scores(test_x)[0])) < 0.05


def test_a_non_distributable_algorithm_on_two_hosts_is_refused_naming_those_that_distribute(tmp_path):
    (train_x, train_y), _ = split("diabetes")
    base = _host_tree(
        tmp_path / "algo-1",
        "algo-1",
        ["algo-1", "algo-2"],
        {"algorithm": "ridge"},
        {"train.csv": (train_x, train_y)},
        "FullyReplicated",
    )
    result = _train([base])[0]
    assert result.returncode == 2
    failure = (base / "output" / "failure").read_text()
    assert "'ridge' trains on one instance only" in failure and "xgboost" in failure
    assert "InstanceCount" in failure
