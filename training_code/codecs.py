"""Request decoding and response encoding for ``/invocations`` (text/csv and application/json).

Decoding errors raise ClientError with the HTTP status and a message naming the row and column.
"""

from __future__ import annotations

import io
import math

import numpy as np
import orjson

from .catalog import ANOMALY, CLASSIFICATION, CLUSTERING, REDUCTION, REGRESSION

CSV = "text/csv"
JSON = "application/json"
SUPPORTED = (CSV, JSON)
LOADTXT_ROWS = 8
#: Error messages quote at most this many characters of what the client sent (a path, a header, a cell).
EXCERPT = 40
#: Model outputs that must be finite numbers; an input that overflows them is the client's error.
_NUMERIC_OUTPUTS = ("score", "distance_to_cluster", "projection")


class ClientError(Exception):
    """A 4xx answer. ``close``: the request body was not read, so the connection must close after the answer."""

    def __init__(self, status: int, message: str, close: bool = False):
        super().__init__(message)
        self.status = status
        self.message = message
        self.close = close


def excerpt(text: str) -> str:
    """``repr`` of at most EXCERPT characters of client input, so no error message reflects a large value."""
    return repr(text[:EXCERPT] + "...") if len(text) > EXCERPT else repr(text)


def unsupported_content_type(content_type: str) -> ClientError:
    shown = excerpt(content_type) if content_type else "'(none)'"
    return ClientError(415, f"unsupported Content-Type {shown}; use text/csv or application/json")


