"""SageMaker resource state: one JSON document, persisted between runs."""

from __future__ import annotations

import copy
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

COLLECTIONS = (
    "training_jobs",
    "processing_jobs",
    "tuning_jobs",
    "transform_jobs",
    "models",
    "endpoint_configs",
    "endpoints",
    "model_package_groups",
    "model_packages",
    "tags",
)


class Store:
    """Records keyed by resource name; values are Describe-shaped dicts with epoch-second timestamps.

    `changed` is notified on every update, so waiters (the `.sync` integrations) wake at once.
    """

    def __init__(self, path: Path | None = None):
        self.path = path
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.data: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in COLLECTIONS}
        if path is not None and path.is_file():
            loaded = json.loads(path.read_text())
            for name in COLLECTIONS:
                self.data[name].update(loaded.get(name, {}))

    def get(self, collection: str, name: str) -> dict[str, Any] | None:
        with self.lock:
            record = self.data[collection].get(name)
            return copy.deepcopy(record) if record is not None else None

    def put(self, collection: str, name: str, record: dict[str, Any]) -> None:
        with self.lock:
            self.data[collection][name] = copy.deepcopy(record)
            self.changed.notify_all()

    def update(self, collection: str, name: str, **fields: Any) -> dict[str, Any]:
        with self.lock:
            record = self.data[collection][name]
            record.update(fields)
            record["LastModifiedTime"] = time.time()
            self.changed.notify_all()
            return copy.deepcopy(record)

    def values(self, collection: str) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(list(self.data[collection].values()))

    def delete(self, collection: str, name: str) -> None:
        with self.lock:
            self.data[collection].pop(name, None)
            self.changed.notify_all()

    def wait(self, timeout: float) -> None:
        with self.changed:
            self.changed.wait(timeout)

    def save(self) -> None:
        if self.path is None:
            return
        with self.lock:
            text = json.dumps(self.data, indent=1, sort_keys=True, default=str)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.path)
