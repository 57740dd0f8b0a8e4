"""Stopping a local cloud ends the runs it started: an execution's thread must not go on against the next
cloud this process starts (a smoke check's run collided with an earlier test's run that way)."""

from __future__ import annotations

import threading

from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from local_runner import Assembly, LocalCloud, s3


def _execution_threads() -> list[threading.Thread]:
    """moto's threads that run executions (`Thread(target=worker._execution_logic)`)."""
    return [
        t
        for t in threading.enumerate()
        if isinstance(getattr(getattr(t, "_target", None), "__self__", None), ExecutionWorker)
    ]


def test_a_run_in_flight_when_its_cloud_stops_does_not_go_on_in_the_next_cloud(tmp_path, fixture_assembly, dataset):
    first = LocalCloud(tmp_path / "first", persist=False, time_scale=0.02)
    with first:
        arns = first.deploy(Assembly.load(fixture_assembly))
        bucket = first.assembly.resolver("Pipeline").resolve({"Fn::ImportValue": "Storage:DataBucketName"})
        s3.upload_file(dataset, f"s3://{bucket}/input/data.csv")
        payload = {"algorithm": "xgboost", "threshold": 0.8, "data_uri": f"s3://{bucket}/input/data.csv"}
        first.start_execution(arns["StateMachine"], payload)
    second = LocalCloud(tmp_path / "second", persist=False, time_scale=0.02)
    with second:
        second.deploy(Assembly.load(fixture_assembly))
        s3.upload_file(dataset, f"s3://{bucket}/input/data.csv")
        for thread in _execution_threads():  # aborted, the first cloud's run ends at its next state
            thread.join(timeout=30)
        assert second.sagemaker.store.values("processing_jobs") == []
