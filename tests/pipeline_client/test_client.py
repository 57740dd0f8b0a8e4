"""The pipeline client against the local cloud in this process (the session's, deployed from the committed app):
the same boto3 calls as on AWS. The full run to a prediction and the endpoint's stop are in
tests/notebooks/test_quickstart.py; what only AWS's CloudFormation shows (stack states) is in test_stack_outputs.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from local_runner import Assembly
from pipeline_client import OptionError, PipelineClient, PipelineError, RunFailed, RunOptions, read_rows
from pipeline_client.in_process import open_local

pytestmark = pytest.mark.slow


def test_describe_reads_the_stacks_outputs_as_the_local_cloud_deployed_them(
    local: PipelineClient, cdk_out: Path
) -> None:
    described = local.describe()
    assembly = Assembly.load(cdk_out, stage="SageMakerPipeline-dev")
    (prepare,) = [
        resource["Properties"]["Environment"]["Variables"]
        for stack in assembly.stacks.values()
        for logical_id, resource in stack.of_type("AWS::Lambda::Function").items()
        if logical_id.startswith("FunctionsPrepareRun")
    ]
    resolved = assembly.resolver(next(s for s in assembly.stacks.values() if s.name.endswith("-Pipeline")))
    assert described.data_bucket == resolved.resolve(prepare["DATA_BUCKET"])
    assert described.artifacts_bucket == resolved.resolve(prepare["ARTIFACTS_BUCKET"])
    assert local.client("s3").head_bucket(Bucket=described.data_bucket)
    sfn = local.client("stepfunctions")
    for machine in (described.state_machine_arn, described.scoring_state_machine_arn):
        assert sfn.describe_state_machine(stateMachineArn=machine)["status"] == "ACTIVE"
    assert "Scoring" in described.scoring_state_machine_arn.rsplit(":", 1)[-1]
    group = local.client("sagemaker").describe_model_package_group(ModelPackageGroupName=described.model_package_group)
    assert group["ModelPackageGroupStatus"] == "Completed"
    assert described.approval_state_machine_arn is None  # dev approves when it registers


def test_an_unknown_cloudformation_operation_gets_aws_error_shape(local: PipelineClient) -> None:
    with pytest.raises(ClientError) as raised:
        local.client("cloudformation").list_stacks()
    assert raised.value.response["Error"]["Code"] == "UnknownOperationException"
    with pytest.raises(ClientError, match="Stack with id SageMakerPipeline-qa-Storage does not exist"):
        local.client("cloudformation").describe_stacks(StackName="SageMakerPipeline-qa-Storage")


def test_upload_puts_the_file_under_a_new_key(local: PipelineClient, tmp_path: Path) -> None:
    path = tmp_path / "cancer.csv"
    path.write_text("1,0.5,2\n0,0.1,3\n1,0.7,2\n0,0.2,4\n")  # the fewest rows the processing job can split
    uri = local.upload_dataset(path)
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    assert bucket == local.describe().data_bucket
    assert key.startswith("datasets/cancer-") and key.endswith("/cancer.csv")
    assert local.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read() == path.read_bytes()


def test_an_unusable_csv_is_not_uploaded(local: PipelineClient, tmp_path: Path) -> None:
    path = tmp_path / "unusable.csv"
    path.write_text("1,2\nx,3\n")
    with pytest.raises(PipelineError, match="line 2, column 1"):
        local.upload_dataset(path)
    listed = local.client("s3").list_objects_v2(Bucket=local.describe().data_bucket, Prefix="datasets/unusable")
    assert listed["KeyCount"] == 0


def test_options_and_data_are_checked_before_anything_starts(local: PipelineClient, dataset: Path) -> None:
    uploaded = local.upload_dataset(dataset)
    sfn, machine = local.client("stepfunctions"), local.describe().state_machine_arn
    before = sfn.list_executions(stateMachineArn=machine)["executions"]
    with pytest.raises(OptionError, match="algorithm='xgbost' is not known"):
        local.start_run(uploaded, algorithm="xgbost")
    with pytest.raises(OptionError, match="outside the pipeline's data bucket"):
        local.start_run("s3://other-bucket/data.csv")
    bucket = local.describe().data_bucket
    with pytest.raises(PipelineError, match="nothing there; upload the dataset with upload_dataset"):
        local.start_run(f"s3://{bucket}/datasets/missing.csv")
    assert sfn.list_executions(stateMachineArn=machine)["executions"] == before


@pytest.mark.parametrize("rows", [[], "1,2", [["a", 1]], [[True, 1]], [5]])
def test_predict_refuses_rows_that_are_not_numbers(local: PipelineClient, rows) -> None:
    with pytest.raises(PipelineError, match=r"predict\(rows\): "):
        local.predict(rows)


def test_an_upload_is_in_local_s3_and_on_disk_after_close(local: PipelineClient, dataset: Path) -> None:
    uri = local.upload_dataset(dataset)
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    assert local.client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"] == dataset.stat().st_size
    local.close()  # the session's fixture opens the local cloud again for the next test
    assert (local.local.runner_dir / "s3" / bucket / key).read_bytes() == dataset.read_bytes()


def test_a_failed_run_raises_and_its_hint_points_at_the_record(local: PipelineClient, dataset: Path) -> None:
    local.local.cloud.faults.fail_job("processing", "process-*", "ClientError: injected processing failure")
    uploaded = local.upload_dataset(dataset)
    run = local.start_run(uploaded, tuning=False)
    given = json.loads(local.client("stepfunctions").describe_execution(executionArn=run.execution_arn)["input"])
    assert given == RunOptions(tuning=False).to_input(uploaded) == run.input  # the one builder of the input
    with pytest.raises(RunFailed) as raised:
        run.wait(timeout_seconds=120)
    message = str(raised.value)
    assert f"run {run.name} FAILED: ProcessFailed: " in message and "injected processing failure" in message
    record = local.local.runner_dir / "s3" / local.describe().artifacts_bucket / "failures" / run.name / "failure.json"
    assert str(record) in message and record.is_file()
    local.local.cloud.faults.jobs.clear()


def test_predict_before_any_deployment_says_to_run_first(local: PipelineClient) -> None:
    with pytest.raises(PipelineError, match="run the pipeline to a DEPLOYED decision first"):
        local.predict([[1.0, 2.0]])


def test_opening_another_local_cloud_closes_the_first(local: PipelineClient, tmp_path: Path, cdk_out: Path) -> None:
    with open_local(state_dir=tmp_path / "second", cdk_out=cdk_out) as second:
        with pytest.raises(PipelineError, match=r"closed; connect again"):
            local.client("s3")
        assert second.client("s3").head_bucket(Bucket=second.describe().data_bucket)
    with pytest.raises(PipelineError, match="closed"):
        second.client("s3")


def test_a_missing_cloud_assembly_is_explained(tmp_path: Path) -> None:
    with pytest.raises(
        PipelineError, match=r"(?s)no cloud assembly there \(run `make synth ENV=dev`\).*or leave PIPELINE_CDK"
    ):
        open_local(state_dir=tmp_path / "state", cdk_out=tmp_path / "nothing")


def test_scoring_options_and_data_are_checked_before_anything_starts(local: PipelineClient, tmp_path: Path) -> None:
    sfn, machine = local.client("stepfunctions"), local.describe().scoring_state_machine_arn
    before = sfn.list_executions(stateMachineArn=machine)["executions"]
    with pytest.raises(OptionError, match="unknown option 'skip_first_col': did you mean 'skip_first_column'"):
        local.score_dataset([[1.0]], skip_first_col=True)
    with pytest.raises(OptionError, match="instance_count=0"):
        local.score_dataset([[1.0]], instance_count=0)
    with pytest.raises(OptionError, match=r"outside the pipeline's data bucket.*score_dataset\(path or rows\)"):
        local.score_dataset("s3://other-bucket/rows.csv")
    with pytest.raises(PipelineError, match="nothing there"):
        local.score_dataset(f"s3://{local.describe().data_bucket}/scoring/missing.csv")
    with pytest.raises(PipelineError, match="column 2 holds 'x'"):
        local.score_dataset([[1.0, "x"]])
    with pytest.raises(PipelineError, match="no such file"):
        local.score_dataset(tmp_path / "missing.csv")
    assert sfn.list_executions(stateMachineArn=machine)["executions"] == before


def test_a_file_with_a_header_is_uploaded_without_it(local: PipelineClient, tmp_path: Path) -> None:
    path = tmp_path / "new customers.csv"
    path.write_text("radius,texture\n1.5,2\n")
    scoring = local.score_dataset(path)
    bucket, key = scoring.input["data"].removeprefix("s3://").split("/", 1)
    assert key.startswith("scoring/new customers-") and key.endswith("/new customers.csv")
    assert local.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read() == b"1.5,2\n"
    assert path.read_text() == "radius,texture\n1.5,2\n"  # the user's file is left as it was
    scoring.wait(check=False, timeout_seconds=120)


def test_scoring_before_any_model_is_registered_says_to_register_one(local: PipelineClient) -> None:
    scoring = local.score_dataset([[1.0, 2.0]])
    with pytest.raises(RunFailed) as raised:
        scoring.wait(timeout_seconds=120)
    message = str(raised.value)
    assert message.startswith(f"scoring {scoring.name} FAILED: NoApprovedModel: No Approved model package in ")
    assert "fix: register a model first: a run that ends REGISTERED or DEPLOYED" in message


def test_rows_and_a_labelled_file_are_scored_by_the_registered_model(local: PipelineClient, dataset: Path) -> None:
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
    runner = local.local.runner_dir
    record = runner / "s3" / local.describe().artifacts_bucket / "failures" / mistaken.name / "failure.json"
    assert str(record) in message and record.is_file()


def test_a_stage_without_scoring_says_how_to_enable_it(tmp_path: Path, cdk_out: Path) -> None:
    lean = shutil.copytree(cdk_out, tmp_path / "cdk.out", symlinks=True)
    (template,) = (lean / "assembly-SageMakerPipeline-dev").glob("*devPipeline*.template.json")
    document = json.loads(template.read_text())
    del document["Outputs"]["ScoringStateMachineArn"]
    template.write_text(json.dumps(document))
    with open_local(state_dir=tmp_path / "state", cdk_out=lean) as pipeline:
        assert pipeline.describe().scoring_state_machine_arn is None
        with pytest.raises(PipelineError) as raised:
            pipeline.score_dataset([[1.0, 2.0]])
    message = str(raised.value)
    assert 'set "batch_transform": {"enabled": true} in config/dev.json' in message
    assert f"synthesize {lean} again (make synth ENV=dev)" in message
