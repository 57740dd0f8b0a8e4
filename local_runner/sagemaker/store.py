"""SageMaker resource state: one JSON document, persisted between runs.

Every change is written through before the call returns (a temporary file, then os.replace): a runner killed
with SIGKILL leaves the records of what it created, the endpoint servers above all, for `stop` and the next run.
"""

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
            self._write()
            self.changed.notify_all()

    def update(self, collection: str, name: str, **fields: Any) -> dict[str, Any]:
        with self.lock:
            record = self.data[collection][name]
            record.update(fields)
            record["LastModifiedTime"] = time.time()
            self._write()
            self.changed.notify_all()
            return copy.deepcopy(record)

    def values(self, collection: str) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(list(self.data[collection].values()))

    def delete(self, collection: str, name: str) -> None:
        with self.lock:
            if self.data[collection].pop(name, None) is not None:
                self._write()
            self.changed.notify_all()

    def wait(self, timeout: float) -> None:
        with self.changed:
            self.changed.wait(timeout)

    def save(self) -> None:
        with self.lock:
            self._write()

    def _write(self) -> None:
        """The whole document, atomically: readers see the previous version or this one, never a torn file.
        Called with the lock held, so that versions reach the disk in the order they were made."""
        if self.path is None:
            return
        text = json.dumps(self.data, separators=(",", ":"), sort_keys=True, default=str)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, self.path)
