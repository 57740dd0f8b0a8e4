"""Fixtures for the local runner: a hand-written cloud assembly and a fresh local cloud per test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from fixture_assembly import write_assembly  # noqa: E402
from pipeline_harness import pipeline_assembly, prod_assembly, run, snapshot  # noqa: E402, F401  (fixtures shared by all modules)

from local_runner import Assembly, Faults, LocalCloud, s3  # noqa: E402
from local_runner.dataset import default_dataset  # noqa: E402


@pytest.fixture(scope="session")
def dataset(tmp_path_factory) -> Path:
    return default_dataset(tmp_path_factory.mktemp("data") / "breast_cancer.csv")


@pytest.fixture(scope="session")
def fixture_assembly(tmp_path_factory) -> Path:
    return write_assembly(tmp_path_factory.mktemp("assembly") / "cdk.out", max_jobs=4, parallel=2)


class Harness:
    """A started LocalCloud with the fixture assembly deployed and the dataset uploaded."""

    def __init__(self, cloud: LocalCloud, arns: dict[str, str], bucket: str, data_uri: str):
        self.cloud = cloud
        self.arns = arns
        self.bucket = bucket
        self.data_uri = data_uri

    @property
    def faults(self) -> Faults:
        return self.cloud.faults

    @property
    def sagemaker(self):
        return self.cloud.sagemaker

    def run(self, **overrides):
        execution_input = {"algorithm": "xgboost", "threshold": 0.8, "data_uri": self.data_uri}
        execution_input.update(overrides)
        execution_input = {k: v for k, v in execution_input.items() if v is not None}
        return self.cloud.run(self.arns["StateMachine"], execution_input, timeout=240)


@pytest.fixture
def harness(tmp_path, fixture_assembly, dataset):
    cloud = LocalCloud(tmp_path / "state", persist=False, time_scale=0.02)
    with cloud:
        arns = cloud.deploy(Assembly.load(fixture_assembly))
        bucket = cloud.assembly.resolver("Pipeline").resolve({"Fn::ImportValue": "Storage:DataBucketName"})
        data_uri = f"s3://{bucket}/input/data.csv"
        s3.upload_file(dataset, data_uri)
        try:
            yield Harness(cloud, arns, bucket, data_uri)
        finally:
            cloud.sagemaker.stop_endpoints()
