"""Fixtures: a temporary /opt/ml tree (SAGEMAKER_BASE_DIR) and scikit-learn datasets written as channels."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
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


class FakeScope:
    """The parts of an RSGI scope the App reads."""

    def __init__(self, path: str, method: str = "POST", headers: dict | None = None):
        self.path = path
        self.method = method
        self.headers = {k.lower(): v for k, v in (headers or {}).items()}


class FakeProto:
    """An in-memory RSGI HTTP protocol: hands over the body, records the response."""

    def __init__(self, body: bytes = b"", chunk: int = 65536):
        self.body = body
        self.chunk = chunk
        self.status = None
        self.headers = None
        self.response = b""

    async def __call__(self):
        return self.body

    def __aiter__(self):
        async def chunks():
            for start in range(0, len(self.body), self.chunk):
                yield self.body[start:start + self.chunk]
        return chunks()

    def response_empty(self, status, headers):
        self.status, self.headers = status, headers

    def response_str(self, status, headers, body):
        self.status, self.headers, self.response = status, headers, body.encode()

    def response_bytes(self, status, headers, body):
        self.status, self.headers, self.response = status, headers, body


def call_app(app, path="/invocations", body=b"", content_type="text/csv", accept=None, method="POST",
             content_length=True):
    import asyncio

    headers = {}
    if content_type is not None:
        headers["content-type"] = content_type
    if accept is not None:
        headers["accept"] = accept
    if content_length:
        headers["content-length"] = str(len(body))
    proto = FakeProto(body)
    asyncio.run(app.__rsgi__(FakeScope(path, method, headers), proto))
    return proto.status, proto.response


def make_app(model_dir: Path, max_payload: int = 6 * 1024 * 1024):
    from training_code.predictor import Predictor
    from training_code.serving import App

    return App(Predictor(model_dir), max_payload=max_payload, timeout=60, workers=1)


def csv_rows(x: np.ndarray) -> bytes:
    return ("\n".join(",".join(repr(float(v)) for v in row) for row in x) + "\n").encode()


def train_model(base: Path, algorithm: str, data: str, hps: dict | None = None) -> Path:
    """Train in-process into ``base`` (a fresh /opt/ml tree) and return the model dir."""
    from training_code import train

    (base / "input" / "config").mkdir(parents=True, exist_ok=True)
    setup_job(base, algorithm, data, hps)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SAGEMAKER_BASE_DIR", str(base))
        patch.setenv("SM_NUM_CPUS", "1")
        for name in ("SM_MODEL_DIR", "SM_HPS", "SM_CHANNEL_TRAIN", "SM_CHANNEL_VALIDATION"):
            patch.delenv(name, raising=False)
        assert train.run() == 0, (base / "output" / "failure").read_text()
    return base / "model"


@pytest.fixture(scope="module")
def classifier_dir(tmp_path_factory) -> Path:
    """StandardScaler + LogisticRegression on breast_cancer (30 features, labels 0/1)."""
    return train_model(tmp_path_factory.mktemp("clf") / "ml", "logistic-regression", "breast_cancer")


def start_server(base, port, log=subprocess.PIPE, **env):
    """``python -m training_code serve`` in a subprocess; ``log``: where its output goes (a file for chatty runs)."""
    environment = {**os.environ, "SAGEMAKER_BASE_DIR": str(base), "SAGEMAKER_BIND_TO_PORT": str(port),
                   "SAGEMAKER_BIND_HOST": "127.0.0.1", "SAGEMAKER_MODEL_SERVER_WORKERS": "1", **env}
    environment.pop("SM_MODEL_DIR", None)
    # its own process group, so cleanup can stop Granian's workers too, never leaving orphans
    return subprocess.Popen([sys.executable, "-m", "training_code", "serve"], cwd=REPO, env=environment,
                            stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True)


_HTTP = httpx.Client()  # one client: `httpx.get` loads the CA bundle on every call (38 ms of CPU)


def wait_for_ping(port, process, seconds=15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else process.returncode
        try:
            if _HTTP.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                return time.monotonic()
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"no /ping within {seconds:g} s")
