"""Fixtures: a temporary /opt/ml tree (SAGEMAKER_BASE_DIR) and scikit-learn datasets written as channels."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]

# algorithm -> (dataset, extra hyperparameters, metric, floor, higher is better)
CASES = {
    "kmeans": ("iris", {"k": "3", "epochs": "5", "mini_batch_size": "50"}, "validation:silhouette", 0.3, True),
    "linear-learner": ("breast_cancer", {"epochs": "10", "mini_batch_size": "64"}, "validation:accuracy", 0.9, True),
    "linear-regression": ("diabetes", {}, "validation:r2", 0.3, True),
    "logistic-regression": ("breast_cancer", {}, "validation:accuracy", 0.93, True),
    "ridge": ("diabetes", {}, "validation:r2", 0.3, True),
    "lasso": ("diabetes", {}, "validation:r2", 0.3, True),
    "elastic-net": ("diabetes", {"alpha": "0.1"}, "validation:r2", 0.3, True),
    "random-forest": ("wine", {"n_estimators": "30"}, "validation:accuracy", 0.85, True),
    "random-forest-regressor": ("diabetes", {"n_estimators": "30"}, "validation:r2", 0.25, True),
    "gradient-boosting": ("iris", {"n_estimators": "30"}, "validation:accuracy", 0.85, True),
    "gradient-boosting-regressor": ("diabetes", {"n_estimators": "50"}, "validation:r2", 0.25, True),
    "xgboost": ("breast_cancer", {"objective": "binary:logistic", "num_round": "20"}, "validation:accuracy", 0.9,
                True),
    "knn": ("iris", {}, "validation:accuracy", 0.85, True),
    "pca": ("wine", {"num_components": "5"}, "validation:explained_variance_ratio", 0.6, True),
    "naive-bayes": ("iris", {}, "validation:accuracy", 0.85, True),
    "linear-svm": ("breast_cancer", {}, "validation:accuracy", 0.93, True),
    "decision-tree": ("iris", {"max_depth": "4"}, "validation:accuracy", 0.85, True),
    "isolation-forest": ("breast_cancer", {"num_trees": "50"}, "validation:roc_auc", 0.6, True),
}


def dataset(name: str):
    from sklearn import datasets

    loader = getattr(datasets, f"load_{name}")
    x, y = loader(return_X_y=True)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    return x[order], y[order]


def split(name: str, fraction: float = 0.25):
    x, y = dataset(name)
    cut = int(len(y) * (1 - fraction))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def write_csv(path: Path, x: np.ndarray, y: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, np.column_stack([y, x]), delimiter=",", fmt="%.10g")
    return path


@pytest.fixture
def ml_base(tmp_path, monkeypatch) -> Path:
    base = tmp_path / "opt_ml"
    (base / "input" / "config").mkdir(parents=True)
    monkeypatch.setenv("SAGEMAKER_BASE_DIR", str(base))
    for name in ("SM_MODEL_DIR", "SM_HPS", "SM_CHANNEL_TRAIN", "SM_CHANNEL_VALIDATION", "SM_OUTPUT_DATA_DIR",
                 "SM_INPUT_DATA_CONFIG", "SM_NUM_CPUS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SM_NUM_CPUS", "1")
    return base


def setup_job(base: Path, algorithm: str, data: str, hps: dict | None = None, validation: bool = True) -> None:
    (train_x, train_y), (val_x, val_y) = split(data)
    write_csv(base / "input" / "data" / "train" / "train.csv", train_x, train_y)
    if validation:
        write_csv(base / "input" / "data" / "validation" / "validation.csv", val_x, val_y)
    values = {"algorithm": algorithm, **(hps or {})}
    (base / "input" / "config" / "hyperparameters.json").write_text(json.dumps(values))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
