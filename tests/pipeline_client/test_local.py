"""The local backend: the committed app deployed into the local runner, in this process.

The full run to a prediction and the endpoint's stop are in tests/notebooks/test_quickstart.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from local_runner import Assembly
from local_runner.pipeline import Pipeline as RunnerPipeline
from pipeline_client import PipelineError, RunFailed
from pipeline_client.local import LocalPipeline

pytestmark = pytest.mark.slow


@pytest.fixture
def local(tmp_path: Path, cdk_out: Path):
    pipeline = LocalPipeline(state_dir=tmp_path / "state", cdk_out=cdk_out)
    try:
        yield pipeline
    finally:
        pipeline.close()


def test_describe_names_what_the_local_runner_deployed(local: LocalPipeline, cdk_out: Path) -> None:
    described = local.describe()
    runner = RunnerPipeline.find(Assembly.load(cdk_out), env="dev")
    assert (described.data_bucket, described.endpoint_name) == (runner.data_bucket(), runner.endpoint_name())
    assert described.artifacts_bucket == runner.function_env()["ARTIFACTS_BUCKET"]
    sfn = local.client("stepfunctions")
    assert sfn.describe_state_machine(stateMachineArn=described.state_machine_arn)["status"] == "ACTIVE"


def test_an_upload_is_in_local_s3_and_on_disk_after_close(local: LocalPipeline, dataset: Path, tmp_path: Path) -> None:
    uri = local.upload_dataset(dataset)
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    assert local.client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"] == dataset.stat().st_size
    local.close()
    assert (tmp_path / "state" / "runner" / "s3" / bucket / key).read_bytes() == dataset.read_bytes()


def test_a_failed_run_raises_and_its_hint_points_at_the_record(local: LocalPipeline, dataset: Path) -> None:
    local.cloud.faults.fail_job("processing", "process-*", "ClientError: injected processing failure")
    run = local.start_run(local.upload_dataset(dataset), tuning=False)
    with pytest.raises(RunFailed) as raised:
        run.wait(timeout_seconds=120)
    message = str(raised.value)
    assert f"run {run.name} FAILED: ProcessFailed: " in message and "injected processing failure" in message
    record = local.runner_dir / "s3" / local.describe().artifacts_bucket / "failures" / run.name / "failure.json"
    assert str(record) in message and record.is_file()


def test_predict_before_any_deployment_says_to_run_first(local: LocalPipeline) -> None:
    with pytest.raises(PipelineError, match="run the pipeline to a DEPLOYED decision first"):
        local.predict([[1.0, 2.0]])


def test_opening_another_local_pipeline_closes_the_first(local: LocalPipeline, tmp_path: Path, cdk_out: Path) -> None:
    with LocalPipeline(state_dir=tmp_path / "second", cdk_out=cdk_out) as second:
        with pytest.raises(PipelineError, match=r"closed; connect again"):
            local.client("s3")
        assert second.client("s3").head_bucket(Bucket=second.describe().data_bucket)
    with pytest.raises(PipelineError, match="closed"):
        second.client("s3")


def test_a_missing_cloud_assembly_is_explained(tmp_path: Path) -> None:
    with pytest.raises(
        PipelineError, match=r"(?s)no cloud assembly there \(run `make synth ENV=dev`\).*or leave PIPELINE_CDK"
    ):
        LocalPipeline(state_dir=tmp_path / "state", cdk_out=tmp_path / "nothing")
