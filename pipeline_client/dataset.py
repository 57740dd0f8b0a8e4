"""The dataset convention the pipeline's built-in algorithms use: CSV, label in the first column, numbers only.

A header line is tolerated (the processing job detects and drops it), as in `python -m tools.start_run`.
"""

from __future__ import annotations

import csv
import functools
import itertools
from dataclasses import dataclass
from pathlib import Path

from .csv_files import is_number, read_shape, require_csv
from .errors import PipelineError

FORMAT = "CSV, label in the first column, numbers only, no header"


MAX_LABELS = 1000  # distinct labels counted; beyond this a label is certainly not a class
MAX_CLASSES = 100  # more distinct labels than this is a regression target, not a set of classes


@dataclass(frozen=True)
class DatasetInfo:
    path: Path
    rows: int
    features: int
    header: bool
    labels: frozenset[float] = frozenset()  # the distinct labels of the checked rows, up to MAX_LABELS

    def __str__(self) -> str:
        header = "a header line, " if self.header else ""
        return f"{self.path.name}: {self.rows} rows, {header}label + {self.features} features"


@dataclass(frozen=True)
class Rows:
    """The first rows of a dataset, split into the label and the features an endpoint expects."""

    labels: list[float]
    features: list[list[float | None]]


def check_dataset(path: Path | str, *, training: bool = True) -> DatasetInfo:
    """The file's shape, or PipelineError naming the line, the column and the fix. A training dataset must
    also have enough rows for the processing job's train/validation/test split."""
    export = f"the dataset as {FORMAT}"
    path = require_csv(path, noun="dataset", give=f"{FORMAT} file", export=export)
    labels: set[float] = set()

    def first_line(number: int, row: list[str]) -> bool:
        if len(row) < 2:
            raise PipelineError(f"{path.name} line {number}: one column; need the label and features")
        return not is_number(row[0])

    def check_row(number: int, row: list[str]) -> None:
        _check_row(path.name, number, row)
        if len(labels) < MAX_LABELS:
            labels.add(float(row[0]))

    shape = read_shape(
        path,
        noun="dataset",
        export=export,
        first_line=first_line,
        check_row=check_row,
        same_columns=" (label first, then the features)",
    )
    rows = shape.rows
    if not rows:
        raise PipelineError(f"dataset {path}: no data rows; the file is empty or holds only a header")
    if training:
        _check_split(path.name, rows)
    return DatasetInfo(path=path, rows=rows, features=shape.columns - 1, header=shape.header, labels=frozenset(labels))


def check_labels(info: DatasetInfo, *, task: str, algorithm: str) -> None:
    """A classifier's label must look like classes: a continuous first column is most often a feature."""
    from training_code import catalog

    if task != catalog.CLASSIFICATION:
        return
    fractional = sorted(v for v in info.labels if not float(v).is_integer())
    if fractional or len(info.labels) > MAX_CLASSES:
        example = ", ".join(f"{v:g}" for v in (fractional or sorted(info.labels))[:3])
        count = f"{len(info.labels)}{'+' if len(info.labels) >= MAX_LABELS else ''}"
        raise PipelineError(
            f"{info.path.name}: the label (column 1) looks continuous ({count} distinct values, e.g. {example}), "
            f"but {algorithm} is a classifier. The label may not be in the first column: move it there; or, for a "
            "number to predict, choose a regression algorithm (--algorithm ridge, random-forest-regressor)"
        )


def _check_split(name: str, rows: int) -> None:
    """The processing job's own split (training_code/process.py, its default fractions) of `rows` rows."""
    smallest = _smallest_splittable()
    if rows < smallest:
        raise PipelineError(
            f"{name}: {rows} data row{'s' if rows != 1 else ''}; the processing job splits the data into train, "
            f"validation and test sets and needs at least {smallest} rows: add rows"
        )


@functools.cache
def _smallest_splittable() -> int:
    import pandas as pd

    from training_code import process
    from training_code.errors import UserError

    args = process.parse_args([])
    args.stratify = False
    for rows in range(1, 100):
        try:
            parts = process.split(pd.DataFrame({"label": range(rows)}), args)
        except UserError:
            continue
        if all(len(part) for part in parts.values()):
            return rows
    raise AssertionError("the processing job's split takes no small dataset")


def read_rows(path: Path | str, *, limit: int = 5) -> Rows:
    """The first `limit` rows as numbers; a missing feature (empty cell) is None, as an endpoint takes it."""
    info = check_dataset(path, training=False)
    with info.path.open(newline="") as handle:
        lines = (row for row in csv.reader(handle) if row)
        data = list(itertools.islice(lines, int(info.header), int(info.header) + limit))
    labels = [_label(float(row[0])) for row in data]
    return Rows(labels=labels, features=[[float(v) if v.strip() else None for v in row[1:]] for row in data])


def _check_row(name: str, number: int, row: list[str]) -> None:
    if not is_number(row[0]):
        raise PipelineError(
            f"{name} line {number}, column 1: the label {row[0]!r} is not a number; the first column must be the "
            "label, encoded as a number (e.g. 0/1 for two classes)"
        )
    for column, value in enumerate(row[1:], start=2):
        if value.strip() and not is_number(value):  # an empty cell is a missing value: the processing job imputes it
            raise PipelineError(
                f"{name} line {number}, column {column}: {value!r} is not a number; encode every feature as a "
                "number (one-hot or ordinal for categories)"
            )


def _label(value: float) -> float:
    return int(value) if value.is_integer() else value
