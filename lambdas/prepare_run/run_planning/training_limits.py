"""How long a training job may run, derived once from the environment's training settings.

The function puts these limits in every plan; the synthesis takes the task timeouts from the same
derivation (stacks/config/timeouts.py), so the two never disagree on which limit bounds a job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .plan_model import TrainingLimits


def training_limits(training: Mapping[str, Any]) -> TrainingLimits:
    """`training`: the configuration's training section (use_spot, max_runtime_seconds, max_wait_seconds)."""
    stopping = {"MaxRuntimeInSeconds": training["max_runtime_seconds"]}
    if training["use_spot"]:
        # Spot capacity may be reclaimed: the job may wait for capacity up to MaxWaitTimeInSeconds in all.
        stopping["MaxWaitTimeInSeconds"] = training["max_wait_seconds"]
    return TrainingLimits(use_spot=training["use_spot"], stopping_condition=stopping)


def longest_job_seconds(limits: TrainingLimits) -> int:
    """The longest a training job can take, waiting for spot capacity included."""
    return max(limits.stopping_condition.values())
