"""The default dataset: scikit-learn's breast cancer data. A user's CSV is checked by pipeline_client.dataset."""

from __future__ import annotations

import csv
import os
from pathlib import Path


def default_dataset(path: Path) -> Path:
    """Breast cancer (569 rows, 30 features) as CSV: label first, no header (SageMaker's CSV convention).

    Written once: a file already at `path` is this data (it is written whole, then moved into place), and
    building it again would import scikit-learn, about 2 s of a `make run`'s CPU."""
    if path.is_file():
        return path
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(partial, "w", newline="") as handle:
        writer = csv.writer(handle)
        for features, label in zip(data.data, data.target, strict=True):
            writer.writerow([int(label), *(f"{value:.6g}" for value in features)])
    os.replace(partial, path)
    return path
