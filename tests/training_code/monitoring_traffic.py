"""Synthetic training data, its baseline, and endpoint traffic written as data capture JSON Lines.

The capture records come from the local SageMaker's own writer (local_runner/sagemaker/capture.py `payload`),
so the monitor is tested on the format the local endpoint (and SageMaker) writes.
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from local_runner.sagemaker.capture import payload
from training_code.baseline import statistics

FEATURES = ("age", "income", "score", "ratio")
HEADER_BOTH = {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]}


def population(rows: int, seed: int) -> pd.DataFrame:
    """Label first, then an Integral feature and three Fractional ones."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "label": rng.integers(0, 2, rows),
            "age": rng.integers(18, 80, rows).astype(float),
            "income": rng.lognormal(10, 0.5, rows),
            "score": rng.normal(0, 1, rows),
            "ratio": rng.uniform(0, 1, rows),
        }
    )
    return frame


def write_baseline(directory: Path, rows: int = 2000, seed: int = 0) -> dict:
    stats = statistics(population(rows, seed))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "statistics.json").write_text(json.dumps(stats))
    return stats


def _csv(rows: list[list]) -> bytes:
    return "\n".join(",".join("" if v is None else str(v) for v in row) for row in rows).encode()


def _json(rows: list[list]) -> bytes:
    return json.dumps({"instances": rows}).encode()


def request(rows: list[list], encoding: str) -> tuple[bytes, str, dict | None]:
    """(body, content type, CaptureContentTypeHeader) that make the writer use `encoding`."""
    if encoding == "CSV":
        return _csv(rows), "text/csv", HEADER_BOTH
    if encoding == "JSON":
        return _json(rows), "application/json", HEADER_BOTH
    return _csv(rows), "text/csv", None  # no header lists: SageMaker writes everything as BASE64


def record(rows: list[list], encoding: str, predictions: list | None = None, inference_id: str | None = None) -> str:
    body, content_type, header = request(rows, encoding)
    data = {"endpointInput": payload(body, content_type, "INPUT", header)}
    if predictions is not None:
        answer = ("\n".join(map(str, predictions)) + "\n").encode()
        data["endpointOutput"] = payload(answer, "text/csv", "OUTPUT", header)
    metadata = {"eventId": str(uuid.uuid4()), "inferenceTime": "2026-12-01T10:00:00Z"}
    if inference_id:
        metadata["inferenceId"] = inference_id
    return json.dumps({"captureData": data, "eventMetadata": metadata, "eventVersion": "0"})


def write_capture(directory: Path, frame: pd.DataFrame, encoding: str, rows_per_request: int = 5) -> Path:
    """The frame's features as requests of a few rows each, in SageMaker's endpoint/variant/yyyy/mm/dd/hh layout."""
    features = frame[list(FEATURES)].astype(object).where(frame[list(FEATURES)].notna(), None).values.tolist()
    lines = [record(features[i : i + rows_per_request], encoding) for i in range(0, len(features), rows_per_request)]
    path = directory / "endpoint" / "AllTraffic" / "2026" / "12" / "01" / "10" / f"00-00-000-{uuid.uuid4()}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def base64_line(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
