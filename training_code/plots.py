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


def class_label(value) -> str:
    """`0`, not `0.0`: CSV labels are read as floats, but integer classes are written as integers."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def confusion(path: Path, y_true_index, y_pred_index, labels, title: str = "Confusion matrix") -> None:
    from sklearn.metrics import confusion_matrix

    plt, (fig, ax) = _figure()
    matrix = confusion_matrix(y_true_index, y_pred_index, labels=np.arange(len(labels)))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), [class_label(v) for v in labels], rotation=45)
    ax.set_yticks(range(len(labels)), [class_label(v) for v in labels])
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, str(value), ha="center", va="center", color="white" if value > matrix.max() / 2 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    ax.set_title(title)
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


def roc(path: Path, positive, score, title: str) -> None:
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(positive, score)
    plt, (fig, ax) = _figure()
    ax.plot(fpr, tpr)
    ax.plot([0, 1], [0, 1], color="grey", linewidth=1, linestyle="--")  # a random guess
    ax.set_title(title)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
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


def for_task(directory: Path, model, features, labels, out: dict, caption: str = "") -> dict[str, str]:
    """Draw the task's plots into ``directory``; return file name -> title, the main plot first.

    ``caption`` (e.g. "xgboost · accuracy 0.9186") ends every title, so a plot names its run's model."""

    def title(text: str) -> str:
        return f"{text} · {caption}" if caption else text

    task = model.task
    drawn: dict[str, str] = {}
    if task == CLASSIFICATION and labels is not None:
        truth = np.searchsorted(model.classes, labels)
        known = np.isin(labels, model.classes)
        truth[~known] = 0
        drawn["confusion_matrix.png"] = title("Confusion matrix")
        confusion(directory / "confusion_matrix.png", truth, out["index"], model.classes, drawn["confusion_matrix.png"])
        if len(model.classes) == 2 and known.all() and len(np.unique(truth)) == 2 and "score" in out:
            drawn["roc_curve.png"] = title(f"ROC curve (positive class {class_label(model.classes[1])})")
            roc(directory / "roc_curve.png", truth == 1, out["score"], drawn["roc_curve.png"])
    elif task == REGRESSION and labels is not None:
        predicted = out["score"]
        drawn["residuals.png"] = title("Residuals")
        scatter(
            directory / "residuals.png",
            predicted,
            np.asarray(labels, dtype=float) - predicted,
            drawn["residuals.png"],
            "predicted",
            "actual - predicted",
            zero_line=True,
        )
    elif task == CLUSTERING:
        from sklearn.decomposition import PCA

        x = model.transform(features)
        if x.shape[1] > 2:
            coords = PCA(n_components=2).fit_transform(x)
        else:
            coords = np.column_stack([x, np.zeros(len(x))])[:, :2]
        drawn["clusters.png"] = title("Clusters (first two principal components)")
        scatter(
            directory / "clusters.png",
            coords[:, 0],
            coords[:, 1],
            drawn["clusters.png"],
            "PC1",
            "PC2",
            colour=out["closest_cluster"],
        )
    elif task == ANOMALY:
        drawn["anomaly_scores.png"] = title("Anomaly scores")
        histogram(
            directory / "anomaly_scores.png",
            out["score"],
            drawn["anomaly_scores.png"],
            "score (higher = more anomalous)",
        )
    elif task == REDUCTION:
        projection = out["projection"]
        second = projection[:, 1] if projection.shape[1] > 1 else np.zeros(len(projection))
        drawn["projection.png"] = title("Projection")
        scatter(
            directory / "projection.png",
            projection[:, 0],
            second,
            drawn["projection.png"],
            "component 1",
            "component 2",
        )
    else:
        drawn["scores.png"] = title("Scores")
        histogram(directory / "scores.png", out.get("score", np.zeros(1)), drawn["scores.png"], "score")
    return drawn
