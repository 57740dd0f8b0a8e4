"""Training-job inputs a careless user gives: each is a client error (exit 2, a failure file naming the file, row,
column or hyperparameter, no traceback), never an internal error."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import setup_job, split, write_csv

from training_code import train


def _assert_client_error(base, code, *needles):
    text = (base / "output" / "failure").read_text()
    assert code == 2, text
    assert "Traceback" not in text and not text.startswith("internal error"), text
    first = text.splitlines()[0]
    for needle in needles:
        assert needle in first, first
    assert not (base / "model" / "model.joblib").exists()


def _set_cell(base, line: int, column: int, value: str, channel: str = "train") -> None:
    path = base / "input" / "data" / channel / f"{channel}.csv"
    lines = path.read_text().splitlines()
    cells = lines[line - 1].split(",")
    cells[column - 1] = value
    lines[line - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity", "1e999"])
def test_infinite_cell(ml_base, value):
    setup_job(ml_base, "ridge", "diabetes")
    _set_cell(ml_base, 5, 3, value)
    _assert_client_error(ml_base, train.run(), "train.csv line 5, column 3", "not a finite number")


def test_infinite_cell_in_validation(ml_base):
    setup_job(ml_base, "logistic-regression", "breast_cancer")
    _set_cell(ml_base, 7, 2, "inf", channel="validation")
    _assert_client_error(ml_base, train.run(), "validation.csv line 7, column 2", "not a finite number")


def test_column_of_huge_values(ml_base):
    setup_job(ml_base, "logistic-regression", "breast_cancer")
    path = ml_base / "input" / "data" / "train" / "train.csv"
    rows = [line.split(",") for line in path.read_text().splitlines()]
    for row in rows:
        row[1] = "1e308"
    path.write_text("\n".join(",".join(row) for row in rows) + "\n")
    _assert_client_error(ml_base, train.run(), "train.csv line 1, column 2", "too large")


@pytest.mark.parametrize(("rows", "hps", "k"), [(2, {}, 5), (112, {"k": "500"}, 500)])
def test_knn_k_above_the_row_count(ml_base, rows, hps, k):
    (x, y), _ = split("iris")
    order = np.argsort(y, kind="stable")[[0, -1]] if rows == 2 else slice(None)
    write_csv(ml_base / "input" / "data" / "train" / "train.csv", x[order], y[order])
    (ml_base / "input" / "config" / "hyperparameters.json").write_text(json.dumps({"algorithm": "knn", **hps}))
    _assert_client_error(ml_base, train.run(), f"hyperparameter k ({k}) must not exceed the number of training rows")


@pytest.mark.parametrize("content", ['["algorithm", "ridge"]', '"ridge"', "42", "null"])
def test_hyperparameters_file_that_is_not_an_object(ml_base, content):
    setup_job(ml_base, "ridge", "diabetes")
    (ml_base / "input" / "config" / "hyperparameters.json").write_text(content)
    _assert_client_error(ml_base, train.run(), "hyperparameters.json must be a JSON object")


def test_sm_hps_that_is_not_an_object(ml_base, monkeypatch):
    setup_job(ml_base, "ridge", "diabetes")
    (ml_base / "input" / "config" / "hyperparameters.json").unlink()
    monkeypatch.setenv("SM_HPS", "[1, 2]")
    _assert_client_error(ml_base, train.run(), "SM_HPS must be a JSON object")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "inputdataconfig.json is not valid JSON"),
        ('["train"]', "inputdataconfig.json must be a JSON object"),
    ],
)
def test_inputdataconfig_that_is_not_a_json_object(ml_base, content, message):
    setup_job(ml_base, "ridge", "diabetes")
    (ml_base / "input" / "config" / "inputdataconfig.json").write_text(content)
    _assert_client_error(ml_base, train.run(), message)


def test_label_in_the_last_column(ml_base):
    (x, y), _ = split("breast_cancer")
    np.savetxt(_channel(ml_base, "train"), np.column_stack([x, y]), delimiter=",", fmt="%.10g")
    (ml_base / "input" / "config" / "hyperparameters.json").write_text('{"algorithm": "logistic-regression"}')
    _assert_client_error(ml_base, train.run(), "distinct values", "the label must be the first column")


def test_many_classes_with_enough_rows_still_train(ml_base):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(40), 3)  # 40 classes, 3 rows each: at most half as many classes as rows
    x = y[:, None] + rng.normal(0, 0.1, (len(y), 2))
    write_csv(_channel(ml_base, "train"), x, y)
    (ml_base / "input" / "config" / "hyperparameters.json").write_text('{"algorithm": "naive-bayes"}')
    assert train.run() == 0


def test_stale_failure_file_is_removed_by_a_success(ml_base):
    setup_job(ml_base, "ridge", "diabetes")
    failure = ml_base / "output" / "failure"
    failure.parent.mkdir(parents=True)
    failure.write_text("an earlier run failed\n")
    assert train.run() == 0
    assert not failure.exists()


def _channel(base, name):
    path = base / "input" / "data" / name / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
