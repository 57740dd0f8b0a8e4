"""Processing on many instances: each its shard, the split by row hash, the baseline merged from every shard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, free_port

pytestmark = pytest.mark.slow

ARGS = ["--split", "hash", "--impute", "mean", "--scale", "standard", "--seed", "3"]


def _raw(directory: Path, objects: int = 4, rows: int = 150) -> list[Path]:
    rng = np.random.default_rng(1)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(objects):
        x = rng.normal(size=(rows, 3)) * [1, 10, 100]
        x[rng.random(x.shape) < 0.05] = np.nan  # missing values to impute
        y = rng.integers(0, 3, rows)
        lines = [
            ",".join([str(label), *("" if np.isnan(v) else f"{v:.6f}" for v in row)])
            for label, row in zip(y, x, strict=True)
        ]
        path = directory / f"part-{index}.csv"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths


def _instances(
    root: Path, files: list[Path], count: int, args: list[str], distribution: str = "ShardedByS3Key"
) -> tuple[list[Path], list]:
    names = [f"algo-{i}" for i in range(1, count + 1)]
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "TRAINING_HOST_ADDRESSES": json.dumps(dict.fromkeys(names, f"127.0.0.1:{free_port()}")),
    }
    bases, popens = [], []
    for index, host in enumerate(names):
        base = root / host
        (base / "config").mkdir(parents=True)
        (base / "config" / "resourceconfig.json").write_text(json.dumps({"current_host": host, "hosts": names}))
        (base / "config" / "processingjobconfig.json").write_text(
            json.dumps(
                {
                    "ProcessingInputs": [
                        {
                            "InputName": "raw",
                            "S3Input": {
                                "LocalPath": "/opt/ml/processing/input",
                                "S3DataDistributionType": distribution,
                            },
                        }
                    ]
                }
            )
        )
        raw = base / "processing" / "input"
        raw.mkdir(parents=True)
        shard = files[index::count] if distribution == "ShardedByS3Key" else files
        for path in shard:  # ShardedByS3Key: each instance its share of the objects
            (raw / path.name).write_bytes(path.read_bytes())
        popens.append(
            subprocess.Popen(
                [sys.executable, "-m", "training_code", "process", *args],
                env={**env, "SAGEMAKER_BASE_DIR": str(base)},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
        bases.append(base)
    results = [(p.communicate(timeout=300)[0], p.returncode) for p in popens]
    return bases, results


def _rows(bases: list[Path], split: str) -> list[str]:
    return sorted(
        line
        for base in bases
        for path in (base / "processing" / split).glob("*.csv")
        for line in path.read_text().splitlines()
    )


def test_two_instances_write_the_same_split_row_for_row_and_the_same_baseline_as_one(tmp_path):
    files = _raw(tmp_path / "raw")
    one, [(out, code)] = _instances(tmp_path / "one", files, 1, ARGS)
    assert code == 0, out
    two, results = _instances(tmp_path / "two", files, 2, ARGS)
    assert [code for _, code in results] == [0, 0], "\n".join(out for out, _ in results)
    for split in ("train", "validation", "test"):
        assert _rows(one, split) == _rows(two, split) and _rows(one, split), split
    assert sorted(p.name for p in (two[1] / "processing" / "train").iterdir()) == ["train-algo-2.csv"]
    assert not (two[1] / "processing" / "baseline").exists()  # the first instance writes the baseline
    single = json.loads((one[0] / "processing" / "baseline" / "statistics.json").read_text())
    merged = json.loads((two[0] / "processing" / "baseline" / "statistics.json").read_text())
    assert merged["splits"] == single["splits"] and sum(single["splits"].values()) == 600
    assert merged["label"] == single["label"] and merged["instances"] == 2
    for a, b in zip(single["features"], merged["features"], strict=True):
        assert a.keys() == b.keys()
        for key in ("count", "missing", "inferred_type"):
            assert a[key] == b[key], key
        # the same rows, summed in another order: equal to the last bits
        for key in ("mean", "std", "min", "max", "p5", "p50", "p95"):
            assert b[key] == pytest.approx(a[key], rel=1e-9, abs=1e-12), key
        assert abs(b["mean"]) < 1e-9 and abs(b["std"] - 1) < 1e-9  # standardised with the merged moments


def test_a_fully_replicated_input_on_two_instances_is_split_among_them_by_row_hash(tmp_path):
    files = _raw(tmp_path / "raw", objects=1, rows=300)
    one, [(out, code)] = _instances(tmp_path / "one", files, 1, ARGS)
    assert code == 0, out
    two, results = _instances(tmp_path / "two", files, 2, ARGS, distribution="FullyReplicated")
    assert [code for _, code in results] == [0, 0], "\n".join(out for out, _ in results)
    for split in ("train", "validation", "test"):
        assert _rows(one, split) == _rows(two, split), split
    assert "processes" in results[1][0] and "(by row hash)" in results[1][0]


def test_a_random_split_on_two_instances_is_refused_with_the_fix(tmp_path):
    files = _raw(tmp_path / "raw", objects=2)
    bases, [(out, code)] = _instances(tmp_path / "x", files[:1], 1, ["--split", "random"])
    assert code == 0, out
    config = bases[0] / "config" / "resourceconfig.json"
    config.write_text(json.dumps({"current_host": "algo-1", "hosts": ["algo-1", "algo-2"]}))
    result = subprocess.run(
        [sys.executable, "-m", "training_code", "process", "--split", "random"],
        env={**os.environ, "PYTHONPATH": str(REPO), "SAGEMAKER_BASE_DIR": str(bases[0])},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "use --split hash" in (bases[0] / "output" / "failure").read_text()
