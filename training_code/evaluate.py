"""``evaluate``: score model.tar.gz on the test split; write evaluation.json and a PNG plot."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from .catalog import CLASSIFICATION
from .cli_common import run_job
from .errors import UserError
from .evaluation_document import EvaluationDocument, GateMetric
from .metrics import METRIC_GOALS
from .paths import processing_dir


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training_code evaluate", description="Evaluate a trained model on held-out test data."
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=processing_dir("model") / "model.tar.gz",
        help="model.tar.gz, or a directory holding it or model.joblib",
    )
    parser.add_argument("--test-dir", type=Path, default=processing_dir("test"))
    parser.add_argument("--output-dir", type=Path, default=processing_dir("evaluation"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--objective-metric",
        default=None,
        help="the metric the pipeline's quality gate compares; written as evaluation.json's "
        "`objective` so the state machine reads it at a fixed path",
    )
    return parser.parse_args(argv)


def objective(metrics: dict, name: str | None) -> dict | None:
    if name is None:
        return None
    if name not in metrics:
        raise UserError(
            f"objective metric {name!r} was not measured on this model's test data; measured: "
            f"{', '.join(sorted(metrics))}"
        )
    return {"name": name, "value": metrics[name], "goal": METRIC_GOALS[name]}


def _first(metrics: dict) -> dict | None:
    """The metric a plot's title shows when no objective was named: the first one measured."""
    for name, value in metrics.items():
        return {"name": name, "value": value}
    return None


def _load(model_path: Path, scratch: Path):
    from . import model_io

    if model_path.is_dir():
        if (model_path / model_io.MODEL_FILE).is_file():
            return model_io.load(model_path)
        archives = sorted(model_path.glob("*.tar.gz"))
        if not archives:
            raise UserError(
                f"no model.tar.gz or {model_io.MODEL_FILE} in {model_path}; pass the training job's "
                "model artifact as the processing input"
            )
        model_path = archives[0]
    return model_io.load(model_io.extract(model_path, scratch))


def task_name(model) -> str:
    if model.task == CLASSIFICATION:
        return "binary_classification" if len(model.classes) == 2 else "multiclass_classification"
    return model.task


def evaluate(args: argparse.Namespace) -> dict:
    from .data import load_channel
    from .plots import for_task
    from .task_metrics import score

    with tempfile.TemporaryDirectory() as scratch:
        model, metadata = _load(args.model, Path(scratch))
    test = load_channel(args.test_dir, "test")
    expected = metadata.get("feature_count") or model.n_features
    if test.features.shape[1] != expected:
        raise UserError(
            f"test data has {test.features.shape[1]} features but the model was trained on {expected}; "
            "use the test split produced with the training data (label first, same features)"
        )
    metrics = score(model, test.features, test.labels, args.seed)
    if not metrics:
        raise UserError("no metric could be computed on the test data; check that it has labels in the first column")
    gate = objective(metrics, args.objective_metric)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    shown = gate or _first(metrics)
    caption = " · ".join(
        part for part in (metadata.get("algorithm"), shown and f"{shown['name']} {shown['value']:.4f}") if part
    )
    plots = for_task(args.output_dir, model, test.features, test.labels, model.predict(test.features), caption)
    report = EvaluationDocument(
        algorithm=metadata.get("algorithm"),
        task=task_name(model),
        metrics=metrics,
        objective=GateMetric(**gate) if gate else None,
        rows=test.rows,
        objective_metric=metadata.get("objective_metric"),
        class_labels=metadata.get("class_labels"),
        hyperparameters=metadata.get("hyperparameters"),
        training_metrics=metadata.get("metrics"),
        plot=next(iter(plots)),
        plots=list(plots),
        plot_titles=plots,
    ).as_json()
    (args.output_dir / "evaluation.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def main(argv: list[str]) -> int:
    def body():
        report = evaluate(parse_args(argv))
        print(json.dumps({"task": report["task"], "metrics": report["metrics"], "rows": report["rows"]}), flush=True)

    return run_job("evaluate", body)
