"""The unmodified clients of requirements-clients.txt (the AWS CLI, the SageMaker Python SDK), as subprocesses
pointed at the local cloud by AWS_ENDPOINT_URL, against the server `make up` starts: one prod run with a small
tuning job, approved with `aws sagemaker update-model-package`, shared by every test; the last test stops the
server with `make down`, starts it again and finds the run, its model and its endpoint."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import boto3
import pytest

from local_runner.pipeline import REPO_ROOT
from stacks.contract import (
    APPROVAL_OUTPUT,
    DATA_BUCKET_OUTPUT,
    STATE_MACHINE_OUTPUT,
    pipeline_stack_name,
    storage_stack_name,
)
from tests.pipeline_client.committed_app import committed_cdk_out

pytestmark = pytest.mark.slow

CLIENTS = REPO_ROOT / ".venv-clients" / "bin"
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`make up` / `make down` on a state directory and port of the test's own."""

    def __init__(self, state_dir: Path, port: int, cdk_out: Path, code_dir: Path):
        self.state_dir, self.port = state_dir, port
        self.url = f"http://127.0.0.1:{port}"
        self.up_args = f"--state-dir {state_dir} --cdk-out {cdk_out} --code-dir {code_dir}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
        }

    def make(self, target: str) -> subprocess.CompletedProcess:
        arguments = (
            ["ENV=prod", f"PORT={self.port}", f"UP_ARGS={self.up_args}"]
            if target == "up"
            else [f"DOWN_ARGS=--state-dir {self.state_dir}"]
        )
        return subprocess.run(
            ["make", "--no-print-directory", target, *arguments],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )

    def aws(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [str(CLIENTS / "aws"), "--output", "json", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check:
            assert done.returncode == 0, f"aws {shlex.join(args)}: {done.stderr}"
        return done

    def json(self, *args: str) -> dict:
        return json.loads(self.aws(*args).stdout or "{}")

    def wait(self, execution_arn: str, timeout: float = 900) -> dict:
        """The execution, described with the AWS CLI once it has ended. Polled with boto3 until then: a call
        takes milliseconds, where an AWS CLI process takes 0.4 s of CPU (a run was some 30 of them)."""
        sfn = boto3.client(
            "stepfunctions",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sfn.describe_execution(executionArn=execution_arn)["status"] in TERMINAL:
                return self.json("stepfunctions", "describe-execution", "--execution-arn", execution_arn)
            time.sleep(0.25)
        raise AssertionError(f"{execution_arn} did not finish within {timeout} s")

    def output(self, stack: str, key: str) -> str:
        """A stack output, read as on AWS: `aws cloudformation describe-stacks`."""
        (described,) = self.json("cloudformation", "describe-stacks", "--stack-name", stack)["Stacks"]
        return next(o["OutputValue"] for o in described["Outputs"] if o["OutputKey"] == key)


@pytest.fixture(scope="module")
def server(tmp_path_factory, snapshot):
    if not (CLIENTS / "aws").exists():
        pytest.skip("the clients' venv is missing: make .stamps/clients (make test builds it)")
    cdk_out = committed_cdk_out(tmp_path_factory)  # the run's shared synthesis of HEAD, both stages
    started = Server(tmp_path_factory.mktemp("local") / ".local", _free_port(), cdk_out, snapshot)
    up = started.make("up")
    assert up.returncode == 0, up.stdout + up.stderr
    assert f"export AWS_ENDPOINT_URL={started.url}" in up.stdout
    try:
        yield started
    finally:
        started.make("down")


@pytest.fixture(scope="module")
def finished_run(server, dataset) -> dict:
    """One prod run started and followed with the AWS CLI; a tuning job of two training jobs."""
    bucket = server.output(storage_stack_name("prod"), DATA_BUCKET_OUTPUT)
    data = f"s3://{bucket}/datasets/breast_cancer.csv"
    server.aws("s3", "cp", str(dataset), data)
    payload = {
        "data": data,
        "tuning": {"enabled": True, "max_jobs": 2, "max_parallel_jobs": 2, "strategy": "Random"},
        "objective": {"threshold": 0.5},
    }
    started = server.json(
        "stepfunctions",
        "start-execution",
        "--state-machine-arn",
        server.output(pipeline_stack_name("prod"), STATE_MACHINE_OUTPUT),
        "--input",
        json.dumps(payload),
    )
    described = server.wait(started["executionArn"])
    assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
    return described


@pytest.fixture(scope="module")
def approved(server, finished_run) -> dict:
    """The run's model approved with `aws sagemaker update-model-package`; the approval workflow deployed it."""
    package = json.loads(finished_run["output"])["model_package_arn"]
    server.aws(
        "sagemaker", "update-model-package", "--model-package-arn", package, "--model-approval-status", "Approved"
    )
    executions = server.json(
        "stepfunctions",
        "list-executions",
        "--state-machine-arn",
        server.output(pipeline_stack_name("prod"), APPROVAL_OUTPUT),
    )["executions"]
    assert len(executions) == 1, executions  # started by the template's EventBridge rule
    return {"package": package, "workflow": server.wait(executions[0]["executionArn"], timeout=600)}


def test_the_projects_smoke_check_passes_against_the_local_cloud_by_endpoint_url(server, approved) -> None:
    # The same command the delivery pipeline runs against AWS after each dev deployment.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline_client",
            "smoke",
            "--env",
            "prod",
            "--endpoint-url",
            server.url,
            "--invoke-only",
        ],
        cwd=REPO_ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "smoke check of prod on aws" in done.stdout


def _row(dataset: Path, out: Path) -> Path:
    """The dataset's first row without its label, as a file `fileb://` sends."""
    out.write_text(dataset.read_text().splitlines()[0].split(",", 1)[1] + "\n")
    return out


def test_the_aws_cli_starts_and_follows_an_execution(server, finished_run) -> None:
    output = json.loads(finished_run["output"])
    assert output["status"] == "REGISTERED"  # prod waits for a person's approval
    history = server.json("stepfunctions", "get-execution-history", "--execution-arn", finished_run["executionArn"])[
        "events"
    ]
    assert history[0]["type"] == "ExecutionStarted"
    assert history[-1]["type"] == "ExecutionSucceeded"
    entered = {e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e}
    assert {"PrepareRun", "Process", "Evaluate", "RegisterModel"} <= entered, entered


def test_the_aws_cli_lists_and_describes_training_and_tuning_jobs(server, finished_run) -> None:
    tuning = server.json("sagemaker", "list-hyper-parameter-tuning-jobs")["HyperParameterTuningJobSummaries"]
    assert [t["HyperParameterTuningJobStatus"] for t in tuning] == ["Completed"]
    name = tuning[0]["HyperParameterTuningJobName"]
    described = server.json(
        "sagemaker", "describe-hyper-parameter-tuning-job", "--hyper-parameter-tuning-job-name", name
    )
    best = described["BestTrainingJob"]["TrainingJobName"]
    assert described["TrainingJobStatusCounters"]["Completed"] == 2
    jobs = server.json(
        "sagemaker", "list-training-jobs-for-hyper-parameter-tuning-job", "--hyper-parameter-tuning-job-name", name
    )["TrainingJobSummaries"]
    assert best in {j["TrainingJobName"] for j in jobs}
    listed = server.json("sagemaker", "list-training-jobs")["TrainingJobSummaries"]
    assert best in {j["TrainingJobName"] for j in listed}
    job = server.json("sagemaker", "describe-training-job", "--training-job-name", best)
    assert job["TrainingJobStatus"] == "Completed"
    assert job["ModelArtifacts"]["S3ModelArtifacts"].endswith("/output/model.tar.gz")


def test_aws_s3_cp_reads_an_artifact(server, finished_run, tmp_path) -> None:
    artifact = json.loads(finished_run["output"])["model_artifact"]
    server.aws("s3", "cp", artifact, str(tmp_path / "model.tar.gz"))
    with tarfile.open(tmp_path / "model.tar.gz") as tar:
        assert tar.getnames()


def test_update_model_package_starts_the_approval_workflow(server, approved) -> None:
    assert approved["workflow"]["status"] == "SUCCEEDED", approved["workflow"].get("cause")
    assert json.loads(approved["workflow"]["input"]) == {"model_package_arn": approved["package"]}
    package = server.json("sagemaker", "describe-model-package", "--model-package-name", approved["package"])
    assert package["ModelApprovalStatus"] == "Approved"
    endpoint = json.loads(approved["workflow"]["output"])["endpoint_name"]
    assert server.json("sagemaker", "describe-endpoint", "--endpoint-name", endpoint)["EndpointStatus"] == "InService"


def test_aws_sagemaker_runtime_invoke_endpoint(server, approved, dataset, tmp_path) -> None:
    endpoint = json.loads(approved["workflow"]["output"])["endpoint_name"]
    out = tmp_path / "prediction.json"
    answer = server.json(
        "sagemaker-runtime",
        "invoke-endpoint",
        "--endpoint-name",
        endpoint,
        "--content-type",
        "text/csv",
        "--accept",
        "application/json",
        "--body",
        f"fileb://{_row(dataset, tmp_path / 'row.csv')}",
        str(out),
    )
    assert answer["ContentType"] == "application/json"
    assert answer["InvokedProductionVariant"]
    assert len(json.loads(out.read_text())["predictions"]) == 1


SDK_PREDICT = """
import json, sys
from sagemaker.deserializers import JSONDeserializer
from sagemaker.predictor import Predictor
from sagemaker.serializers import CSVSerializer

predictor = Predictor(sys.argv[1], serializer=CSVSerializer(), deserializer=JSONDeserializer())
print(json.dumps(predictor.predict(open(sys.argv[2]).read().strip())))
"""


def test_the_sagemaker_sdks_predictor_predicts(server, approved, dataset, tmp_path) -> None:
    endpoint = json.loads(approved["workflow"]["output"])["endpoint_name"]
    done = subprocess.run(
        [str(CLIENTS / "python"), "-c", SDK_PREDICT, endpoint, str(_row(dataset, tmp_path / "row.csv"))],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (prediction,) = json.loads(done.stdout.splitlines()[-1])["predictions"]
    assert prediction["predicted_label"] in (0, 1)


def test_an_operation_not_served_gets_the_unknown_operation_error(server) -> None:
    for args in (["sagemaker", "list-hubs"], ["lambda", "list-functions"]):
        done = server.aws(*args, check=False)
        assert done.returncode == 254 or done.returncode == 255, done
        assert "(UnknownOperationException)" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_make_down_and_up_keep_the_run_its_model_and_its_endpoint(server, finished_run, approved, dataset, tmp_path):
    again = server.make("up")
    assert again.returncode == 0 and "already up" in again.stdout, again.stdout + again.stderr
    down = server.make("down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert not (server.state_dir / "server.json").exists()
    up = server.make("up")
    assert up.returncode == 0, up.stdout + up.stderr

    run = server.json("stepfunctions", "describe-execution", "--execution-arn", finished_run["executionArn"])
    assert (run["status"], run["output"]) == ("SUCCEEDED", finished_run["output"])
    history = server.json("stepfunctions", "get-execution-history", "--execution-arn", finished_run["executionArn"])
    assert history["events"][-1]["type"] == "ExecutionSucceeded"
    listed = server.json(
        "stepfunctions",
        "list-executions",
        "--state-machine-arn",
        server.output(pipeline_stack_name("prod"), STATE_MACHINE_OUTPUT),
    )
    assert finished_run["executionArn"] in {e["executionArn"] for e in listed["executions"]}
    package = server.json("sagemaker", "describe-model-package", "--model-package-name", approved["package"])
    assert package["ModelApprovalStatus"] == "Approved"
    endpoint = json.loads(approved["workflow"]["output"])["endpoint_name"]
    assert server.json("sagemaker", "describe-endpoint", "--endpoint-name", endpoint)["EndpointStatus"] == "InService"
    out = tmp_path / "prediction.json"
    server.aws(
        "sagemaker-runtime",
        "invoke-endpoint",
        "--endpoint-name",
        endpoint,
        "--content-type",
        "text/csv",
        "--body",
        f"fileb://{_row(dataset, tmp_path / 'row.csv')}",
        str(out),
    )
    assert json.loads(out.read_text())["predictions"]
    artifact = json.loads(finished_run["output"])["model_artifact"]
    server.aws("s3", "cp", artifact, str(tmp_path / "model.tar.gz"))  # S3 was saved by make down
