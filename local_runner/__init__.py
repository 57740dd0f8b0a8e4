"""Run the synthesized state machine locally: moto's ASL interpreter, local SageMaker, S3 and Lambda."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import s3
    from .cloud import ExecutionResult, LocalCloud
    from .faults import Faults
    from .template import Assembly

__all__ = ["Assembly", "ExecutionResult", "Faults", "LocalCloud", "s3"]

# Loaded when first asked for: the engine imports moto's interpreter and backends (over a second of CPU), and
# the commands that only read a record and send a signal (`make down`, `make stop`, `status`) need none of it.
_EXPORTS = {"Assembly": ".template", "ExecutionResult": ".cloud", "Faults": ".faults", "LocalCloud": ".cloud"}


def __getattr__(name: str):
    if name == "s3":
        return importlib.import_module(".s3", __name__)
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
