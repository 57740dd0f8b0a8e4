"""Training failures: a clear first line in output/failure, non-zero exit, no model left behind."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import setup_job, split, write_csv

from training_code import train


def _failure(base):
    return (base / "output" / "failure").read_text()


def _assert_failed(base, code, first_line_start):
    assert code != 0
    first = _failure(base).splitlines()[0]
    assert first.startswith(first_line_start), first
    assert not (base / "model" / "model.joblib").exists()
    assert not (base / "model" / "metadata.json").exists()


def test_train_channel_without_files(ml_base):
    (ml_base / "input" / "data" / "train").mkdir(parents=True)
    (ml_base / "input" / "config" / "hyperparameters.json").write_text('{"algorithm": "ridge"}')
    _assert_failed(ml_base, train.run(), "channel 'train' has no files")


def test_bad_cell_names_file_line_and_column(ml_base):
    setup_job(ml_base, "ridge", "diabetes")
    path = ml_base / "input" / "data" / "train" / "train.csv"
    lines = path.read_text().splitlines()
    cells = lines[16].split(",")
    cells[2] = "abc"
    lines[16] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    _assert_failed(ml_base, train.run(), "train.csv line 17, column 3: 'abc' is not a number")


def test_ragged_rows(ml_base):
    setup_job(ml_base, "ridge", "diabetes")
    path = ml_base / "input" / "data" / "train" / "train.csv"
    lines = path.read_text().splitlines()
    lines[4] = ",".join(lines[4].split(",")[:-1])
    path.write_text("\n".join(lines) + "\n")
    _assert_failed(ml_base, train.run(), "train.csv line 5 has 10 columns, expected 11")


@pytest.mark.parametrize(("hps", "message"), [
    ({"algorithm": "kmeans", "k": "x"}, "hyperparameter k must be an integer >= 2, got 'x'"),
    ({"algorithm": "foo"}, "unknown algorithm 'foo'; known: kmeans"),
    ({"algorithm": "kmeans", "k": "1000"}, "hyperparameter k (1000) must not exceed the number of training rows"),
    ({"algorithm": "linear-learner"}, "predictor_type binary_classifier needs 2 classes, the labels have 3"),
    ({"algorithm": "ridge", "feature_dim": "3"}, "unknown hyperparameter feature_dim"),
    ({"algorithm": "kmeans", "feature_dim": "7"}, "hyperparameter feature_dim is 7 but the data has 4 features"),
])
def test_bad_hyperparameters(ml_base, hps, message):
    setup_job(ml_base, "kmeans", "iris")
    (ml_base / "input" / "config" / "hyperparameters.json").write_text(json.dumps(hps))
    _assert_failed(ml_base, train.run(), message)


def test_regression_needs_numeric_labels(ml_base):
    base = ml_base / "input" / "data" / "train"
    base.mkdir(parents=True)
    (base / "t.csv").write_text("a,1,2\nb,3,4\nc,5,7\n")
    (ml_base / "input" / "config" / "hyperparameters.json").write_text('{"algorithm": "ridge"}')
    _assert_failed(ml_base, train.run(), "regression needs numeric labels")


def test_single_class_is_refused(ml_base):
    (train_x, _), _ = split("iris")
    write_csv(ml_base / "input" / "data" / "train" / "t.csv", train_x, np.zeros(len(train_x)))
    (ml_base / "input" / "config" / "hyperparameters.json").write_text('{"algorithm": "naive-bayes"}')
    _assert_failed(ml_base, train.run(), "classification needs at least 2 classes")


def test_validation_with_other_feature_count(ml_base):
    setup_job(ml_base, "ridge", "diabetes")
    write_csv(ml_base / "input" / "data" / "validation" / "validation.csv", np.ones((5, 3)), np.ones(5))
    _assert_failed(ml_base, train.run(), "channel 'validation' has 3 features but 'train' has 10")


def test_failure_while_saving_leaves_no_partial_model(ml_base, monkeypatch):
    import joblib

    setup_job(ml_base, "ridge", "diabetes")
    (ml_base / "model").mkdir(parents=True)
    (ml_base / "model" / "model.joblib").write_text("stale")

    def broken_dump(obj, path, *args, **kwargs):
        Path(path).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(joblib, "dump", broken_dump)
    code = train.run()
    assert code == 1
    assert _failure(ml_base).startswith("internal error: OSError: disk full")
    assert [p.name for p in (ml_base / "model").iterdir()] == []


def test_sm_environment_overrides(ml_base, tmp_path, monkeypatch):
    """SM_CHANNEL_TRAIN, SM_MODEL_DIR and SM_HPS are honoured like the SageMaker training toolkit does."""
    (train_x, train_y), _ = split("diabetes")
    write_csv(tmp_path / "elsewhere" / "d.csv", train_x, train_y)
    monkeypatch.setenv("SM_CHANNEL_TRAIN", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("SM_MODEL_DIR", str(tmp_path / "model-out"))
    monkeypatch.setenv("SM_HPS", json.dumps({"algorithm": "lasso", "alpha": "0.5"}))
    assert train.run() == 0
    metadata = json.loads((tmp_path / "model-out" / "metadata.json").read_text())
    assert metadata["hyperparameters"]["alpha"] == 0.5
    assert "validation:r2" not in metadata["metrics"] and "train:r2" in metadata["metrics"]
