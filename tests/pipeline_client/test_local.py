"""The local backend: the committed app deployed into the local runner, in this process.

The full run to a prediction and the endpoint's stop are in tests/notebooks/test_quickstart.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from local_runner import Assembly
from local_runner.pipeline import Pipeline as RunnerPipeline
from pipeline_client import PipelineError, RunFailed, read_rows
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
    runner = RunnerPipeline.find(Assembly.load(cdk_out, stage="SageMakerPipeline-dev"), env="dev")
    assert (described.data_bucket, described.endpoint_name) == (runner.data_bucket(), runner.endpoint_name())
    assert described.artifacts_bucket == runner.function_env()["ARTIFACTS_BUCKET"]
    sfn = local.client("stepfunctions")
    for machine in (described.state_machine_arn, described.scoring_state_machine_arn):
        assert sfn.describe_state_machine(stateMachineArn=machine)["status"] == "ACTIVE"
    assert "Scoring" in described.scoring_state_machine_arn.rsplit(":", 1)[-1]


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


def test_scoring_before_any_model_is_registered_says_to_register_one(local: LocalPipeline) -> None:
    scoring = local.score_dataset([[1.0, 2.0]])
    with pytest.raises(RunFailed) as raised:
        scoring.wait(timeout_seconds=120)
    message = str(raised.value)
    assert message.startswith(f"scoring {scoring.name} FAILED: NoApprovedModel: No Approved model package in ")
    assert "fix: register a model first: a run that ends REGISTERED or DEPLOYED" in message


def test_rows_and_a_labelled_file_are_scored_by_the_registered_model(local: LocalPipeline, dataset: Path) -> None:
    trained = local.start_run(local.upload_dataset(dataset), tuning=False, deploy=False, threshold=0.8).wait()
    assert trained.decision is not None and trained.decision.outcome == "REGISTERED"
    package = trained.output["model_package_arn"]

    sample = read_rows(dataset, limit=20)
    scored = local.score_dataset(sample.features).wait(timeout_seconds=180)  # the newest Approved version
    assert scored.output["status"] == "SCORED" and scored.model_package_arn == package
    assert scored.output_uri.startswith(f"s3://{local.describe().artifacts_bucket}/scoring/")
    rows = scored.rows()
    assert [row[:30] for row in rows] == sample.features  # JoinSource Input: the row, then its prediction
    predictions = scored.predictions()
    assert len(predictions) == 20 and set(predictions) <= {0, 1}

    # The whole labelled file as it is: the label dropped before scoring, predictions only in the output.
    whole = local.score_dataset(dataset, skip_first_column=True, join_input=False, model_package_arn=package)
    result = whole.wait(timeout_seconds=180)
    assert [uri.rsplit("/", 1)[-1] for uri in result.objects()] == ["breast_cancer.csv.out"]
    assert result.predictions()[:20] == predictions and len(result.predictions()) == 569

    mistaken = local.score_dataset(dataset)  # the label column sent as a feature
    with pytest.raises(RunFailed) as raised:
        mistaken.wait(timeout_seconds=180)
    message = str(raised.value)
    assert f"scoring {mistaken.name} FAILED: TransformFailed: " in message
    assert "row 1 has 31 columns; the model expects 30 features" in message
    assert "fix: send the features the model was trained on, in the same columns; a label or id first: pass " in message
    record = local.runner_dir / "s3" / local.describe().artifacts_bucket / "failures" / mistaken.name / "failure.json"
    assert str(record) in message and record.is_file()


def test_a_stage_without_scoring_says_how_to_enable_it(tmp_path: Path, cdk_out: Path) -> None:
    lean = shutil.copytree(cdk_out, tmp_path / "cdk.out", symlinks=True)
    (template,) = (lean / "assembly-SageMakerPipeline-dev").glob("*devPipeline*.template.json")
    document = json.loads(template.read_text())
    del document["Outputs"]["ScoringStateMachineArn"]
    template.write_text(json.dumps(document))
    with LocalPipeline(state_dir=tmp_path / "state", cdk_out=lean) as pipeline:
        assert pipeline.describe().scoring_state_machine_arn is None
        with pytest.raises(PipelineError) as raised:
            pipeline.score_dataset([[1.0, 2.0]])
    message = str(raised.value)
    assert 'set "batch_transform": {"enabled": true} in config/dev.json' in message
    assert f"synthesize {lean} again (make synth ENV=dev)" in message
