"""Metrics per task, shared by training (train:/validation: lines) and evaluation (evaluation.json)."""

from __future__ import annotations

import math

import numpy as np
from sklearn import metrics as skm

from .catalog import ANOMALY, CLASSIFICATION, CLUSTERING, REDUCTION, REGRESSION
from .model import Model

SILHOUETTE_SAMPLE = 2000


def _finite(values: dict) -> dict:
    return {k: float(v) for k, v in values.items() if v is not None and math.isfinite(float(v))}


def classification(model: Model, out: dict, labels: np.ndarray) -> dict:
    classes = model.classes
    known = np.isin(labels, classes)
    y = np.searchsorted(classes, labels)
    y[~known] = -1
    pred = out["index"]
    result = {"accuracy": skm.accuracy_score(y, pred)}
    binary = len(classes) == 2
    average = "binary" if binary else "macro"
    kwargs = {"average": average, "zero_division": 0}
    if not binary:
        kwargs["labels"] = np.arange(len(classes))
    result["precision"] = skm.precision_score(y, pred, **kwargs)
    result["recall"] = skm.recall_score(y, pred, **kwargs)
    result["f1"] = skm.f1_score(y, pred, **kwargs)
    scores = out["scores"]
    present = np.unique(y[known])
    if known.all() and len(present) == len(classes):
        if binary:
            result["roc_auc"] = skm.roc_auc_score(y, out["score"])
        elif out["probabilities"]:
            result["roc_auc"] = skm.roc_auc_score(y, scores, multi_class="ovr", labels=np.arange(len(classes)))
    if out["probabilities"] and known.all():
        proba = scores if scores.ndim == 2 else None
        if proba is not None:
            result["log_loss"] = skm.log_loss(y, proba, labels=np.arange(len(classes)))
    return _finite(result)


def regression(out: dict, labels: np.ndarray) -> dict:
    y = np.asarray(labels, dtype=np.float64)
    pred = out["score"]
    result = {"rmse": math.sqrt(skm.mean_squared_error(y, pred)), "mae": skm.mean_absolute_error(y, pred)}
    if len(y) > 1:
        result["r2"] = skm.r2_score(y, pred)
    return _finite(result)


def clustering(model: Model, features: np.ndarray, out: dict, seed: int = 0) -> dict:
    dist = out["distance_to_cluster"]
    result = {"msd": float(np.mean(dist**2)), "inertia": float(np.sum(dist**2))}
    clusters = out["closest_cluster"]
    if 2 <= len(np.unique(clusters)) <= len(clusters) - 1:
        x = model.transform(features)
        sample = min(SILHOUETTE_SAMPLE, len(clusters))
        result["silhouette"] = skm.silhouette_score(x, clusters, sample_size=sample, random_state=seed)
    return _finite(result)


def anomaly(out: dict, labels: np.ndarray | None) -> dict:
    result = {"anomaly_rate": float(np.mean(out["predicted_label"]))}
    if labels is not None:
        values, counts = np.unique(labels, return_counts=True)
        if len(values) == 2:  # the minority class is the anomaly
            anomalous = labels == values[np.argmin(counts)]
            result["roc_auc"] = skm.roc_auc_score(anomalous, out["score"])
    return _finite(result)


def reduction(model: Model, features: np.ndarray) -> dict:
    x = model.transform(features)
    est = model.estimator
    recon = est.inverse_transform(est.transform(x))
    total = float(np.sum((x - x.mean(axis=0)) ** 2))
    if total == 0:
        return {}
    return _finite({"explained_variance_ratio": 1.0 - float(np.sum((x - recon) ** 2)) / total})


def score(model: Model, features: np.ndarray, labels: np.ndarray | None, seed: int = 0) -> dict:
    """Bare metric names -> values for this data (only metrics that are defined)."""
    out = model.predict(features)
    task = model.task
    if task == CLASSIFICATION:
        return classification(model, out, labels) if labels is not None else {}
    if task == REGRESSION:
        return regression(out, labels) if labels is not None else {}
    if task == CLUSTERING:
        return clustering(model, features, out, seed)
    if task == ANOMALY:
        return anomaly(out, labels)
    if task == REDUCTION:
        return reduction(model, features)
    raise ValueError(task)


def loss(model: Model, values: dict) -> float | None:
    """The training loss reported per epoch: log loss, mse, or msd."""
    if "log_loss" in values:
        return values["log_loss"]
    if "rmse" in values:
        return values["rmse"] ** 2
    if "msd" in values:
        return values["msd"]
    if "accuracy" in values:
        return 1.0 - values["accuracy"]
    return None
