"""``process``: raw files with or without header, CSV or Parquet -> splits + baseline, honouring the options."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from training_code.process import main as process_main


def _iris_frame(string_labels=True) -> pd.DataFrame:
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    label = frame.pop("target")
    if string_labels:
        label = label.map({0: "setosa", 1: "versicolor", 2: "virginica"})
    frame.insert(0, "species", label)
    return frame


def _read(path):
    return pd.read_csv(path, header=None)


def test_header_csv_stratified_split_with_baseline(ml_base):
    raw = ml_base / "processing" / "input"
    raw.mkdir(parents=True)
    frame = _iris_frame()
    frame.iloc[:75].to_csv(raw / "part-1.csv", index=False)
    frame.iloc[75:].to_csv(raw / "part-2.csv", index=False)
    assert process_main(["--validation-fraction", "0.2", "--test-fraction", "0.2", "--seed", "3"]) == 0
    out = ml_base / "processing"
    train, validation, test = (_read(out / n / f"{n}.csv") for n in ("train", "validation", "test"))
    assert (len(train), len(validation), len(test)) == (90, 30, 30)
    assert train.shape[1] == 5 and set(train[0]) == {"setosa", "versicolor", "virginica"}
    assert validation[0].value_counts().tolist() == [10, 10, 10]  # stratified
    stats = json.loads((out / "baseline" / "statistics.json").read_text())
    schema = json.loads((out / "baseline" / "schema.json").read_text())
    assert stats["dataset"] == {"rows": 90, "features": 4}
    assert stats["features"][0]["name"] == "sepal length (cm)" and stats["features"][0]["missing"] == 0
    assert schema["label"]["classes"] == ["setosa", "versicolor", "virginica"]


def test_headerless_parquet_impute_and_scale(ml_base):
    raw = ml_base / "processing" / "input"
    raw.mkdir(parents=True)
    frame = _iris_frame(string_labels=False)
    frame.iloc[5, 2] = np.nan
    frame.to_parquet(raw / "iris.parquet")
    assert process_main(["--impute", "median", "--scale", "standard", "--test-fraction", "0",
                         "--validation-fraction", "0.25"]) == 0
    train = _read(ml_base / "processing" / "train" / "train.csv")
    assert not train.isna().any().any()
    assert abs(train.iloc[:, 1:].mean()).max() < 1e-6
    assert not (ml_base / "processing" / "test").exists()


def test_missing_values_kept_without_impute_and_no_stratify(ml_base, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    frame = _iris_frame(string_labels=False)
    frame.iloc[0, 1] = np.nan
    frame.to_csv(raw / "data.csv", index=False, header=False)
    out = tmp_path / "out"
    args = ["--input-dir", str(raw), "--train-dir", str(out / "tr"), "--validation-dir", str(out / "va"),
            "--test-dir", str(out / "te"), "--baseline-dir", str(out / "bl"), "--no-stratify"]
    assert process_main(args) == 0
    frames = [_read(out / d / f"{n}.csv") for d, n in (("tr", "train"), ("va", "validation"), ("te", "test"))]
    assert sum(f.isna().sum().sum() for f in frames) == 1
    stats = json.loads((out / "bl" / "statistics.json").read_text())
    assert stats["options"]["stratify"] is False


def test_label_column_by_name(ml_base):
    raw = ml_base / "processing" / "input"
    raw.mkdir(parents=True)
    frame = _iris_frame()
    frame = frame[[c for c in frame.columns if c != "species"] + ["species"]]
    frame.to_csv(raw / "iris.csv", index=False)
    assert process_main(["--label-column", "species"]) == 0
    train = _read(ml_base / "processing" / "train" / "train.csv")
    assert set(train[0]) == {"setosa", "versicolor", "virginica"}


@pytest.mark.parametrize(("args", "setup", "message"), [
    ([], None, "channel 'input' has no files"),
    (["--validation-fraction", "0.6", "--test-fraction", "0.5"], "ok", "--validation-fraction + --test-fraction"),
    (["--label-column", "nope"], "ok", "--label-column 'nope' not found"),
    ([], "text", "iris.csv line 4, column 2: 'oops' is not a number"),
])
def test_process_errors(ml_base, args, setup, message):
    raw = ml_base / "processing" / "input"
    raw.mkdir(parents=True)
    if setup:
        frame = _iris_frame()
        if setup == "text":
            frame = frame.astype(object)
            frame.iloc[2, 1] = "oops"
        frame.to_csv(raw / "iris.csv", index=False)
    assert process_main(args) == 2
    assert (ml_base / "output" / "failure").read_text().startswith(message)


def test_process_cli_as_container_arguments(ml_base):
    raw = ml_base / "processing" / "input"
    raw.mkdir(parents=True)
    _iris_frame().to_csv(raw / "iris.csv", index=False)
    result = subprocess.run([sys.executable, "-m", "training_code", "process", "--stratify", "--seed", "7"],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"train": 105, "validation": 22, "test": 23}


def test_evaluate_errors(ml_base, classifier_dir):
    import tarfile

    from training_code.evaluate import main as evaluate_main

    assert evaluate_main([]) == 2
    assert (ml_base / "output" / "failure").read_text().startswith("model archive")
    model = ml_base / "processing" / "model"
    model.mkdir(parents=True)
    with tarfile.open(model / "model.tar.gz", "w:gz") as tar:
        for path in classifier_dir.iterdir():
            tar.add(path, arcname=path.name)
    assert evaluate_main([]) == 2
    assert (ml_base / "output" / "failure").read_text().startswith("channel 'test' has no files")
    test = ml_base / "processing" / "test"
    test.mkdir(parents=True)
    (test / "t.csv").write_text("1,2,3\n0,4,5\n")
    assert evaluate_main([]) == 2
    assert (ml_base / "output" / "failure").read_text().startswith(
        "test data has 2 features but the model was trained on 30")
