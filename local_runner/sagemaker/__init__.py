"""A local SageMaker control plane: jobs in subprocesses, endpoints on local ports."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .service import LocalSageMaker
    from .store import Store

__all__ = ["LocalSageMaker", "Store"]

# Loaded when first asked for, as the package above does: `lifetime` and `endpoints` alone serve `stop`.
_EXPORTS = {"LocalSageMaker": ".service", "Store": ".store"}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
