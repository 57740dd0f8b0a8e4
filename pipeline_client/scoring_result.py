"""How a scoring run ended; when it succeeded, its output read back from `s3://<artifacts>/scoring/<run>/`, one
`<input file>.out` per input file, through the client's own S3 client."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from .errors import PipelineError

if TYPE_CHECKING:
    from .client import PipelineClient


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
    pipeline: PipelineClient | None = field(default=None, repr=False, compare=False)

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


def output_of(described: dict[str, Any]) -> Any:
    """DescribeExecution's output, parsed."""
    return json.loads(described["output"]) if described.get("output") else None


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
