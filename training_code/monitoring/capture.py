"""Endpoint data capture's JSON Lines as feature rows (and the predictions answered for them).

Each line is one captured request, as SageMaker writes them (and local_runner/sagemaker/capture.py does):

    {"captureData": {"endpointInput": {"observedContentType", "mode", "data", "encoding"},
                     "endpointOutput": {...}},
     "eventMetadata": {"eventId", "inferenceId"?, "inferenceTime"}, "eventVersion": "0"}

`encoding` is CSV or JSON (the data is the body as text) or BASE64 (the body's bytes, read by its
observedContentType). A request may hold several rows. A cell that is not a number is kept as its text, so
that drift.py counts it as a type violation instead of failing the run; a line that is not a capture record
fails it, naming the file and line.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError

Cell = float | str | None  # a number, text that is not one, or missing
CSV_TYPES = ("text/csv",)
JSON_TYPES = ("application/json", "application/jsonlines")
_RECORD_HINT = 'each line must be a data capture record: {"captureData": {"endpointInput": {...}}, ...}'


@dataclass
class Capture:
    """Every row of every captured request, with the id of its request and the prediction answered for it."""

    rows: list[list[Cell]] = field(default_factory=list)
    record_ids: list[str] = field(default_factory=list)
    predictions: list[Cell] = field(default_factory=list)  # None where no output was captured
    files: int = 0
    requests: int = 0


def capture_files(directory: Path) -> list[Path]:
    """The .jsonl files under `directory` (any depth: endpoint/variant/yyyy/mm/dd/hh), oldest path first."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.rglob("*.jsonl") if p.is_file() and not p.name.startswith((".", "_")))


def read_capture(directory: Path) -> Capture:
    capture = Capture()
    for path in capture_files(directory):
        capture.files += 1
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    _add_record(capture, line, f"{path}:{number}")
    return capture


def _add_record(capture: Capture, line: str, where: str) -> None:
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise UserError(f"{where}: not valid JSON ({exc}); {_RECORD_HINT}") from None
    data = record.get("captureData") if isinstance(record, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("endpointInput"), dict):
        raise UserError(
            f"{where}: no captureData.endpointInput; {_RECORD_HINT} (was the endpoint's "
            "CaptureOptions Output only? the monitor needs Input)"
        )
    rows = parse_rows(body(data["endpointInput"], where), content_type(data["endpointInput"]), where)
    outputs: list[Cell] = [None] * len(rows)
    if isinstance(data.get("endpointOutput"), dict):
        side = data["endpointOutput"]
        answered = parse_predictions(body(side, where), content_type(side), where)
        if len(answered) == len(rows):
            outputs = answered
    metadata = record.get("eventMetadata") if isinstance(record.get("eventMetadata"), dict) else {}
    record_id = str(metadata.get("inferenceId") or metadata.get("eventId") or where)
    capture.requests += 1
    capture.rows.extend(rows)
    capture.predictions.extend(outputs)
    capture.record_ids.extend(record_id if len(rows) == 1 else f"{record_id}:{i}" for i in range(len(rows)))


def content_type(side: dict) -> str:
    return str(side.get("observedContentType") or "").split(";", 1)[0].strip().lower()


def body(side: dict, where: str) -> str:
    """The payload as text: CSV and JSON encodings carry it as it was, BASE64 as the body's bytes."""
    encoding, data = side.get("encoding"), side.get("data")
    if not isinstance(data, str):
        raise UserError(f"{where}: {side.get('mode', 'capture')} data must be a string; {_RECORD_HINT}")
    if encoding in ("CSV", "JSON"):
        return data
    if encoding != "BASE64":
        raise UserError(f"{where}: encoding {encoding!r} is not one of CSV, JSON, BASE64 (data capture's encodings)")
    try:
        return base64.b64decode(data, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise UserError(
            f"{where}: BASE64 data is not base64-encoded UTF-8 text; the monitor reads text/csv and "
            "application/json requests"
        ) from None


def _cell(value) -> Cell:
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):  # the endpoint takes numbers only: a JSON string is a type violation
        return value
    return json.dumps(value)[:40]


def text_cell(text: str) -> Cell:
    stripped = text.strip()
    if stripped in ("", "NA", "NaN", "nan", "null", "None"):
        return None
    try:
        return float(stripped)
    except ValueError:
        return stripped


def parse_rows(text: str, media: str, where: str) -> list[list[Cell]]:
    if media in CSV_TYPES:
        lines = [line for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
        return [[text_cell(cell) for cell in line.split(",")] for line in lines]
    if media in JSON_TYPES:
        return [[_cell(v) for v in row] for row in _json_rows(text, where)]
    raise UserError(
        f"{where}: request content type {media or '(none)'!r} cannot be monitored; send text/csv or application/json"
    )


def _json_rows(text: str, where: str) -> list[list]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise UserError(f"{where}: the captured JSON request is not valid JSON ({exc})") from None
    if isinstance(doc, dict):
        rows = doc.get("instances", doc.get("inputs"))
        if rows is None and "features" in doc:
            rows = [doc["features"]]
    else:
        rows = doc
    if not isinstance(rows, list) or not rows:
        raise UserError(
            f'{where}: a JSON request must be {{"instances": [[...], ...]}}, {{"features": [...]}} or a '
            "list of rows (the shapes the endpoint accepts)"
        )
    if not isinstance(rows[0], list | dict):
        rows = [rows]
    out = []
    for row in rows:
        if isinstance(row, dict):
            row = row.get("features", row.get("values"))
        if not isinstance(row, list):
            raise UserError(f'{where}: each JSON row must be a list of numbers or {{"features": [...]}}')
        out.append(row)
    return out


def parse_predictions(text: str, media: str, where: str) -> list[Cell]:
    """One prediction per row: a CSV answer's first cell, or the built-in algorithms' JSON shapes."""
    if media in CSV_TYPES:
        return [text_cell(line.split(",", 1)[0]) for line in text.split("\n") if line.strip()]
    if media not in JSON_TYPES:
        return []
    try:
        doc = json.loads(text)
    except ValueError:
        return []
    items = doc.get("predictions", doc.get("scores", [])) if isinstance(doc, dict) else doc
    values = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            item = next((item[k] for k in ("predicted_label", "score", "closest_cluster") if k in item), None)
        values.append(_cell(item))
    return values
