"""Run in bench/.venv: save the benchmark pipeline in MLflow's model format for `mlflow models serve`."""

from __future__ import annotations

import sys

import joblib
import mlflow.sklearn

source, target = sys.argv[1], sys.argv[2]
mlflow.sklearn.save_model(joblib.load(source), target, serialization_format="cloudpickle")
print(f"MLflow model saved to {target}")
