"""The synthesized pipeline, ready to run: HEAD synthesized once per test run, a fresh local cloud per test.

Its fixtures are registered in conftest.py; the tree and its synthesis (both stages) are built once and shared
by every worker (tests/pipeline_client/committed_app.py)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from local_runner import Assembly, LocalCloud, s3
from pipeline_client import Resources, RunOptions
from pipeline_client.deployment import read_resources
from tests.pipeline_client.committed_app import committed_assembly, committed_tree


@pytest.fixture(scope="session")
def snapshot(tmp_path_factory) -> Path:
    """The committed tree (HEAD): engineers share this working tree, and their edits in progress must not
    change what these tests synthesize and run. `LOCAL_RUNNER_TEST_TREE=worktree` tests the working tree."""
    return committed_tree(tmp_path_factory)


@pytest.fixture(scope="session")
def pipeline_assembly(tmp_path_factory, snapshot) -> Assembly:
    return committed_assembly(tmp_path_factory, "dev")


@pytest.fixture(scope="session")
def prod_assembly(tmp_path_factory, snapshot) -> Assembly:
    return committed_assembly(tmp_path_factory, "prod")


def execution_input(data_uri: str, extra: dict | None = None, **options) -> dict:
    """A run's input as the clients build it (RunOptions.to_input), unchecked, with `extra` merged in: a test
    may send what the clients would refuse, to see the pipeline refuse it."""
    return {**RunOptions(**options).to_input(data_uri), **(extra or {})}


def stack_resources(cloud: LocalCloud, env: str = "dev") -> Resources:
    """The deployed stacks' outputs, read as every client reads them (DescribeStacks)."""
    return read_resources(cloud.client("cloudformation"), env=env, where="the local cloud")


class Run:
    def __init__(self, cloud: LocalCloud, resources: Resources, data_uri: str):
        self.cloud, self.resources, self.data_uri = cloud, resources, data_uri
        self.arn = resources.state_machine_arn

    def __call__(self, raw: dict | None = None, **options):
        payload = raw if raw is not None else execution_input(self.data_uri, **options)
        return self.cloud.run(self.arn, payload, timeout=300)

    def upload(self, name: str, rows: list[list]) -> str:
        uri = f"s3://{self.resources.data_bucket}/datasets/{name}"
        body = "\n".join(",".join(str(v) for v in row) for row in rows) + "\n"
        bucket, key = s3.split_uri(uri)
        boto3.client("s3", region_name="us-east-1").put_object(Bucket=bucket, Key=key, Body=body.encode())
        return uri


@pytest.fixture
def run(tmp_path, pipeline_assembly, dataset, snapshot):
    cloud = LocalCloud(tmp_path / "state", code_dir=snapshot, persist=False, time_scale=0.02)
    with cloud:
        cloud.deploy(pipeline_assembly)
        resources = stack_resources(cloud)
        data_uri = f"s3://{resources.data_bucket}/datasets/breast_cancer.csv"
        s3.upload_file(dataset, data_uri)
        _probe_prepare_run(cloud, data_uri)
        try:
            yield Run(cloud, resources, data_uri)
        finally:
            cloud.sagemaker.stop_endpoints()


def _probe_prepare_run(cloud: LocalCloud, data_uri: str) -> None:
    """The committed pipeline must plan a valid run; when its first Lambda breaks upstream, say so (xfail)."""
    function = next(f for f in cloud.lambdas.functions.values() if "PrepareRun" in f.name)
    event = {"input": {"data": data_uri}, "execution_name": "probe", "start_time": "2026-01-01T00:00:00Z"}
    answer = boto3.client("lambda", region_name="us-east-1").invoke(
        FunctionName=function.arn, Payload=json.dumps(event).encode()
    )
    if answer.get("FunctionError"):
        error = json.loads(answer["Payload"].read())
        pytest.xfail(f"upstream: the committed prepare-run Lambda fails: {error['errorType']}: {error['errorMessage']}")


def _known_definition_bugs(run) -> list[str]:
    """Defects of the synthesized definition this runner has found (reported to the pipeline's owners)."""
    states = json.loads(
        run.cloud.client("stepfunctions").describe_state_machine(stateMachineArn=run.arn)["definition"]
    )["States"]
    bugs = []
    for name in ("CreateModel", "CreateEndpointConfig", "CreateEndpoint", "UpdateEndpoint"):
        state = states.get(name, {})
        if state and "ResultPath" not in state and "ResultSelector" not in state and "OutputPath" not in state:
            bugs.append(f"{name} has no ResultPath: its response replaces the state input, the next state fails")
    return bugs


def _deploys(run, request) -> None:
    bugs = _known_definition_bugs(run)
    if bugs:
        request.node.add_marker(pytest.mark.xfail(reason="; ".join(bugs), strict=False))


def _endpoints(run):
    return run.cloud.sagemaker.store.values("endpoints")
