"""Hyperparameter-dependent variants: linear-learner's three predictor types, xgboost objectives and early
stopping, k-NN regression."""

from __future__ import annotations

import json

import pytest
from conftest import setup_job

from training_code import train
from training_code.metrics import metric_goal

VARIANTS = [
    ("linear-learner", "diabetes", {"predictor_type": "regressor", "epochs": "30", "mini_batch_size": "32"},
     "validation:r2", 0.3),
    ("linear-learner", "iris", {"predictor_type": "multiclass_classifier", "epochs": "40", "mini_batch_size": "8",
                                "learning_rate": "0.1"}, "validation:accuracy", 0.85),
    ("xgboost", "diabetes", {"num_round": "30", "max_depth": "2", "eta": "0.1"}, "validation:r2", 0.25),
    ("xgboost", "iris", {"objective": "multi:softprob", "num_round": "10"}, "validation:accuracy", 0.85),
    ("knn", "diabetes", {"predictor_type": "regressor", "k": "15"}, "validation:r2", 0.25),
]


@pytest.mark.parametrize(("algorithm", "data", "hps", "metric", "floor"), VARIANTS)
def test_variant_quality(ml_base, algorithm, data, hps, metric, floor):
    setup_job(ml_base, algorithm, data, hps)
    assert train.run() == 0, (ml_base / "output" / "failure").read_text()
    metadata = json.loads((ml_base / "model" / "metadata.json").read_text())
    assert metadata["metrics"][metric] >= floor
    objective = metadata["objective_metric"]
    assert objective in metadata["metrics"]
    assert metric_goal(objective) in ("Maximize", "Minimize")


def test_xgboost_early_stopping(ml_base, capsys):
    hps = {"objective": "binary:logistic", "num_round": "500", "eta": "0.5", "early_stopping_rounds": "3"}
    setup_job(ml_base, "xgboost", "breast_cancer", hps)
    assert train.run() == 0
    out = capsys.readouterr().out
    assert "early stopping at epoch" in out
    epochs = [line for line in out.splitlines() if line.startswith("[epoch ")]
    assert len(epochs) < 500


def test_metric_goal_lookup():
    assert metric_goal("validation:rmse") == "Minimize" and metric_goal("accuracy") == "Maximize"
    with pytest.raises(KeyError, match="unknown metric 'validation:nope'"):
        metric_goal("validation:nope")
