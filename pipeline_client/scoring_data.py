"""The rows a scoring run sends: a CSV of features (no label, unless skip_first_column), or rows in memory
written out as one. Checked here, before the upload; the transform job would send a header to the model as a row,
so a header line is dropped into a copy."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .csv_files import is_number, read_shape, require_csv
from .dataset import Rows
from .errors import PipelineError

FORMAT = "CSV of features only (numbers, no label column), one row per line"


@dataclass(frozen=True)
class ScoringData:
    """Rows ready to upload: a CSV file without a header, and the width of its rows."""

    path: Path
    rows: int
    columns: int
    header_dropped: bool = False


def write_scoring_rows(rows: Any, path: Path, *, skip_first_column: bool) -> ScoringData:
    """Rows (lists of numbers or None; a Rows; a DataFrame's values) as a CSV without a header, checked."""
    if isinstance(rows, Rows):
        rows = rows.features
    elif hasattr(rows, "to_numpy") and hasattr(rows, "columns"):  # a pandas DataFrame: its values only
        rows = rows.to_numpy().tolist()
    what = "score_dataset(rows)"
    if isinstance(rows, str | bytes) or not isinstance(rows, Sequence) or not rows:
        raise PipelineError(
            f"{what}: give a non-empty list of rows (each a list of feature values), the path of a CSV file, or an "
            "s3:// URI in the data bucket"
        )
    width = None
    lines = []
    for number, row in enumerate(rows, start=1):
        if isinstance(row, str | bytes) or not isinstance(row, Sequence):
            raise PipelineError(f"{what}: row {number} is {type(row).__name__}; give a list of numbers")
        if width is None:
            width = len(row)
            if width < 1 + skip_first_column:
                raise PipelineError(f"{what}: row 1 has {width} values; {_too_narrow(skip_first_column)}")
        if len(row) != width:
            raise PipelineError(f"{what}: row {number} has {len(row)} values, row 1 has {width}; rows need the same")
        cells = []
        for column, value in enumerate(row, start=1):
            if column == 1 and skip_first_column:
                cells.append(_first_cell(what, number, value))
            else:
                cells.append(_number_cell(what, number, column, value))
        lines.append(",".join(cells))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return ScoringData(path=path, rows=len(lines), columns=width or 0)


def check_scoring_file(path: Path | str, *, skip_first_column: bool, copy_to: Path) -> ScoringData:
    """A CSV of features (with a first column of anything when skip_first_column); a header line is dropped into
    a copy at `copy_to`, since the transform job would send it to the model as a row."""
    export = f"the rows as {FORMAT}"
    path = require_csv(path, noun="scoring data", give=FORMAT, export=export)
    first = int(skip_first_column)

    def first_line(number: int, row: list[str]) -> bool:
        if len(row) < 1 + first:
            raise PipelineError(f"{path.name} line {number}: {len(row)} column; {_too_narrow(first)}")
        return _is_header(row[first:])

    def check_row(number: int, row: list[str]) -> None:
        for column, value in enumerate(row[first:], start=first + 1):
            if value.strip() and not is_number(value):
                raise PipelineError(
                    f"{path.name} line {number}, column {column}: {value!r} is not a number; the model "
                    f"takes numbers only{_label_hint(skip_first_column, column)}"
                )

    shape = read_shape(path, noun="scoring data", export=export, first_line=first_line, check_row=check_row)
    rows, width, header = shape.rows, shape.columns, shape.header
    if not rows:
        raise PipelineError(f"scoring data {path}: no rows; the file is empty or holds only a header")
    if header:
        copy_to.parent.mkdir(parents=True, exist_ok=True)
        with path.open(newline="") as source, copy_to.open("w", newline="") as target:
            lines = (line for line in source if line.strip())
            next(lines)
            target.writelines(lines)
        path = copy_to
    return ScoringData(path=path, rows=rows, columns=width or 0, header_dropped=header)


def _is_header(cells: list[str]) -> bool:
    """A first line whose feature cells hold no number but some text: column names."""
    return any(c.strip() for c in cells) and not any(is_number(c) for c in cells if c.strip())


def _too_narrow(skip_first_column: bool | int) -> str:
    if skip_first_column:
        return "with skip_first_column the first column is dropped, so rows need it and at least one feature"
    return "rows need at least one feature"


def _label_hint(skip_first_column: bool, column: int) -> str:
    if column == 1 and not skip_first_column:
        return "; a label or id in the first column: pass skip_first_column=True"
    return " (encode categories as numbers, as in training)"


def _first_cell(what: str, number: int, value: object) -> str:
    """The column skip_first_column drops (an id or a label): a number or plain text, kept beside the output."""
    if value is None:
        return ""
    if isinstance(value, str):
        if any(c in value for c in ',"\r\n'):
            raise PipelineError(f"{what}: row {number}, column 1: {value!r} holds a comma, quote or line break")
        return value
    return _number_cell(what, number, 1, value)


def _number_cell(what: str, number: int, column: int, value: object) -> str:
    if value is None:
        return ""  # a missing value: an empty cell, as the endpoint takes it
    if isinstance(value, bool) or not isinstance(value, numbers.Real):  # numpy's numbers are Real too
        hint = "; a label or id in the first column: pass skip_first_column=True" if column == 1 else ""
        raise PipelineError(f"{what}: row {number}, column {column} holds {value!r}; features are numbers{hint}")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if math.isnan(value):
        return ""  # pandas' and numpy's missing value
    if math.isinf(value):
        raise PipelineError(f"{what}: row {number}, column {column} is {value}; features are finite numbers")
    return repr(float(value))
