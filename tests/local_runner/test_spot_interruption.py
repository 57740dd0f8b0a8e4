"""Issue 6, end to end: a managed-spot interruption of the training job, resumed from its checkpoint.

The local SageMaker sends the training process SIGTERM after its first checkpoint write (the container
saves a checkpoint and exits 143), uploads the checkpoints to CheckpointConfig.S3Uri and restarts the job
in a fresh `/opt/ml` tree that downloads them, as SageMaker does on a new spot instance.
"""

from __future__ import annotations

import io
import re
import tarfile

import boto3
import pytest
from pipeline_harness import execution_input

from local_runner import s3
from local_runner.validation import operation_model

pytestmark = pytest.mark.slow

ROUNDS = 60


def test_an_interrupted_spot_training_job_resumes_from_its_checkpoint_and_the_run_succeeds(run):
    run.cloud.faults.interrupt_training("train-*", after_checkpoints=1)
    payload = execution_input(
        run.data_uri,
        algorithm="xgboost",
        tuning=False,
        threshold=0.5,
        extra={"hyperparameters": {"objective": "binary:logistic", "num_round": ROUNDS}, "deploy": False},
    )
    result = run(payload)
    assert result.status == "SUCCEEDED", (result.error, result.cause, result.visited)
    assert result.visited[-1] == "RegisteredNotDeployed", result.visited
    assert "HandleFailure" not in result.visited

    [job] = run.cloud.sagemaker.store.values("training_jobs")
    name = job["TrainingJobName"]
    assert job["EnableManagedSpotTraining"] is True
    assert job["TrainingJobStatus"] == "Completed"
    described = boto3.client("sagemaker", region_name="us-east-1").describe_training_job(TrainingJobName=name)
    # every status is one botocore knows (the local SageMaker validates each response against the shape)
    enum = operation_model("sagemaker", "DescribeTrainingJob").output_shape.members["SecondaryStatus"].enum
    statuses = [t["Status"] for t in described["SecondaryStatusTransitions"]]
    assert statuses[statuses.index("Interrupted") :] == [
        "Interrupted",
        "Restarting",
        "Training",
        "Uploading",
        "Completed",
    ], statuses
    assert set(statuses) <= set(enum) and described["SecondaryStatus"] == "Completed"
    assert statuses.index("Training") < statuses.index("Interrupted")
    assert all("EndTime" in t for t in described["SecondaryStatusTransitions"][:-1])

    # the first instance: SIGTERM after a checkpoint, the container saved one and exited 143
    trees = run.cloud.sagemaker.workdir / "training"
    first = (trees / f"{name}.interrupted" / "job.log").read_text()
    stopped = re.search(r"training interrupted by signal 15 after epoch (\d+)", first)
    assert stopped, first[-2000:]
    epoch = int(stopped.group(1))
    assert epoch < ROUNDS - 1, "the interruption came after the last round: nothing was resumed"

    # the checkpoint went to S3, and the new instance resumed from it
    checkpoints = s3.split_uri(job["CheckpointConfig"]["S3Uri"])
    listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=checkpoints[0], Prefix=checkpoints[1])
    assert any(o["Key"].endswith("checkpoint.joblib") for o in listed.get("Contents", [])), listed
    resumed = (trees / name / "job.log").read_text()
    assert f"checkpoint: resuming after epoch {epoch}" in resumed, resumed[:2000]
    assert f"[epoch {epoch + 1}]" in resumed and "[epoch 0]" not in resumed, resumed[:2000]
    assert "model written to" in resumed

    # the final model was produced and is the one the run registered
    model_uri = job["ModelArtifacts"]["S3ModelArtifacts"]
    bucket, key = s3.split_uri(model_uri)
    body = boto3.client("s3", region_name="us-east-1").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        assert tar.getnames(), "empty model archive"
    [package] = run.cloud.sagemaker.store.values("model_packages")
    assert package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == model_uri
