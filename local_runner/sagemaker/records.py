"""Batch transform records: splitting, mini-batches, and DataProcessing (InputFilter, JoinSource, OutputFilter).

Per the developer guide ("Associate Prediction Results with Input Records"): CSV rows are taken as JSON
arrays, so only index paths apply to them; a joined CSV record is the input's columns followed by the
output's; a joined JSON record is the input object with the output under `SageMakerOutput`, or, when the
input is not an object, `{"SageMakerInput": ..., "SageMakerOutput": ...}`. The JSONPath subset here is
`$`, `$.name`, `$['a','b']`, `$[i]`, `$[i,j,...]` and one slice `$[start:end]`, whose end the guide
defines as inclusive ("`$[1:4]` specifies the second through fifth columns").
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from typing import Any

CSV = "text/csv"
JSON_TYPES = ("application/json", "application/jsonlines", "application/x-jsonlines")


class Unsupported(Exception):
    """Something the local transform cannot do (the job fails naming it)."""


class RecordError(Exception):
    """A record the job cannot process, as SageMaker's ClientError."""


def media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def check_split(split_type: str) -> None:
    if split_type not in ("None", "Line"):
        raise Unsupported(f"SplitType {split_type} (Line and None are)")


def split(body: bytes, split_type: str) -> list[bytes]:
    """The records of one object: its lines (empty ones skipped), or the whole object."""
    check_split(split_type)
    if split_type == "None":
        return [body] if body else []
    return [line for line in body.splitlines() if line.strip()]


def batches(records: list[bytes], strategy: str, max_payload: int, name: str) -> list[tuple[int, int]]:
    """[start, end) ranges of records sent together: one each (SingleRecord), or as many consecutive
    records as fit in MaxPayloadInMB, newline-separated (MultiRecord; 0 means no limit)."""
    out: list[tuple[int, int]] = []
    start, size = 0, 0
    for index, record in enumerate(records):
        if max_payload and len(record) > max_payload:
            raise RecordError(
                f"record {index + 1} of {name} is {len(record)} bytes, more than MaxPayloadInMB ({max_payload} bytes)"
            )
        full = strategy == "SingleRecord" or (max_payload and size + 1 + len(record) > max_payload)
        if index > start and full:
            out.append((start, index))
            start, size = index, 0
        size += len(record) + (1 if index > start else 0)
    if records:
        out.append((start, len(records)))
    return out


# -- JSONPath ------------------------------------------------------------------------------------------
_SLICE = re.compile(r"\$\[\s*(-?\d*)\s*:\s*(-?\d*)\s*\]")
_INDEXES = re.compile(r"\$\[\s*(-?\d+(?:\s*,\s*-?\d+)*)\s*\]")
_NAME = re.compile(r"\$\.([A-Za-z_][A-Za-z0-9_]*)")
_NAMES = re.compile(r"\$\[\s*('[^']*'(?:\s*,\s*'[^']*')*)\s*\]")


def path(expression: str | None) -> Callable[[Any], Any]:
    """A function applying one JSONPath of the supported subset; Unsupported for anything else."""
    text = (expression or "$").strip()
    if text == "$":
        return lambda value: value
    if match := _SLICE.fullmatch(text):
        first = int(match.group(1)) if match.group(1) else None
        last = int(match.group(2)) if match.group(2) else None
        stop = None if last is None or last == -1 else last + 1  # the guide's inclusive end
        return lambda value: _sequence(value, text)[first:stop]
    if match := _INDEXES.fullmatch(text):
        indexes = [int(i) for i in match.group(1).split(",")]
        if len(indexes) == 1:
            return lambda value: _item(_sequence(value, text), indexes[0], text)
        return lambda value: [_item(_sequence(value, text), i, text) for i in indexes]
    if match := _NAME.fullmatch(text):
        key = match.group(1)
        return lambda value: _mapping(value, text).get(key)
    if match := _NAMES.fullmatch(text):
        keys = [k.strip()[1:-1] for k in match.group(1).split(",")]
        return lambda value: {k: _mapping(value, text)[k] for k in keys if k in _mapping(value, text)}
    raise Unsupported(f"the JSONPath {text!r} ($, $.name, $['a','b'], $[i], $[i,j] and $[a:b] are)")


def _sequence(value: Any, text: str) -> list:
    if not isinstance(value, list):
        raise RecordError(f"{text} selects array elements, but the record is not an array")
    return value


def _mapping(value: Any, text: str) -> dict:
    if not isinstance(value, dict):
        raise RecordError(f"{text} selects attributes, but the record is not a JSON object")
    return value


def _item(values: list, index: int, text: str) -> Any:
    try:
        return values[index]
    except IndexError:
        raise RecordError(f"{text}: the record has {len(values)} elements") from None


# -- parsing and joining ----------------------------------------------------------------------------------
def parse(record: bytes, content_type: str) -> Any:
    """A record as JSONPath sees it: a CSV row is an array of its fields (strings)."""
    kind = media_type(content_type)
    text = record.decode("utf-8")
    if kind == CSV:
        rows = list(csv.reader(io.StringIO(text)))
        if len(rows) != 1:
            raise RecordError(f"a CSV record must be one row, found {len(rows)}")
        return rows[0]
    if kind in JSON_TYPES:
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise RecordError(f"a record is not valid JSON: {error}") from None
    raise Unsupported(f"DataProcessing on {content_type or '(no content type)'} records (text/csv and JSON are)")


def render(value: Any, content_type: str) -> bytes:
    if media_type(content_type) == CSV:
        row = value if isinstance(value, list) else [value]
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(row)
        return out.getvalue().encode()
    return json.dumps(value, separators=(",", ":")).encode()


def join(source: Any, output: Any, content_type: str) -> Any:
    if media_type(content_type) == CSV:
        return [*source, *(output if isinstance(output, list) else [output])]
    if isinstance(source, dict):
        return {**source, "SageMakerOutput": output}
    return {"SageMakerInput": source, "SageMakerOutput": output}


def outputs(body: bytes, accept: str, expected: int) -> list[bytes]:
    """The response to a mini-batch as one output record per input record."""
    kind = media_type(accept)
    if expected == 1 and kind not in (CSV, "application/jsonlines", "application/x-jsonlines"):
        return [body.strip()]
    if kind in (CSV, "application/jsonlines", "application/x-jsonlines"):
        lines = [line for line in body.splitlines() if line.strip()]
    else:
        raise Unsupported(
            f"DataProcessing of MultiRecord batches with Accept {accept or '(none)'} (one output line per record is "
            "needed: text/csv or application/jsonlines)"
        )
    if len(lines) != expected:
        raise RecordError(f"the model returned {len(lines)} output records for {expected} input records")
    return lines
