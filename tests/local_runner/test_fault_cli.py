"""Issue 12, local runner: fault rehearsal on the command line (`run --fault NAME[:ARG]`).

Each run says what was injected and what the pipeline did about it: a resumed spot job names the checkpoint
it resumed from, a failed update says the old model still serves, a throttled call says it was retried.
"""

from __future__ import annotations

import json
import re

import pytest

from local_runner.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture
def cli(pipeline_assembly, dataset, tmp_path, monkeypatch, capsys):
    """`python -m local_runner run ...` in this process on the synthesized pipeline; returns (code, output)."""
    monkeypatch.setenv("COLUMNS", "400")  # rich wraps at the terminal's width: one report line, one line
    state = tmp_path / "state"
    common = ["--cdk-out", str(pipeline_assembly.directory.parent), "--state-dir", str(state)]

    def run(*options: str) -> tuple[int, str]:
        code = main(["run", *common, "--data", str(dataset), "--no-tuning", *options])
        return code, capsys.readouterr().out

    def score(*options: str) -> tuple[int, str]:
        code = main(["score", *common, *options])
        return code, capsys.readouterr().out

    run.state, run.score = state, score
    yield run
    main(["stop", "--state-dir", str(state)])


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("bogus", "unknown fault 'bogus'; choose one of: spot-interruption, throttle, api-error"),
        ("spot-interruption:0", "--fault spot-interruption:0: expected a whole number >= 1, got '0'"),
        ("api-error:lambda:Invoke", "expected service:Operation:Code, e.g. lambda:Invoke:ServiceException"),
    ],
)
def test_a_bad_fault_is_a_usage_error_that_names_the_choices(argument, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--fault", argument])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_a_spot_interruption_says_from_which_checkpoint_the_job_resumed(cli):
    code, out = cli("--fault", "spot-interruption")
    assert code == 0, out[-3000:]
    assert "Fault injected: spot-interruption:1" in out
    reported = re.search(r"training job (\S+): interrupted after checkpoint write 1 .*?after epoch (\d+)", out)
    assert reported, out[-3000:]
    name, epoch = reported.group(1), reported.group(2)
    # the epoch named is the one the first container saved before its SIGTERM, and the restarted one resumed
    trees = cli.state / "runner" / "sagemaker" / "training"
    first = (trees / f"{name}.interrupted" / "job.log").read_text()
    assert f"training interrupted by signal 15 after epoch {epoch}" in first
    assert f"checkpoint: resuming after epoch {epoch}" in (trees / name / "job.log").read_text()


def test_throttling_then_a_failed_update_then_an_alarm_rollback_each_say_what_the_pipeline_did(cli):
    code, out = cli("--fault", "throttle", "--fault", "api-error")
    assert code == 0, out[-3000:]
    assert "ThrottlingException returned to 1 of the 1 call(s) of sagemaker CreateProcessingJob" in out
    assert re.search(r"state \w+: 2 attempts \(retried after SageMaker.AmazonSageMakerException\), succeeded", out)
    assert "ServiceException returned to 1 of the 1 call(s) of lambda Invoke" in out
    assert re.search(r"state \w+: 2 attempts \(retried after Lambda.ServiceException\), succeeded", out), out
    state = json.loads((cli.state / "runner" / "sagemaker" / "state.json").read_text())
    [(endpoint, record)] = state["endpoints"].items()
    config = record["EndpointConfigName"]
    model = state["endpoint_configs"][config]["ProductionVariants"][0]["ModelName"]

    code, out = cli("--fault", "endpoint-failure")
    assert code == 1, out[-3000:]  # the deployment failed: the run says so in its exit code too
    assert f"the update of {endpoint} failed (The primary container did not pass the ping health check" in out
    assert "the old model still serves" in out
    assert f"endpoint {endpoint} is InService on {config}: model {model} serves, answers /ping" in out

    code, out = cli("--fault", "alarm-breach")
    assert "the alarms matching '*' were set to ALARM when the new fleet took traffic" in out, out[-3000:]
    assert f"the update of {endpoint} failed (Rolled back to the previous endpoint configuration" in out
    assert f"endpoint {endpoint} is InService on {config}: model {model} serves, answers /ping" in out


@pytest.mark.parametrize(
    ("fault", "options", "line"),
    [
        ("processing-failure", [], "processing job(s) "),
        ("training-failure", [], "training job(s) "),
    ],
)
def test_a_failed_job_names_the_job_and_the_failure_handler(fault, options, line, cli):
    code, out = cli("--fault", fault, *options)
    assert code == 1
    assert line in out and ": Failed with " in out, out[-3000:]
    assert "the execution FAILED after the failure handler ran" in out, out[-3000:]


def test_score_rehearses_a_failed_transform_job(cli):
    code, out = cli()
    assert code == 0, out[-3000:]
    code, out = cli.score("--fault", "transform-failure")
    assert code == 1, out[-3000:]
    assert "Fault injected: transform-failure:ClientError: Injected by --fault" in out
    assert re.search(r"transform job\(s\) \S+: Failed with 'ClientError: Injected by --fault'", out), out[-3000:]
    assert "the execution FAILED" in out