def media_type(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


def negotiate(accept: str | None, default: str = JSON) -> str:
    """Pick the response type from an Accept header (first supported entry, q-values ignored)."""
    if not accept:
        return default
    for part in accept.split(","):
        kind = media_type(part)
        if kind in SUPPORTED:
            return kind
        if kind in ("*/*", "text/*", "application/*", ""):
            return default if kind in ("*/*", "") else (CSV if kind == "text/*" else JSON)
    raise ClientError(406, f"unsupported Accept {excerpt(accept)}; use text/csv or application/json")


def _check(x: np.ndarray, n_features: int, accepts_missing: bool, rows: list | None = None) -> np.ndarray:
    if x.shape[1] != n_features:
        raise ClientError(400, f"row 1 has {x.shape[1]} columns; the model expects {n_features} features "
                               "(features only, no label column)")
    finite = np.isfinite(x)
    if not finite.all():
        bad = np.argwhere(~finite)
        for row, col in bad:
            value = x[row, col]
            if math.isnan(value) and accepts_missing:
                continue
            what = "is missing" if math.isnan(value) else f"is {value!r}, not a finite number"
            hint = "; this model was trained without missing values, send every feature" \
                if math.isnan(value) else ""
            raise ClientError(400, f"row {row + 1}, column {col + 1}: value {what}{hint}")
    return x


def _cell(text: bytes, row: int, col: int) -> float:
    stripped = text.strip()
    if not stripped:
        return math.nan
    try:
        return float(stripped)
    except ValueError:
        shown = stripped[:40].decode("utf-8", "replace")
        raise ClientError(400, f"row {row}, column {col}: {shown!r} is not a number "
                               "(send CSV without header: numbers only, one row per line)") from None


def decode_csv(body: bytes, n_features: int, accepts_missing: bool) -> np.ndarray:
    text = body.strip()
    if b"\r" in text:
        text = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if not text:
        raise ClientError(400, "empty request body; send one CSV row of features per line")
    lines = text.split(b"\n")
    if b"\n\n" in text:
        lines = [line for line in lines if line.strip()]
    width = lines[0].count(b",") + 1
    for index, line in enumerate(lines):
        count = line.count(b",") + 1
        if count != width or count != n_features:
            raise ClientError(400, f"row {index + 1} has {count} columns; the model expects {n_features} "
                                   "features (CSV without header, features only, no label column)")
    try:
        if len(lines) > LOADTXT_ROWS:  # numpy's C parser wins on many rows
            x = np.loadtxt(io.BytesIO(b"\n".join(lines)), delimiter=",", comments=None, dtype=np.float64, ndmin=2)
        else:
            x = np.array(b",".join(lines).split(b","), dtype=np.float64).reshape(len(lines), width)
    except ValueError:
        x = np.array([[_cell(c, r + 1, j + 1) for j, c in enumerate(line.split(b","))]
                      for r, line in enumerate(lines)], dtype=np.float64)
    return _check(x, n_features, accepts_missing)


def _shown(value) -> str:
    """A JSON value for an error message: nested values by kind only (serialising them could recurse 1,000 deep)."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return orjson.dumps(value)[:EXCERPT].decode("utf-8", "replace")


def _json_row(row, index: int, n_features: int) -> list:
    if isinstance(row, dict):
        row = row.get("features", row.get("values"))
    if not isinstance(row, list):
        raise ClientError(400, f"instance {index + 1} must be a list of {n_features} numbers "
                               '(or {"features": [...]}), got ' + type(row).__name__)
    for col, value in enumerate(row):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ClientError(400, f"row {index + 1}, column {col + 1}: {_shown(value)} is not a number")
    if len(row) != n_features:
        raise ClientError(400, f"row {index + 1} has {len(row)} columns; the model expects {n_features} features")
    return row


def decode_json(body: bytes, n_features: int, accepts_missing: bool) -> np.ndarray:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ClientError(400, f"malformed JSON: {exc}") from None
    if isinstance(doc, dict):
        if "instances" in doc:
            rows = doc["instances"]
        elif "features" in doc:
            rows = [doc["features"]]
        elif "inputs" in doc:
            rows = doc["inputs"]
        else:
            raise ClientError(400, 'JSON must be {"instances": [[...], ...]} or {"features": [...]}; '
                                   f"got keys {', '.join(excerpt(k) for k in sorted(doc)[:5])}")
    else:
        rows = doc
    if not isinstance(rows, list) or not rows:
        raise ClientError(400, 'JSON "instances" must be a non-empty list of rows')
    if not isinstance(rows[0], (list, dict)):
        rows = [rows]  # a single flat row
    rows = [_json_row(row, i, n_features) for i, row in enumerate(rows)]
    try:
        x = np.array(rows, dtype=np.float64)
    except (ValueError, OverflowError, TypeError) as exc:
        raise ClientError(400, f"rows are not numbers: {exc}") from None
    return _check(x.reshape(len(rows), n_features), n_features, accepts_missing)


def decode(body: bytes, content_type: str, n_features: int, accepts_missing: bool) -> np.ndarray:
    if content_type == CSV:
        return decode_csv(body, n_features, accepts_missing)
    if content_type == JSON:
        return decode_json(body, n_features, accepts_missing)
    raise unsupported_content_type(content_type)


def check_finite(out: dict) -> None:
    """Refuse rows whose features overflow the model's arithmetic (1e308 * a weight): a 400, not a null score."""
    for key in _NUMERIC_OUTPUTS:
        if key not in out:
            continue
        bad = ~np.isfinite(np.asarray(out[key], dtype=np.float64))
        if bad.ndim > 1:
            bad = bad.any(axis=tuple(range(1, bad.ndim)))
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + 1
            raise ClientError(400, f"row {row}: the features overflow the model's arithmetic (its {key} is not a "
                                   "finite number); send feature values of the magnitude the model was trained on")


def _floats(values) -> list:
    return np.asarray(values, dtype=np.float64).tolist()


def encode(out: dict, task: str, accept: str, labels: list | None) -> bytes:
    """Built-in algorithm response shapes (JSON) or one CSV line per row."""
    if task == CLASSIFICATION:
        predicted = [labels[i] for i in out["index"].tolist()]
        if accept == CSV:
            return ("\n".join(map(str, predicted)) + "\n").encode()
        scores = _floats(out["score"])
        rows = [{"predicted_label": p, "score": s} for p, s in zip(predicted, scores, strict=True)]
        return orjson.dumps({"predictions": rows})
    if task == REGRESSION:
        scores = _floats(out["score"])
        if accept == CSV:
            return ("\n".join(map(repr, scores)) + "\n").encode()
        return orjson.dumps({"predictions": [{"score": s} for s in scores]})
    if task == CLUSTERING:
        clusters = out["closest_cluster"].tolist()
        if accept == CSV:
            return ("\n".join(map(str, clusters)) + "\n").encode()
        distances = _floats(out["distance_to_cluster"])
        return orjson.dumps({"predictions": [{"closest_cluster": c, "distance_to_cluster": d}
                                             for c, d in zip(clusters, distances, strict=True)]})
    if task == ANOMALY:
        scores = _floats(out["score"])
        if accept == CSV:
            return ("\n".join(map(repr, scores)) + "\n").encode()
        return orjson.dumps({"scores": [{"score": s} for s in scores]})
    if task == REDUCTION:
        projections = _floats(out["projection"])
        if accept == CSV:
            return ("\n".join(",".join(map(repr, row)) for row in projections) + "\n").encode()
        return orjson.dumps({"projections": [{"projection": p} for p in projections]})
    raise ValueError(task)
