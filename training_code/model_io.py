"""Write and read the model directory: model.joblib + metadata.json, written atomically."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"


def library_versions() -> dict:
    import importlib.metadata as md

    versions = {}
    for name in ("numpy", "scipy", "pandas", "pyarrow", "scikit-learn", "xgboost-cpu", "joblib"):
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            continue
    import platform

    versions["python"] = platform.python_version()
    return versions


def save(model_dir: Path, model, metadata: dict) -> None:
    """Stage in a sibling temp dir, then move files in: a failure leaves no partial model behind."""
    import joblib

    model_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=model_dir))
    try:
        joblib.dump(model, staging / MODEL_FILE)
        (staging / METADATA_FILE).write_text(json.dumps(metadata, indent=2, default=str) + "\n")
        for name in (MODEL_FILE, METADATA_FILE):
            os.replace(staging / name, model_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def clear(model_dir: Path) -> None:
    for name in (MODEL_FILE, METADATA_FILE):
        with contextlib.suppress(FileNotFoundError):
            (model_dir / name).unlink()
    if model_dir.is_dir():
        for staging in model_dir.glob(".staging-*"):
            shutil.rmtree(staging, ignore_errors=True)


def load(model_dir: Path):
    """(model, metadata) from a model directory."""
    import joblib

    from .errors import UserError

    path = model_dir / MODEL_FILE
    if not path.is_file():
        raise UserError(f"no model at {path}; train first (the model directory must hold {MODEL_FILE} and "
                        f"{METADATA_FILE}, as model.tar.gz from training does)")
    metadata_path = model_dir / METADATA_FILE
    metadata = json.loads(metadata_path.read_text()) if metadata_path.is_file() else {}
    return joblib.load(path), metadata


def extract(archive: Path, target: Path) -> Path:
    """Extract model.tar.gz safely (no paths outside the target)."""
    from .errors import UserError

    if not archive.is_file():
        raise UserError(f"model archive {archive} not found; pass the training job's model.tar.gz")
    with tarfile.open(archive, "r:*") as tar:
        tar.extractall(target, filter="data")
    return target
