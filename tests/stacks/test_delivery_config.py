"""config/delivery/pipeline.json: validated like the environments' files, one line naming the key and the fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest

from stacks.config import ConfigError, known_environments
from stacks.config.delivery import DELIVERY_CONFIG, load_delivery_config
from stacks.delivery.app import delivery_requested
from tests.conftest import REPO_ROOT
from tests.stacks.delivery_app import EXAMPLE, delivery_config


def test_the_committed_file_is_valid_and_says_to_create_a_connection() -> None:
    committed = load_delivery_config()
    with pytest.raises(ConfigError) as raised:
        committed.require_source()
    assert str(raised.value) == (
        "invalid delivery configuration (config/delivery/pipeline.json): connection_arn is not set: create one "
        "(aws codeconnections create-connection --provider-type GitHub --connection-name ml-pipeline), complete its "
        "handshake in the console (Developer Tools > Settings > Connections), and put its ARN in "
        "config/delivery/pipeline.json"
    )


def test_the_delivery_file_is_not_an_environment() -> None:
    assert "pipeline" not in known_environments() and DELIVERY_CONFIG.is_file()


def test_a_repository_is_required_next_to_the_connection() -> None:
    with pytest.raises(ConfigError, match=r"repository is not set: put the repository the pipeline watches"):
        delivery_config(repository=None).require_source()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"connection_arn": "arn:aws:codecommit:eu-west-1:111111111111:ml-pipeline"},
            "connection_arn = 'arn:aws:codecommit:eu-west-1:111111111111:ml-pipeline': must be an AWS CodeConnections "
            "ARN such as arn:aws:codeconnections:eu-west-1:111111111111:connection/<uuid>: create one",
        ),
        ({"repository": "ml-pipeline"}, "repository = 'ml-pipeline': must be the repository as the Git host names it"),
        ({"account": "111111111111"}, "(top level): account and region go together: set both, or leave both null"),
        ({"log_retention_days": 100}, "log_retention_days = 100: must be one of CloudWatch's retention periods"),
        ({"conection_arn": "x"}, "conection_arn: not a configuration key; did you mean 'connection_arn'?"),
    ],
)
def test_a_wrong_value_names_the_key_and_what_is_allowed(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        delivery_config(**changes)
    assert str(raised.value).startswith("invalid delivery configuration (config/delivery/pipeline.json): ")
    assert message in str(raised.value)


def test_the_file_is_read_with_its_overrides(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps({**EXAMPLE, "branch": "release"}))
    assert load_delivery_config(path, {"branch": None}).branch == "release"
    assert load_delivery_config(path, {"branch": "main"}).branch == "main"
    path.write_text("{")
    with pytest.raises(ConfigError, match=r"pipeline.json is not valid JSON: line 1"):
        load_delivery_config(path)


def test_only_the_delivery_context_synthesizes_the_delivery_stack() -> None:
    assert not delivery_requested(cdk.App(context={"env": "dev"}))  # make synth ENV=dev
    assert delivery_requested(cdk.App(context={"delivery": "true"}))  # make synth-delivery


def test_the_app_refuses_a_delivery_synth_without_a_connection_in_one_line(tmp_path: Path) -> None:
    environment = {**os.environ, "CDK_CONTEXT_JSON": json.dumps({"delivery": "true"}), "CDK_OUTDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "app.py"], cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: invalid delivery configuration (config/delivery/pipeline.json): ")
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_stages_in_their_own_accounts_need_a_tooling_account() -> None:
    import aws_cdk as cdk

    from stacks.config import load_config
    from stacks.delivery.app import build_delivery

    environments = {
        "dev": load_config("dev", {"account": "222222222222", "region": "eu-west-1"}),
        "prod": load_config("prod"),
    }
    with pytest.raises(ConfigError) as raised:
        build_delivery(cdk.App(), delivery_config(), environments)
    assert str(raised.value) == (
        "invalid delivery configuration (config/delivery/pipeline.json): config/dev.json deploys dev to account "
        "222222222222, so the pipeline needs its own account too: set account and region (the tooling account)"
    )
