"""A local SageMaker control plane: jobs in subprocesses, endpoints on local ports."""

from .service import LocalSageMaker
from .store import Store

__all__ = ["LocalSageMaker", "Store"]
