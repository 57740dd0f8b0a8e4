"""The local SageMaker API: one implementation behind the state machine and plain boto3 clients, one part per
concern (plumbing.py, processing.py, training.py, tuning_jobs.py, registry.py, hosting.py with bluegreen.py,
transform.py)."""

from __future__ import annotations

from .bluegreen import BlueGreen
from .hosting import Hosting
from .plumbing import TERMINAL, JobFailed, SageMakerPlumbing
from .processing import ProcessingJobs
from .registry import ModelRegistry
from .training import TrainingJobs
from .transform import TransformJobs
from .tuning_jobs import TuningJobs

__all__ = ["TERMINAL", "JobFailed", "LocalSageMaker"]


class LocalSageMaker(
    ProcessingJobs, TrainingJobs, TuningJobs, ModelRegistry, Hosting, BlueGreen, TransformJobs, SageMakerPlumbing
):
    """SageMaker's control plane (jobs, tuning, models, endpoints, model registry) on this machine.

    `workdir` holds each job's `/opt/ml` tree and each endpoint's model; the record
    of every resource lives in `store` (persisted, so a second run finds its endpoint).
    `time_scale` multiplies the waits of blue/green updates (baking periods), as the runner's do.
    """
