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


def _binary_auc(positive: np.ndarray, score: np.ndarray) -> float | None:
    """ROC AUC as the Mann-Whitney statistic (ties count half), as sklearn computes it."""
    from scipy.stats import rankdata

    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(score)
    return (float(ranks[positive].sum()) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def classification(model: Model, out: dict, labels: np.ndarray) -> dict:
    """Accuracy, precision/recall/f1 (binary: positive = second class; else macro), ROC AUC, log loss.

    Plain numpy (sklearn's metric functions cost milliseconds of validation per call, per epoch).
    """
    classes = model.classes
    k = len(classes)
    known = np.isin(labels, classes)
    y = np.searchsorted(classes, labels)
    y[~known] = k  # an unseen label: counted as wrong for every class
    pred = out["index"]
    confusion = np.bincount(y * (k + 1) + pred, minlength=(k + 1) * (k + 1)).reshape(k + 1, k + 1)[:, :k]
    tp = np.diag(confusion[:k]).astype(np.float64)
    predicted = confusion.sum(axis=0).astype(np.float64)
    actual = confusion[:k].sum(axis=1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(actual > 0, tp / actual, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    pick = [1] if k == 2 else slice(None)
    result = {"accuracy": float(np.mean(y == pred)), "precision": float(np.mean(precision[pick])),
              "recall": float(np.mean(recall[pick])), "f1": float(np.mean(f1[pick]))}
    scores = out["scores"]
    if known.all() and len(np.unique(y)) == k:
        if k == 2:
            result["roc_auc"] = _binary_auc(y == 1, out["score"])
        elif out["probabilities"]:
            result["roc_auc"] = float(np.mean([_binary_auc(y == c, scores[:, c]) for c in range(k)]))
    if out["probabilities"] and known.all() and scores.ndim == 2:
        eps = np.finfo(np.float64).eps
        proba = np.clip(scores[np.arange(len(y)), y], eps, 1.0)
        result["log_loss"] = float(-np.mean(np.log(proba)))
    return _finite(result)


def regression(out: dict, labels: np.ndarray) -> dict:
    y = np.asarray(labels, dtype=np.float64)
    pred = out["score"]
    error = y - pred
    result = {"rmse": math.sqrt(float(np.mean(error**2))), "mae": float(np.mean(np.abs(error)))}
    total = float(np.sum((y - y.mean()) ** 2))
    if len(y) > 1 and total > 0:
        result["r2"] = 1.0 - float(np.sum(error**2)) / total
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
            result["roc_auc"] = _binary_auc(anomalous, out["score"])
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
