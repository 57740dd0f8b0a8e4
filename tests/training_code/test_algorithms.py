"""Every algorithm end to end: train (in-process, temp /opt/ml) -> metrics in the log -> evaluate -> serve."""

from __future__ import annotations

import json
import tarfile

import numpy as np
import orjson
import pytest
from conftest import CASES, call_app, csv_rows, make_app, setup_job, split, write_csv

from training_code import catalog, train
from training_code.evaluate import main as evaluate_main
from training_code.metrics import METRIC_DEFINITIONS, METRIC_GOALS, parse_metric_line


@pytest.mark.parametrize("algorithm", list(CASES))
def test_train_evaluate_serve(algorithm, ml_base, capsys):
    data, hps, metric, floor, _ = CASES[algorithm]
    setup_job(ml_base, algorithm, data, hps)

    assert train.run() == 0, (ml_base / "output" / "failure").read_text()
    log = capsys.readouterr().out

    # model + metadata
    model_dir = ml_base / "model"
    metadata = json.loads((model_dir / "metadata.json").read_text())
    assert (model_dir / "model.joblib").is_file()
    assert metadata["algorithm"] == algorithm
    assert metadata["feature_count"] == split(data)[0][0].shape[1]
    assert "scikit-learn" in metadata["library_versions"]
    assert metadata["metrics"][metric] >= floor

    # the log lines SageMaker would parse: the objective is in the final line, per epoch when iterative
    lines = [parse_metric_line(line) for line in log.splitlines()]
    parsed = [found for found in lines if found]
    objective = catalog.objective_metric(algorithm, metadata["hyperparameters"])
    assert objective in {d["Name"] for d in METRIC_DEFINITIONS}
    assert objective in parsed[-1], f"{objective} missing from the final metric line"
    assert parsed[-1][objective] == pytest.approx(metadata["metrics"][objective], rel=1e-4)
    if catalog.ALGORITHMS[algorithm]["iterative"]:
        epochs = [line for line in log.splitlines() if line.startswith("[epoch ")]
        assert len(epochs) >= 2 and all(objective in parse_metric_line(line) for line in epochs)
        assert "train:loss" in parse_metric_line(epochs[0])

    # evaluate from model.tar.gz, as the evaluation processing job does
    processing = ml_base / "processing"
    (processing / "model").mkdir(parents=True)
    with tarfile.open(processing / "model" / "model.tar.gz", "w:gz") as tar:
        for path in model_dir.iterdir():
            tar.add(path, arcname=path.name)
    (_, _), (test_x, test_y) = split(data)
    write_csv(processing / "test" / "test.csv", test_x, test_y)
    assert evaluate_main([]) == 0
    report = json.loads((processing / "evaluation" / "evaluation.json").read_text())
    assert report["algorithm"] == algorithm and report["rows"] == len(test_y)
    assert report["metrics"], "every algorithm yields at least one metric"
    assert set(report["metrics"]) <= set(METRIC_GOALS), "every evaluation.json metric has a tuning goal"
    assert report["task"] in ("binary_classification", "multiclass_classification", "regression", "clustering",
                              "anomaly_detection", "dimensionality_reduction")
    assert report["metrics"][metric.split(":")[1]] >= floor
    assert (processing / "evaluation" / report["plot"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # serve: the same rows through the HTTP app, CSV and JSON
    app = make_app(model_dir)
    status, body = call_app(app, body=csv_rows(test_x[:5]), accept="text/csv")
    assert status == 200, body
    assert len(body.decode().strip().splitlines()) == 5
    status, body = call_app(app, body=orjson.dumps({"instances": test_x[:3].tolist()}),
                            content_type="application/json", accept="application/json")
    assert status == 200, body
    doc = orjson.loads(body)
    records = next(iter(doc.values()))
    assert len(records) == 3
    task = report["task"]
    if task.endswith("classification"):
        assert set(records[0]) == {"predicted_label", "score"}
        assert records[0]["predicted_label"] in metadata["class_labels"]
    elif task == "clustering":
        assert set(records[0]) == {"closest_cluster", "distance_to_cluster"}
    elif task == "regression":
        assert set(records[0]) == {"score"}
        assert np.isfinite(records[0]["score"])


def test_string_labels_round_trip(ml_base, capsys):
    """Text labels (e.g. species names) train and come back as the same text."""
    (train_x, train_y), (val_x, val_y) = split("iris")
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)
    base = ml_base / "input" / "data"
    channels = (("train", train_x, names[train_y.astype(int)]), ("validation", val_x, names[val_y.astype(int)]))
    for channel, x, y in channels:
        (base / channel).mkdir(parents=True)
        lines = [",".join([label, *map(str, row)]) for label, row in zip(y, x, strict=True)]
        (base / channel / f"{channel}.csv").write_text("\n".join(lines) + "\n")
    (ml_base / "input" / "config" / "hyperparameters.json").write_text(json.dumps({"algorithm": "logistic-regression"}))
    assert train.run() == 0
    metadata = json.loads((ml_base / "model" / "metadata.json").read_text())
    assert metadata["class_labels"] == list(names)
    status, body = call_app(make_app(ml_base / "model"), body=csv_rows(val_x[:4]), accept="text/csv")
    assert status == 200 and set(body.decode().split()) <= set(names)
