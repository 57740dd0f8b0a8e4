"""The dataset convention the pipeline's built-in algorithms use: CSV, label in the first column, numbers only.

A header line is tolerated (the processing job detects and drops it), as in `python -m tools.start_run`.
"""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass
from pathlib import Path

from .errors import PipelineError

CHECKED_ROWS = 10_000  # enough to catch the wrong file before upload; the rest is only counted
FORMAT = "CSV, label in the first column, numbers only, no header"


@dataclass(frozen=True)
class DatasetInfo:
    path: Path
    rows: int
    features: int
    header: bool

    def __str__(self) -> str:
        header = "a header line, " if self.header else ""
        return f"{self.path.name}: {self.rows} rows, {header}label + {self.features} features"


@dataclass(frozen=True)
class Rows:
    """The first rows of a dataset, split into the label and the features an endpoint expects."""

    labels: list[float]
    features: list[list[float | None]]


def check_dataset(path: Path | str) -> DatasetInfo:
    """The file's shape, or PipelineError naming the line, the column and the fix."""
    path = Path(path)
    if not path.is_file():
        raise PipelineError(f"dataset {path}: no such file; give the path of a {FORMAT} file")
    if path.suffix.lower() != ".csv":
        raise PipelineError(f"dataset {path}: not a .csv file; export the dataset as {FORMAT}")
    rows = header = 0
    width = None
    try:
        with path.open(newline="") as handle:
            for number, row in enumerate(csv.reader(handle), start=1):
                if not row:
                    continue
                if width is None:
                    width = len(row)
                    if width < 2:
                        raise PipelineError(f"{path.name} line {number}: one column; need the label and features")
                    header = int(not _number(row[0]))
                    if header:
                        continue
                if len(row) != width:
                    raise PipelineError(
                        f"{path.name} line {number}: {len(row)} columns, line 1 has {width}; every line needs the "
                        "same columns (label first, then the features)"
                    )
                if rows < CHECKED_ROWS:
                    _check_row(path.name, number, row)
                rows += 1
    except UnicodeDecodeError:
        raise PipelineError(f"dataset {path}: not a text file; export the dataset as {FORMAT}") from None
    if not rows:
        raise PipelineError(f"dataset {path}: no data rows; the file is empty or holds only a header")
    return DatasetInfo(path=path, rows=rows, features=width - 1, header=bool(header))


def read_rows(path: Path | str, *, limit: int = 5) -> Rows:
    """The first `limit` rows as numbers; a missing feature (empty cell) is None, as an endpoint takes it."""
    info = check_dataset(path)
    with info.path.open(newline="") as handle:
        lines = (row for row in csv.reader(handle) if row)
        data = list(itertools.islice(lines, int(info.header), int(info.header) + limit))
    labels = [_label(float(row[0])) for row in data]
    return Rows(labels=labels, features=[[float(v) if v.strip() else None for v in row[1:]] for row in data])


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_row(name: str, number: int, row: list[str]) -> None:
    if not _number(row[0]):
        raise PipelineError(
            f"{name} line {number}, column 1: the label {row[0]!r} is not a number; the first column must be the "
            "label, encoded as a number (e.g. 0/1 for two classes)"
        )
    for column, value in enumerate(row[1:], start=2):
        if value.strip() and not _number(value):  # an empty cell is a missing value: the processing job imputes it
            raise PipelineError(
                f"{name} line {number}, column {column}: {value!r} is not a number; encode every feature as a "
                "number (one-hot or ordinal for categories)"
            )


def _label(value: float) -> float:
    return int(value) if value.is_integer() else value
