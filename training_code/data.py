"""Read channel data: CSV in the built-in convention (no header, label first) or Parquet, many files per channel.

Files are parsed column-wise by pyarrow straight into one float64 feature matrix, so memory stays near the
size of the numeric data. Errors name the file, line and column.
"""

from __future__ import annotations

import csv
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .errors import UserError

PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
_NULLS = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"]
_SKIP = (".", "_")  # hidden files, _SUCCESS markers, manifests written by Spark
#: Largest feature magnitude accepted: about sqrt(float64 max) / 1e4, so squares and sums over many rows (scaling,
#: variances, distances) stay finite. Larger values overflow to inf/NaN inside the algorithms.
MAX_ABS = 1e150


@dataclass
class Dataset:
    features: np.ndarray
    labels: np.ndarray | None
    files: list[Path] = field(default_factory=list)
    feature_names: list[str] | None = None
    label_name: str | None = None

    @property
    def rows(self) -> int:
        return int(self.features.shape[0])


def list_files(directory: Path, channel: str) -> list[Path]:
    if not directory.is_dir():
        raise UserError(f"channel {channel!r} has no files: directory {directory} does not exist")
    files = sorted(p for p in directory.rglob("*") if p.is_file() and not p.name.startswith(_SKIP)
                   and not p.name.endswith((".manifest", ".json", ".crc")))
    if not files:
        raise UserError(f"channel {channel!r} has no files (looked in {directory}); upload CSV or Parquet "
                        "files to the channel's S3 prefix")
    return files


def is_parquet(path: Path, content_type: str | None = None) -> bool:
    if content_type and "parquet" in content_type.lower():
        return True
    return path.name.lower().endswith(PARQUET_SUFFIXES)


def _is_number(cell: str) -> bool:
    if cell.strip() in _NULLS:
        return True
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _open_text(path: Path):
    if path.name.endswith(".gz"):
        import gzip

        return gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="")
    return path.open("r", encoding="utf-8", errors="replace", newline="")


def _first_rows(path: Path, count: int = 2) -> list[list[str]]:
    with _open_text(path) as handle:
        return [row for row in itertools.islice(csv.reader(handle), count)]


def detect_header(rows: list[list[str]], label_first: bool = True) -> bool:
    """A first row whose feature cells are all non-numeric, over a numeric second row, is a header."""
    if not rows:
        return False
    first = rows[0][1:] if label_first and len(rows[0]) > 1 else rows[0]
    if not first or any(_is_number(c) for c in first):
        return False
    if len(rows) < 2:
        return True
    second = rows[1][1:] if label_first and len(rows[1]) > 1 else rows[1]
    return sum(_is_number(c) for c in second) > len(second) // 2


def _locate_csv_error(path: Path, columns: int, skip: int, numeric_from: int) -> str:
    with _open_text(path) as handle:
        for line_no, row in enumerate(csv.reader(handle), start=1):
            if line_no <= skip or not row:
                continue
            if len(row) != columns:
                return (f"{path.name} line {line_no} has {len(row)} columns, expected {columns} "
                        "(every row needs the label then the same features)")
            for col in range(numeric_from, columns):
                if not _is_number(row[col]):
                    return f"{path.name} line {line_no}, column {col + 1}: {row[col]!r} is not a number"
    return f"{path.name}: not a valid CSV file"


def read_csv(path: Path, *, header: bool | None = None, numeric_from: int = 1) -> tuple[pa.Table, list[str] | None]:
    """Read one CSV file; columns from ``numeric_from`` on must be numbers. Returns (table, header names)."""
    rows = _first_rows(path)
    if not rows:
        return pa.table({}), None
    if header is None:
        header = detect_header(rows, label_first=numeric_from == 1)
    columns = len(rows[0])
    names = [c.strip() for c in rows[0]] if header else None
    generated = [f"c{i}" for i in range(columns)]
    types = {name: pa.float64() for name in generated[numeric_from:]}
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=generated, skip_rows=1 if header else 0,
                                           block_size=1 << 24),
            convert_options=pacsv.ConvertOptions(column_types=types, null_values=_NULLS,
                                                 strings_can_be_null=True),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError) as exc:
        message = _locate_csv_error(path, columns, 1 if header else 0, numeric_from)
        raise UserError(message) from exc
    return table, names


