"""The default dataset (scikit-learn's breast cancer data) and checks of a user's CSV file."""

from __future__ import annotations

import csv
from pathlib import Path


class DatasetError(ValueError):
    """The dataset file cannot be used; the message says why."""


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


def check_csv(path: Path) -> Path:
    """A readable, non-empty CSV file with at least two numeric columns, or DatasetError."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"dataset file not found: {path}")
    if not path.is_file():
        raise DatasetError(f"dataset path is not a file: {path}")
    if path.suffix.lower() != ".csv":
        raise DatasetError(f"dataset must be a .csv file (label in the first column, no header): {path}")
    try:
        with open(path, newline="") as handle:
            sample = handle.read(65536)
    except UnicodeDecodeError:
        raise DatasetError(f"dataset is not a text CSV file: {path}") from None
    rows = [r for r in csv.reader(sample.splitlines()) if r]
    if not rows:
        raise DatasetError(f"dataset is empty: {path}")
    widths = {len(r) for r in rows[:-1] or rows}
    if len(widths) != 1 or next(iter(widths)) < 2:
        raise DatasetError(f"dataset needs the same number (>= 2) of comma-separated columns on every line: {path}")
    return path
