"""The smoke check (`python -m pipeline_client smoke`) against the local cloud in this process.

One heavy run: it deploys an endpoint, the check passes, then the same endpoint answers with errors. The other
cases need no run: nothing deployed yet, and stacks that are not the ones the delivery pipeline deployed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_client.__main__ import main
from pipeline_client.in_process import open_local
from pipeline_client.smoke import SmokeFailed, smoke_check


@pytest.fixture
def local_env(tmp_path: Path, cdk_out: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """What `--backend local` reads: a fresh state dir and the committed app's cloud assembly."""
    monkeypatch.setenv("PIPELINE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PIPELINE_CDK_OUT", str(cdk_out))
    for variable in ("SMOKE_STATE_MACHINE_ARN", "SMOKE_ENDPOINT_NAME", "PIPELINE_BACKEND", "PIPELINE_ENV"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path / "state"


def test_the_command_fails_clearly_when_no_endpoint_is_deployed(
    local_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["smoke", "--env", "dev", "--backend", "local", "--invoke-only"]) == 1
    out, err = capsys.readouterr()
    endpoint = out.split("endpoint ", 1)[1].strip()
    assert f"smoke check failed: no endpoint {endpoint} is deployed\n" in err
    assert "fix: run it without --invoke-only: python -m pipeline_client smoke --env dev" in err
    assert "Traceback" not in err


def test_the_command_refuses_stacks_other_than_the_deployed_ones(
    local_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # As CodePipeline passes them from the dev stage it deployed (env_from_cfn_outputs).
    monkeypatch.setenv("SMOKE_ENDPOINT_NAME", "sagemakerpipeline-dev-other-endpoint")
    assert main(["smoke", "--env", "dev", "--backend", "local", "--invoke-only"]) == 1
    err = capsys.readouterr().err
    assert "smoke check failed: SMOKE_ENDPOINT_NAME is sagemakerpipeline-dev-other-endpoint, but the dev stacks" in err
    assert "fix: check the stacks the pipeline deployed" in err


def test_the_endpoint_url_goes_with_the_aws_backend(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["smoke", "--backend", "local", "--endpoint-url", "http://127.0.0.1:4566"]) == 2
    assert "--endpoint-url goes with --backend aws" in capsys.readouterr().err


def test_a_run_that_outlasts_the_timeout_says_which_setting_to_raise(tmp_path: Path, cdk_out: Path) -> None:
    with open_local(state_dir=tmp_path / "state", cdk_out=cdk_out) as pipeline:
        with pytest.raises(SmokeFailed) as raised:
            smoke_check(pipeline, timeout_seconds=0, expected={}, progress=None)
        assert raised.value.execution_arn.startswith("arn:aws:states:")  # closing the local cloud ends it
    message = str(raised.value)
    assert message.startswith("smoke check failed: run ") and " is still RUNNING after 0 s\n" in message
    assert "fix: raise --timeout-minutes (smoke_timeout_minutes in config/delivery/pipeline.json)" in message


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_check_passes_on_a_deployed_endpoint_then_fails_on_its_errors(tmp_path: Path, cdk_out: Path) -> None:
    with open_local(state_dir=tmp_path / "state", cdk_out=cdk_out) as pipeline:
        endpoint = pipeline.describe().endpoint_name
        passed = smoke_check(pipeline, timeout_seconds=600, expected={"SMOKE_ENDPOINT_NAME": endpoint}, progress=None)
        assert passed.endpoint_name == endpoint and passed.run_name is not None
        assert len(passed.predictions) == 5
        assert str(passed).startswith(f"smoke check passed: run {passed.run_name} deployed it; endpoint {endpoint}")

        pipeline.local.cloud.faults.api_error(
            "sagemaker-runtime", "InvokeEndpoint", "ModelError", "Received server error (500) from primary", 424
        )
        with pytest.raises(SmokeFailed) as raised:
            smoke_check(pipeline, invoke_only=True, expected={}, progress=None)
    message = str(raised.value)
    assert message.startswith(f"smoke check failed: endpoint {endpoint} answered with an error: ")
    assert "ModelError: Received server error (500) from primary" in message
