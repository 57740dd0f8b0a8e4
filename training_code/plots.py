"""Evaluation plots (PNG, matplotlib's Agg backend): confusion matrix, residuals, clusters, scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .catalog import ANOMALY, CLASSIFICATION, CLUSTERING, REDUCTION, REGRESSION


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt, plt.subplots(figsize=(6, 5), dpi=100)


def confusion(path: Path, y_true_index, y_pred_index, labels) -> None:
    from sklearn.metrics import confusion_matrix

    plt, (fig, ax) = _figure()
    matrix = confusion_matrix(y_true_index, y_pred_index, labels=np.arange(len(labels)))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), [str(v) for v in labels], rotation=45)
    ax.set_yticks(range(len(labels)), [str(v) for v in labels])
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, str(value), ha="center", va="center",
                color="white" if value > matrix.max() / 2 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    ax.set_title("Confusion matrix")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def scatter(path: Path, x, y, title: str, xlabel: str, ylabel: str, colour=None, zero_line=False) -> None:
    plt, (fig, ax) = _figure()
    ax.scatter(x, y, s=10, c=colour, alpha=0.7)
    if zero_line:
        ax.axhline(0, color="grey", linewidth=1)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def histogram(path: Path, values, title: str, xlabel: str) -> None:
    plt, (fig, ax) = _figure()
    ax.hist(values, bins=40)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def for_task(directory: Path, model, features, labels, out: dict) -> str:
    """Draw the task's plot into ``directory``; return its file name."""
    task = model.task
    if task == CLASSIFICATION and labels is not None:
        truth = np.searchsorted(model.classes, labels)
        truth[~np.isin(labels, model.classes)] = 0
        name = "confusion_matrix.png"
        confusion(directory / name, truth, out["index"], model.classes)
    elif task == REGRESSION and labels is not None:
        name = "residuals.png"
        predicted = out["score"]
        scatter(directory / name, predicted, np.asarray(labels, dtype=float) - predicted, "Residuals",
                "predicted", "actual - predicted", zero_line=True)
    elif task == CLUSTERING:
        from sklearn.decomposition import PCA

        x = model.transform(features)
        if x.shape[1] > 2:
            coords = PCA(n_components=2).fit_transform(x)
        else:
            coords = np.column_stack([x, np.zeros(len(x))])[:, :2]
        name = "clusters.png"
        scatter(directory / name, coords[:, 0], coords[:, 1], "Clusters (first two principal components)",
                "PC1", "PC2", colour=out["closest_cluster"])
    elif task == ANOMALY:
        name = "anomaly_scores.png"
        histogram(directory / name, out["score"], "Anomaly scores", "score (higher = more anomalous)")
    elif task == REDUCTION:
        projection = out["projection"]
        second = projection[:, 1] if projection.shape[1] > 1 else np.zeros(len(projection))
        name = "projection.png"
        scatter(directory / name, projection[:, 0], second, "Projection", "component 1", "component 2")
    else:
        name = "scores.png"
        histogram(directory / name, out.get("score", np.zeros(1)), "Scores", "score")
    return name
