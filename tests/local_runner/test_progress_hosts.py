"""Live progress of a multi-instance job: each host's status beside the job's."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rich.console import Console

from local_runner import progress
from local_runner.cloud import StateRun


class _Store:
    def __init__(self, **collections: list[dict]):
        self.collections = collections

    def values(self, collection: str) -> list[dict]:
        return self.collections.get(collection, [])


def test_a_two_instance_job_shows_each_hosts_status() -> None:
    job = {
        "TrainingJobName": "train-1",
        "TrainingJobStatus": "InProgress",
        "SecondaryStatus": "Training",
        "LocalHostStatus": {"algo-1": "Running", "algo-2": "Failed (exit -9)"},
    }
    cloud = SimpleNamespace(sagemaker=SimpleNamespace(store=_Store(training_jobs=[job])))
    console = Console(file=io.StringIO(), width=200)
    console.print(progress.table(cloud, [StateRun("Train", entered=0.0)], 0.0, "RUNNING"))
    assert "train-1: Training (algo-1 Running, algo-2 Failed (exit -9))" in console.file.getvalue()
