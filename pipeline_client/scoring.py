"""Batch scoring: a dataset scored offline by a registered model, through the pipeline's scoring state machine.

The options are checked here, before anything is uploaded or started; the PrepareScoring Lambda checks them
again with the environment's allowed lists (lambdas/prepare_run/run_planning/scoring_plan.py). The rows go to
the data bucket as a CSV of features (no header); the output comes back from `s3://<artifacts>/scoring/<run>/`,
one `<input file>.out` per input file, read through the backend's own S3 client.
"""

from __future__ import annotations

import csv
import difflib
import json
import math
import numbers
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from stacks.contract import MAX_SCORING_INSTANCES

from .dataset import CHECKED_ROWS, Rows
from .errors import OptionError, PipelineError
from .options import reject_unknown
from .results import RunProgress
from .run import Run, elapsed

if TYPE_CHECKING:
    from collections.abc import Callable

    from .base import Pipeline

_PACKAGE_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[^/]+/\d+$")
FORMAT = "CSV of features only (numbers, no label column), one row per line"


@dataclass(frozen=True, kw_only=True)
class ScoringOptions:
    """What a scoring run may ask for; None keeps the environment's default (`batch_transform`)."""

    model_package_arn: str | None = None  # None: the newest Approved version of the pipeline's model group
    skip_first_column: bool = False
    join_input: bool = True
    instance_type: str | None = None
    instance_count: int | None = None

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> ScoringOptions:
        reject_unknown(options, [f.name for f in fields(cls)], kind="scoring options")
        parsed = cls(**options)
        parsed.check()
        return parsed

    def check(self) -> None:
        arn = self.model_package_arn
        if arn is not None and (not isinstance(arn, str) or not _PACKAGE_ARN.match(arn)):
            raise OptionError(
                f"model_package_arn={arn!r}: not a model package version; give "
                "arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION (a run's "
                "result.output['model_package_arn']), or leave it out to score with the newest Approved version"
            )
        for name in ("skip_first_column", "join_input"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise OptionError(f"{name}={value!r}: expected True or False")
        if self.instance_type is not None:
            allowed = transform_instance_types()
            if self.instance_type not in allowed:
                close = difflib.get_close_matches(str(self.instance_type), allowed, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise OptionError(
                    f"instance_type={self.instance_type!r} is not a SageMaker transform instance type: {hint}leave "
                    "it out for the environment's default, or pick one of allowed_instance_types.transform in "
                    "config/<env>.json"
                )
        count = self.instance_count
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_SCORING_INSTANCES
        ):
            raise OptionError(f"instance_count={count!r}: expected a whole number from 1 to {MAX_SCORING_INSTANCES}")

    def to_input(self, data_uri: str) -> dict[str, Any]:
        """The scoring state machine's input (docs/pipeline.md, batch scoring); None options are left out."""
        payload: dict[str, Any] = {
            "data": data_uri,
            "skip_first_column": self.skip_first_column,
            "join_input": self.join_input,
        }
        for name in ("model_package_arn", "instance_type", "instance_count"):
            if getattr(self, name) is not None:
                payload[name] = getattr(self, name)
        return payload


@cache
def transform_instance_types() -> list[str]:
    """Every instance type CreateTransformJob takes, from botocore's SageMaker service model (no API call)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    return list(model.shape_for("TransformInstanceType").enum)


@dataclass(frozen=True)
class ScoringData:
    """Rows ready to upload: a CSV file without a header, and the width of its rows."""

    path: Path
    rows: int
    columns: int
    header_dropped: bool = False


def write_rows(rows: Any, path: Path, *, skip_first_column: bool) -> ScoringData:
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


def check_file(path: Path | str, *, skip_first_column: bool, copy_to: Path) -> ScoringData:
    """A CSV of features (with a first column of anything when skip_first_column); a header line is dropped into
    a copy at `copy_to`, since the transform job would send it to the model as a row."""
    path = Path(path)
    if not path.is_file():
        raise PipelineError(f"scoring data {path}: no such file; give the path of a {FORMAT}")
    if path.suffix.lower() != ".csv":
        raise PipelineError(f"scoring data {path}: not a .csv file; export the rows as {FORMAT}")
    rows = 0
    width = None
    header = False
    first = int(skip_first_column)
    try:
        with path.open(newline="") as handle:
            for number, row in enumerate(csv.reader(handle), start=1):
                if not row:
                    continue
                if width is None:
                    width = len(row)
                    if width < 1 + first:
                        raise PipelineError(f"{path.name} line {number}: {width} column; {_too_narrow(first)}")
                    header = _is_header(row[first:])
                    if header:
                        continue
                if len(row) != width:
                    raise PipelineError(
                        f"{path.name} line {number}: {len(row)} columns, line 1 has {width}; every line needs the "
                        "same columns"
                    )
                if rows < CHECKED_ROWS:
                    for column, value in enumerate(row[first:], start=first + 1):
                        if value.strip() and not _is_number(value):
                            raise PipelineError(
                                f"{path.name} line {number}, column {column}: {value!r} is not a number; the model "
                                f"takes numbers only{_label_hint(skip_first_column, column)}"
                            )
                rows += 1
    except UnicodeDecodeError:
        raise PipelineError(f"scoring data {path}: not a text file; export the rows as {FORMAT}") from None
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


class ScoringRun(Run):
    """One execution of the scoring state machine; `wait()` returns a ScoringResult."""

    kind = "scoring"

    def __init__(
        self,
        *,
        pipeline: Pipeline,
        execution_arn: str,
        execution_input: dict[str, Any],
        input_columns: int | None = None,
    ):
        super().__init__(pipeline=pipeline, execution_arn=execution_arn, execution_input=execution_input)
        self.input_columns = input_columns

    def wait(
        self,
        *,
        progress: Callable[[RunProgress], None] | None = None,
        timeout_seconds: float = 4 * 3600,
        check: bool = True,
    ) -> ScoringResult:
        """Poll until the execution ends. With `check`, a scoring run that did not succeed raises RunFailed."""
        result = super().wait(progress=progress, timeout_seconds=timeout_seconds, check=check)
        assert isinstance(result, ScoringResult)
        return result

    def _result(self, described: dict[str, Any]) -> ScoringResult:  # type: ignore[override]
        output = _json(described.get("output"))
        return ScoringResult(
            execution_arn=described["executionArn"],
            status=described["status"],
            seconds=elapsed(described),
            output=output,
            error=described.get("error"),
            cause=described.get("cause"),
            join_input=bool(self.input.get("join_input", True)),
            input_columns=self.input_columns,
            pipeline=self.pipeline,
        )

    def _fix(self, result: Any) -> str:
        if result.error == "NoApprovedModel":
            return (
                "register a model first: a run that ends REGISTERED or DEPLOYED (in prod, approve its package in "
                "the model registry), or pass model_package_arn= a version to score with"
            )
        if result.error == "ModelPackageNotApproved":
            return (
                "approve that version in the model registry, or leave model_package_arn out to score with the "
                "newest Approved one"
            )
        if result.error == "InvalidExecutionInput":
            return "correct the option the cause names and score again"
        if result.error == "TransformFailed" and "the model expects" in (result.cause or ""):
            return (
                "send the features the model was trained on, in the same columns; a label or id first: pass "
                f"skip_first_column=True ({self.pipeline._failure_hint(self.execution_arn)})"
            )
        return super()._fix(result)


@dataclass(frozen=True)
class ScoringResult:
    """How a scoring run ended; when it succeeded, `rows()` reads its output back from S3."""

    execution_arn: str
    status: str
    seconds: float
    output: Any = None  # {"status": "SCORED", "output": "s3://<artifacts>/scoring/<run>/", "model_package_arn", ...}
    error: str | None = None
    cause: str | None = None
    join_input: bool = field(default=True, repr=False)
    input_columns: int | None = field(default=None, repr=False)  # known when score_dataset uploaded the rows
    pipeline: Pipeline | None = field(default=None, repr=False, compare=False)

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    @property
    def output_uri(self) -> str | None:
        """s3://<artifacts bucket>/scoring/<run id>/, where the `.out` objects are."""
        return self.output.get("output") if isinstance(self.output, dict) else None

    @property
    def model_package_arn(self) -> str | None:
        """The registered version that scored the rows."""
        return self.output.get("model_package_arn") if isinstance(self.output, dict) else None

    def objects(self) -> list[str]:
        """The `.out` objects' URIs, one per input file, in key order."""
        bucket, prefix = self._where()
        s3 = self._s3()
        try:
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            keys = sorted(o["Key"] for page in pages for o in page.get("Contents", []) if o["Key"].endswith(".out"))
        except ClientError as error:
            raise _read_error(error, f"s3://{bucket}/{prefix}") from None
        return [f"s3://{bucket}/{key}" for key in keys]

    def lines(self, limit: int | None = None) -> list[str]:
        """The output's CSV lines as they are (every `.out` object in turn), the first `limit` of them."""
        return list(_take(self._lines(), limit))

    def rows(self, limit: int | None = None) -> list[list[float | int | str | None]]:
        """The output's rows: with join_input, the input row followed by its prediction; numbers as numbers, an
        empty cell as None."""
        return [[_value(cell) for cell in row] for row in csv.reader(self.lines(limit))]

    def predictions(self, limit: int | None = None) -> list[Any]:
        """The prediction of each row, without the input columns: a value per row (a predicted label, a score, a
        cluster), or a list per row when the model writes several columns (dimensionality reduction)."""
        rows = self.rows(limit)
        if self.join_input:
            width = self._input_columns()
            rows = [row[width:] for row in rows]
        if rows and all(len(row) == 1 for row in rows):
            return [row[0] for row in rows]
        return rows

    def _lines(self) -> Iterator[str]:
        s3 = self._s3()
        for uri in self.objects():
            bucket, key = uri.removeprefix("s3://").split("/", 1)
            try:
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
            except ClientError as error:
                raise _read_error(error, uri) from None
            yield from (line for line in body.splitlines() if line.strip())

    def _input_columns(self) -> int:
        """The input rows' width: known when score_dataset wrote them, else read from the first input object."""
        if self.input_columns is not None:
            return self.input_columns
        given = self.output.get("input", "")
        bucket, prefix = given.removeprefix("s3://").split("/", 1)
        s3 = self._s3()
        try:
            found = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
            key = sorted(o["Key"] for o in found if not o["Key"].endswith("/"))[0]
            head = s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-1048575")["Body"].read()
        except ClientError as error:
            raise _read_error(error, given) from None
        except IndexError:
            raise PipelineError(f"the input {given} is gone; use rows(), whose rows end with the prediction") from None
        first = next(row for row in csv.reader(head.decode("utf-8", "replace").splitlines()) if row)
        object.__setattr__(self, "input_columns", len(first))
        return len(first)

    def _where(self) -> tuple[str, str]:
        if not self.succeeded or not self.output_uri:
            raise PipelineError(
                f"scoring {self.execution_arn.rsplit(':', 1)[-1]} ended {self.status} ({self.error}): it wrote no "
                "output; fix the cause and score again"
            )
        bucket, prefix = self.output_uri.removeprefix("s3://").split("/", 1)
        return bucket, prefix

    def _s3(self) -> Any:
        if self.pipeline is None:
            raise PipelineError("this result has no pipeline to read the output through; use pipeline.score_dataset")
        return self.pipeline.client("s3")


def _read_error(error: Any, uri: str) -> PipelineError:
    details = error.response.get("Error", {})
    return PipelineError(
        f"cannot read {uri}: {details.get('Code')}: {details.get('Message')}\nfix: check that you may read the "
        "artifacts bucket (s3:GetObject, s3:ListBucket) and decrypt with the pipeline's key (kms:Decrypt)"
    )


def _json(text: str | None) -> Any:
    return json.loads(text) if text else None


def _take(lines: Iterator[str], limit: int | None) -> Iterator[str]:
    for number, line in enumerate(lines):
        if limit is not None and number >= limit:
            return
        yield line


def _value(cell: str) -> float | int | str | None:
    text = cell.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and re.fullmatch(r"[+-]?\d+", text) else number


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_header(cells: list[str]) -> bool:
    """A first line whose feature cells hold no number but some text: column names."""
    return any(c.strip() for c in cells) and not any(_is_number(c) for c in cells if c.strip())


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