def read_parquet(path: Path, *, numeric_from: int = 1) -> tuple[pa.Table, list[str]]:
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise UserError(f"{path.name}: not a readable Parquet file ({exc})") from exc
    if "label" in table.column_names and table.column_names[0] != "label":
        order = ["label"] + [c for c in table.column_names if c != "label"]
        table = table.select(order)
    for index, column in enumerate(table.columns[numeric_from:], start=numeric_from):
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
                or pa.types.is_boolean(column.type) or pa.types.is_null(column.type)):
            raise UserError(f"{path.name} column {index + 1} ({table.column_names[index]!r}) has type "
                            f"{column.type}, expected numbers; encode it numerically before training")
    return table, list(table.column_names)


def _label_array(column: pa.ChunkedArray, path: Path, offset: int) -> np.ndarray:
    if column.null_count:
        row = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0]) + 1 + offset
        raise UserError(f"{path.name} row {row}: the label (column 1) is empty; every training row needs a label")
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_boolean(column.type):
        return column.to_numpy().astype(np.float64, copy=False)
    return np.asarray(column.cast(pa.string()).to_pylist(), dtype=object)


def _check_column(values: np.ndarray, path: Path, first_line: int, column: int, parquet: bool) -> None:
    """Refuse infinite or overflowing feature values (NaN is a missing value), naming file, line and column."""
    bad = np.abs(values) > MAX_ABS  # NaN compares False; one column at a time keeps the temporary small
    if not bad.any():
        return
    row = int(np.argmax(bad))
    value = float(values[row])
    where = f"{path.name} {'row' if parquet else 'line'} {first_line + row}, column {column}"
    if math.isinf(value):
        raise UserError(f"{where}: {value!r} is not a finite number; remove the row or replace the value")
    raise UserError(f"{where}: {value:g} is too large in magnitude (limit {MAX_ABS:g}, beyond which the algorithms "
                    "overflow); rescale the feature, for example divide it by a constant or take its logarithm")


def load_channel(directory: Path, channel: str, content_type: str | None = None,
                 with_labels: bool = True) -> Dataset:
    """Load every file of a channel into one Dataset (label = first column, or the Parquet column 'label')."""
    files = list_files(directory, channel)
    tables, names = [], None
    for path in files:
        parquet = is_parquet(path, content_type)
        table, header = read_parquet(path) if parquet else read_csv(path)
        if table.num_columns == 0 or table.num_rows == 0:
            continue
        if tables and table.num_columns != tables[0][1].num_columns:
            raise UserError(f"{path.name} has {table.num_columns} columns but {tables[0][0].name} has "
                            f"{tables[0][1].num_columns}; all files of channel {channel!r} need the same columns")
        names = names or header
        # first data line or row, 1-based: a CSV header takes line 1; Parquet rows count from 1
        tables.append((path, table, parquet, 1 if parquet or header is None else 2))
    if not tables:
        raise UserError(f"channel {channel!r} has no rows: all {len(files)} file(s) are empty")
    width = tables[0][1].num_columns
    if width < 2:
        raise UserError(f"channel {channel!r} has only {width} column; expected the label followed by at "
                        "least one feature (CSV without header, label in the first column)")
    total = sum(entry[1].num_rows for entry in tables)
    features = np.empty((total, width - 1), dtype=np.float64)
    labels = []
    start = 0
    for path, table, parquet, first_line in tables:
        stop = start + table.num_rows
        for j, column in enumerate(table.columns[1:]):
            features[start:stop, j] = column.to_numpy().astype(np.float64, copy=False) \
                if column.null_count == 0 else column.cast(pa.float64()).to_numpy(zero_copy_only=False)
            _check_column(features[start:stop, j], path, first_line, j + 2, parquet)
        if with_labels:
            labels.append(_label_array(table.column(0), path, 0))
        start = stop
    tables.clear()
    label_array = None
    if with_labels:
        label_array = labels[0] if len(labels) == 1 else np.concatenate(labels)
    return Dataset(features, label_array, files, names[1:] if names else None, names[0] if names else None)
