"""Reading a user's CSV file before it is uploaded: the checks a training dataset and scoring rows share.

Each refusal is a PipelineError naming the file, the line and the fix, so a wrong file fails on the user's
machine, not in a job an hour later.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import PipelineError

CHECKED_ROWS = 10_000  # enough to catch the wrong file before upload; the rest is only counted


@dataclass(frozen=True)
class CsvShape:
    rows: int  # data rows: blank lines and a header are not counted
    columns: int
    header: bool


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def require_csv(path: Path | str, *, noun: str, give: str, export: str) -> Path:
    """`path` as a Path, or PipelineError when it is no file ("give the path of a `give`") or not a .csv
    ("export `export`")."""
    path = Path(path)
    if not path.is_file():
        raise PipelineError(f"{noun} {path}: no such file; give the path of a {give}")
    if path.suffix.lower() != ".csv":
        raise PipelineError(f"{noun} {path}: not a .csv file; export {export}")
    return path


def read_shape(
    path: Path,
    *,
    noun: str,
    export: str,
    first_line: Callable[[int, list[str]], bool],
    check_row: Callable[[int, list[str]], None],
    same_columns: str = "",
) -> CsvShape:
    """One pass over the file: blank lines skipped; `first_line(number, cells)` checks the first line and says
    whether it is a header; every line as wide as the first; `check_row` on the first CHECKED_ROWS data rows."""
    rows, width, header = 0, None, False
    try:
        with path.open(newline="") as handle:
            for number, row in enumerate(csv.reader(handle), start=1):
                if not row:
                    continue
                if width is None:
                    width = len(row)
                    header = first_line(number, row)
                    if header:
                        continue
                if len(row) != width:
                    raise PipelineError(
                        f"{path.name} line {number}: {len(row)} columns, line 1 has {width}; every line needs the "
                        f"same columns{same_columns}"
                    )
                if rows < CHECKED_ROWS:
                    check_row(number, row)
                rows += 1
    except UnicodeDecodeError:
        raise PipelineError(f"{noun} {path}: not a text file; export {export}") from None
    return CsvShape(rows=rows, columns=width or 0, header=header)
