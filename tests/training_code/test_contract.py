"""The stdlib-only contract modules (metrics, catalog, hyperparameters) and the CLI's registry output."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

# bound at collection: when other directories' tests share a worker, 'conftest' may later be theirs
from conftest import REPO, split, train_model

from training_code import catalog, hyperparameters
from training_code.metrics import METRIC_DEFINITIONS, METRIC_GOALS, format_metric_line, parse_metric_line


def test_contract_modules_import_with_stdlib_only():
    code = ("import sys; import training_code.metrics, training_code.catalog, training_code.hyperparameters, "
            "training_code.paths, training_code.__main__; "
            "heavy = [m for m in ('numpy', 'pandas', 'sklearn', 'xgboost', 'pyarrow', 'scipy') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_metric_definitions_shape():
    assert 0 < len(METRIC_DEFINITIONS) <= 40
    names = [d["Name"] for d in METRIC_DEFINITIONS]
    assert len(names) == len(set(names))
    for definition in METRIC_DEFINITIONS:
        assert set(definition) == {"Name", "Regex"}
        assert re.compile(definition["Regex"]).groups == 1
        channel, bare = definition["Name"].split(":")
        assert channel in ("train", "validation") and bare in METRIC_GOALS
    assert set(METRIC_GOALS.values()) == {"Maximize", "Minimize"}


def test_metric_lines_round_trip_through_the_regexes():
    values = {"train:loss": 0.41, "validation:accuracy": 0.953, "validation:rmse": 1.5e-07, "validation:r2": -0.25}
    line = format_metric_line(values, epoch=3)
    assert line.startswith("[epoch 3] ")
    assert parse_metric_line(line) == pytest.approx(values)
    # prefixes do not bleed: train:accuracy is not read as validation:accuracy
    assert parse_metric_line("train:accuracy=0.5;") == {"train:accuracy": 0.5}


@pytest.mark.parametrize("name", list(catalog.ALGORITHMS))
def test_catalog_entry_is_consistent(name):
    spec = catalog.ALGORITHMS[name]
    defined = {d["Name"] for d in METRIC_DEFINITIONS}
    assert spec["task"] in spec["tasks"]
    assert spec["objective_metric"] in defined and spec["objective_metric"].startswith("validation:")
    assert set(spec["metrics"]) <= defined
    # defaults parse, and every tuning range lies inside the hyperparameter's bounds
    algorithm, typed = hyperparameters.parse({"algorithm": name})
    assert algorithm == name
    for hp in spec["hyperparameters"].values():
        assert hp["type"] in ("integer", "continuous", "categorical")
        assert typed[hp["name"]] == hp["default"]
        tune = hp.get("tuning")
        if tune and hp["type"] != "categorical":
            assert hp["min"] <= tune["min"] < tune["max"] and (hp["max"] is None or tune["max"] <= hp["max"])
            assert tune["scaling"] in ("Linear", "Logarithmic")
            hyperparameters.parse({"algorithm": name, hp["name"]: str(tune["min"])})
            hyperparameters.parse({"algorithm": name, hp["name"]: str(tune["max"])})
        if tune and hp["type"] == "categorical":
            assert set(tune["values"]) <= set(hp["choices"])
    ranges = catalog.parameter_ranges(name)
    assert set(ranges) == {"IntegerParameterRanges", "ContinuousParameterRanges", "CategoricalParameterRanges"}


def test_required_registry_names():
    required = {"kmeans", "linear-learner", "linear-regression", "logistic-regression", "ridge", "lasso",
                "elastic-net", "random-forest", "random-forest-regressor", "gradient-boosting",
                "gradient-boosting-regressor", "xgboost", "knn", "pca", "naive-bayes", "linear-svm",
                "decision-tree", "isolation-forest"}
    assert required <= set(catalog.ALGORITHMS)
    assert set(catalog.ALGORITHMS["kmeans"]["hyperparameters"]) >= {"k", "init_method", "mini_batch_size", "epochs"}
    assert catalog.ALGORITHMS["linear-learner"]["hyperparameters"]["predictor_type"]["choices"] == [
        "binary_classifier", "multiclass_classifier", "regressor"]


def test_task_follows_hyperparameters():
    assert catalog.objective_metric("xgboost", {"objective": "binary:logistic"}) == "validation:accuracy"
    assert catalog.objective_metric("xgboost", {"objective": "reg:squarederror"}) == "validation:rmse"
    assert catalog.objective_metric("linear-learner", {"predictor_type": "regressor"}) == "validation:rmse"


@pytest.mark.parametrize(("raw", "message"), [
    ({"algorithm": "kmeans", "k": "x"}, "hyperparameter k must be an integer >= 2"),
    ({"algorithm": "kmeans", "k": "1"}, "hyperparameter k must be an integer >= 2"),
    ({"algorithm": "kmeans", "k": "2.5"}, "hyperparameter k must be an integer >= 2"),
    ({"algorithm": "foo"}, "unknown algorithm 'foo'; known: kmeans, linear-learner"),
    ({}, "hyperparameter algorithm is required"),
    ({"algorithm": "ridge", "alpha": "-1"}, "hyperparameter alpha must be a number >= 0.0"),
    ({"algorithm": "ridge", "alpha": "nan"}, "hyperparameter alpha must be a number"),
    ({"algorithm": "linear-learner", "predictor_type": "tree"}, "hyperparameter predictor_type must be one of"),
    ({"algorithm": "ridge", "alhpa": "1"}, "unknown hyperparameter alhpa for algorithm 'ridge'; known:"),
])
def test_hyperparameter_errors(raw, message):
    with pytest.raises(hyperparameters.UserError) as info:
        hyperparameters.parse(raw)
    assert str(info.value).startswith(message)


def test_hyperparameters_as_sagemaker_sends_them():
    # SDK JSON-encoded strings, tuning's private names and sagemaker_* are accepted
    algorithm, typed = hyperparameters.parse({"algorithm": '"kmeans"', "k": '"4"', "_tuning_objective_metric":
                                              "validation:msd", "sagemaker_region": '"eu-west-1"'})
    assert algorithm == "kmeans" and typed["k"] == 4


def test_cli_algorithms_json():
    out = subprocess.run([sys.executable, "-m", "training_code", "algorithms", "--json"], cwd=REPO, check=True,
                         capture_output=True, text=True).stdout
    doc = json.loads(out)
    names = [a["name"] for a in doc["algorithms"]]
    assert len(names) >= 16 and "xgboost" in names
    kmeans = next(a for a in doc["algorithms"] if a["name"] == "kmeans")
    assert kmeans["hyperparameters"]["k"] == {**kmeans["hyperparameters"]["k"], "type": "integer", "min": 2}
    assert doc["metric_goals"] == METRIC_GOALS


def test_cli_unknown_command():
    result = subprocess.run([sys.executable, "-m", "training_code", "fly"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2 and "unknown command 'fly'" in result.stderr


@pytest.mark.parametrize("data", ["breast_cancer", "iris"])
def test_numpy_metrics_equal_scikit_learn(tmp_path, data):
    import numpy as np
    from sklearn import metrics as skm

    from training_code import model_io, task_metrics

    model_dir = train_model(tmp_path / "ml", "logistic-regression", data, {"C": "0.01"})
    model, _ = model_io.load(model_dir)
    _, (x, y) = split(data)
    got = task_metrics.score(model, x, y)
    pred = model.predict(x)
    average = "binary" if len(model.classes) == 2 else "macro"
    proba = pred["scores"]
    expected = {
        "accuracy": skm.accuracy_score(y, pred["index"]),
        "precision": skm.precision_score(y, pred["index"], average=average),
        "recall": skm.recall_score(y, pred["index"], average=average),
        "f1": skm.f1_score(y, pred["index"], average=average),
        "roc_auc": skm.roc_auc_score(y, proba[:, 1]) if average == "binary"
        else skm.roc_auc_score(y, proba, multi_class="ovr"),
        "log_loss": skm.log_loss(y, proba),
    }
    assert got == pytest.approx(expected, rel=1e-9)
    assert np.isfinite(list(got.values())).all()


def test_numpy_regression_metrics_equal_scikit_learn():
    import numpy as np
    from sklearn import metrics as skm

    from training_code import task_metrics

    rng = np.random.default_rng(0)
    y, p = rng.normal(size=50), rng.normal(size=50)
    got = task_metrics.regression({"score": p}, y)
    assert got == pytest.approx({"rmse": skm.root_mean_squared_error(y, p), "mae": skm.mean_absolute_error(y, p),
                                 "r2": skm.r2_score(y, p)})
