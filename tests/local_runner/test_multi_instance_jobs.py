"""Training jobs with InstanceCount > 1 on the local SageMaker: one process per host, sharded channels,
one host's failure failing the job and stopping the others."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import boto3
import numpy as np
import psutil
import pytest

from local_runner.cloud import LocalCloud
from local_runner.sagemaker import hosts, lifetime, sharding

BUCKET = "scale-data"
ROLE = "arn:aws:iam::123456789012:role/sagemaker"


def _upload(client, objects: int, rows: int = 120) -> str:
    client.create_bucket(Bucket=BUCKET)
    rng = np.random.default_rng(0)
    for index in range(objects):
        x = rng.normal(size=(rows, 4))
        y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
        body = "\n".join(",".join([str(label), *(f"{v:.6f}" for v in row)]) for label, row in zip(y, x, strict=True))
        client.put_object(Bucket=BUCKET, Key=f"train/part-{index}.csv", Body=body.encode())
    return f"s3://{BUCKET}/train/"


def _request(name: str, uri: str, count: int, distribution: str, rounds: int) -> dict:
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": "local/training:latest", "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "HyperParameters": {"algorithm": "xgboost", "objective": "binary:logistic", "num_round": str(rounds)},
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": distribution}
                },
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/models"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": count, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        "Environment": {"SM_NUM_CPUS": "1"},
    }


def _wait(sagemaker, name: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = sagemaker.describe_training_job(TrainingJobName=name)
        if described["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            return described
        time.sleep(0.2)
    raise AssertionError(f"{name} still {described['TrainingJobStatus']} after {timeout} s")


def test_sharded_by_s3_key_gives_each_of_two_hosts_its_share_and_every_object_once():
    keys = [f"train/part-{i}.csv" for i in range(5)]
    shares = [sharding.share(keys, "ShardedByS3Key", index, 2) for index in range(2)]
    assert sorted(shares[0] + shares[1]) == keys and not set(shares[0]) & set(shares[1])
    assert [len(s) for s in shares] == [3, 2]
    assert sharding.share(keys, "FullyReplicated", 1, 2) == keys


@pytest.mark.slow
def test_a_two_instance_training_job_runs_two_hosts_on_their_shards_and_one_model(tmp_path):
    with LocalCloud(tmp_path, persist=False) as cloud:
        uri = _upload(boto3.client("s3", region_name="us-east-1"), objects=5)
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        sagemaker.create_training_job(**_request("two-hosts", uri, 2, "ShardedByS3Key", rounds=10))
        described = _wait(sagemaker, "two-hosts")
        assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
        base = cloud.sagemaker.workdir / "training" / "two-hosts"
        trees = [hosts.tree(base, index) for index in range(2)]
        read = [sorted(p.name for p in (tree / "input" / "data" / "train").iterdir()) for tree in trees]
        assert sorted(read[0] + read[1]) == [f"part-{i}.csv" for i in range(5)]  # each object read exactly once
        assert not set(read[0]) & set(read[1])
        configs = [json.loads((tree / "input" / "config" / "resourceconfig.json").read_text()) for tree in trees]
        assert [c["current_host"] for c in configs] == ["algo-1", "algo-2"]
        assert all(c["hosts"] == ["algo-1", "algo-2"] for c in configs)
        assert all(c["current_instance_type"] == "ml.m5.large" for c in configs)
        assert "joined the collective as rank 1 of 2" in (trees[1] / "job.log").read_text()
        assert described["ModelArtifacts"]["S3ModelArtifacts"].endswith("two-hosts/output/model.tar.gz")
        record = cloud.sagemaker.store.get("training_jobs", "two-hosts")
        assert record["LocalHostStatus"] == {"algo-1": "Completed", "algo-2": "Completed"}


@pytest.mark.slow
def test_a_host_killed_mid_training_fails_the_job_with_its_reason_and_leaves_no_process(tmp_path):
    with LocalCloud(tmp_path, persist=False) as cloud:
        uri = _upload(boto3.client("s3", region_name="us-east-1"), objects=2, rows=2000)
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        sagemaker.create_training_job(**_request("killed", uri, 2, "ShardedByS3Key", rounds=100000))
        second = cloud.sagemaker.workdir / "training" / "killed" / "hosts" / "algo-2"
        victim = None
        deadline = time.monotonic() + 120
        while victim is None and time.monotonic() < deadline:
            log = second / "job.log"
            if log.is_file() and "[epoch 2]" in log.read_text():
                victim = next(
                    p
                    for p in lifetime.started_under(cloud.sagemaker.workdir)
                    if Path(lifetime.base_dir(p) or "/") == second
                )
            time.sleep(0.1)
        assert victim is not None, "the second host never got to its third round"
        os.kill(victim.pid, signal.SIGKILL)
        described = _wait(sagemaker, "killed", timeout=120)
        assert described["TrainingJobStatus"] == "Failed"
        assert described["FailureReason"].startswith("AlgorithmError: exit code -9")
        assert described["FailureReason"].endswith("(on host algo-2 of 2)")
        survivors = [
            p
            for p in lifetime.started_under(cloud.sagemaker.workdir)
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE
        ]
        assert survivors == []
        record = cloud.sagemaker.store.get("training_jobs", "killed")
        assert record["LocalHostStatus"]["algo-2"] == "Failed (exit -9)"
        assert record["LocalHostStatus"]["algo-1"] == "Stopped"


@pytest.mark.slow
def test_a_two_instance_processing_job_gives_each_instance_its_shard_and_uploads_every_instances_output(tmp_path):
    with LocalCloud(tmp_path, persist=False) as cloud:
        s3 = boto3.client("s3", region_name="us-east-1")
        uri = _upload(s3, objects=4)
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        outputs = ["train", "validation", "test", "baseline"]
        sagemaker.create_processing_job(
            ProcessingJobName="process-two",
            RoleArn=ROLE,
            AppSpecification={"ImageUri": "local/training:latest", "ContainerArguments": ["--seed", "1"]},
            ProcessingResources={
                "ClusterConfig": {"InstanceCount": 2, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}
            },
            ProcessingInputs=[
                {
                    "InputName": "input",
                    "S3Input": {
                        "S3Uri": uri,
                        "LocalPath": "/opt/ml/processing/input",
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                        "S3DataDistributionType": "ShardedByS3Key",
                    },
                }
            ],
            ProcessingOutputConfig={
                "Outputs": [
                    {
                        "OutputName": name,
                        "S3Output": {
                            "S3Uri": f"s3://{BUCKET}/out/{name}",
                            "LocalPath": f"/opt/ml/processing/{name}",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                    for name in outputs
                ]
            },
        )
        deadline = time.monotonic() + 240
        while (status := sagemaker.describe_processing_job(ProcessingJobName="process-two"))[
            "ProcessingJobStatus"
        ] == "InProgress":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert status["ProcessingJobStatus"] == "Completed", status.get("FailureReason")
        base = cloud.sagemaker.workdir / "processing" / "process-two"
        inputs = [sorted(p.name for p in (hosts.tree(base, i) / "processing" / "input").iterdir()) for i in (0, 1)]
        assert inputs == [["part-0.csv", "part-2.csv"], ["part-1.csv", "part-3.csv"]]
        request = json.loads((hosts.tree(base, 1) / "config" / "processingjobconfig.json").read_text())
        assert request["ProcessingInputs"][0]["S3Input"]["S3DataDistributionType"] == "ShardedByS3Key"
        listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="out/")["Contents"]
        keys = sorted(o["Key"] for o in listed)
        assert "out/train/train-algo-1.csv" in keys and "out/train/train-algo-2.csv" in keys, keys
        assert "out/baseline/statistics.json" in keys
        body = s3.get_object(Bucket=BUCKET, Key="out/baseline/statistics.json")["Body"].read()
        statistics = json.loads(body)
        assert statistics["instances"] == 2 and sum(statistics["splits"].values()) == 4 * 120
