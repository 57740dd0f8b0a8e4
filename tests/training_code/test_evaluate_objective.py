"""`evaluate --objective-metric`: the metric the quality gate reads, at a fixed path in evaluation.json."""

from __future__ import annotations

import json
import tarfile

import numpy as np
from sklearn.datasets import load_breast_cancer

from training_code.evaluate import main as evaluate_main


def _stage(ml_base, classifier_dir) -> None:
    model = ml_base / "processing" / "model"
    model.mkdir(parents=True)
    with tarfile.open(model / "model.tar.gz", "w:gz") as tar:
        for path in classifier_dir.iterdir():
            tar.add(path, arcname=path.name)
    data = load_breast_cancer()
    test = ml_base / "processing" / "test"
    test.mkdir(parents=True)
    np.savetxt(test / "test.csv", np.column_stack([data.target, data.data])[:120], delimiter=",", fmt="%.6g")


def test_objective_is_written_with_its_goal(ml_base, classifier_dir) -> None:
    _stage(ml_base, classifier_dir)
    assert evaluate_main(["--objective-metric", "f1"]) == 0
    report = json.loads((ml_base / "processing" / "evaluation" / "evaluation.json").read_text())
    assert report["objective"] == {"name": "f1", "value": report["metrics"]["f1"], "goal": "Maximize"}
    assert 0.8 < report["objective"]["value"] <= 1.0


def test_an_objective_the_task_does_not_measure_fails_with_the_measured_ones(ml_base, classifier_dir) -> None:
    _stage(ml_base, classifier_dir)
    assert evaluate_main(["--objective-metric", "rmse"]) == 2
    failure = (ml_base / "output" / "failure").read_text()
    assert failure.startswith("objective metric 'rmse' was not measured on this model's test data; measured: accuracy")
    assert not (ml_base / "processing" / "evaluation" / "evaluation.json").exists()


def test_the_plots_are_listed_titled_with_the_algorithm_and_score_and_include_a_roc_curve(
    ml_base, classifier_dir
) -> None:
    _stage(ml_base, classifier_dir)
    assert evaluate_main(["--objective-metric", "accuracy"]) == 0
    out = ml_base / "processing" / "evaluation"
    report = json.loads((out / "evaluation.json").read_text())
    assert report["plots"] == ["confusion_matrix.png", "roc_curve.png"] and report["plot"] == "confusion_matrix.png"
    for name in report["plots"]:
        assert (out / name).read_bytes().startswith(b"\x89PNG")
    accuracy = report["metrics"]["accuracy"]
    assert report["plot_titles"]["confusion_matrix.png"] == (
        f"Confusion matrix · {report['algorithm']} · accuracy {accuracy:.4f}"
    )


def test_integer_classes_are_labelled_as_integers() -> None:
    from training_code.plots import class_label

    assert [class_label(v) for v in (0.0, 1.0, 2.5, "cat")] == ["0", "1", "2.5", "cat"]
