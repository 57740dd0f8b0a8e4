"""Run the synthesized state machine locally: moto's ASL interpreter, local SageMaker, S3 and Lambda."""

from . import s3
from .cloud import ExecutionResult, LocalCloud
from .faults import Faults
from .template import Assembly

__all__ = ["Assembly", "ExecutionResult", "Faults", "LocalCloud", "s3"]
