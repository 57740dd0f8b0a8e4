"""The default dataset: scikit-learn's breast cancer data. A user's CSV is checked by pipeline_client.dataset."""

from __future__ import annotations

import csv
from pathlib import Path


def default_dataset(path: Path, rows: int | None = None) -> Path:
    """Breast cancer (569 rows, 30 features) as CSV: label first, no header (SageMaker's CSV convention)."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        for index, (features, label) in enumerate(zip(data.data, data.target, strict=True)):
            if rows is not None and index >= rows:
                break
            writer.writerow([int(label), *(f"{value:.6g}" for value in features)])
    return path
