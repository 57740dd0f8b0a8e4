"""The execution's timeout outlasts the longest run its tasks allow, in the template and in the configuration."""

from __future__ import annotations

import json
import re

import pytest

from stacks.config import ConfigError, parse_config
from tests.conftest import ENVIRONMENTS, REPO_ROOT, SynthesizedApp
from tests.stacks.workflow_definition import definition_of, states


def test_the_execution_outlasts_its_longest_run(each_env: SynthesizedApp) -> None:
    definition = definition_of(each_env.template("pipeline"))
    timeout = {name: state.get("TimeoutSeconds", 0) for name, state in states(definition).items()}
    update = states(definition).get("UpdateEndpoint", {}).get("Parameters", {})
    deployment = update.get("DeploymentConfig", {}).get("BlueGreenUpdatePolicy", {})
    longest = (
        timeout["Process"]
        + max(timeout["Train"], timeout["Tune"])
        + timeout["Evaluate"]
        + deployment.get("MaximumExecutionTimeoutInSeconds", 0)
    )
    assert definition["TimeoutSeconds"] >= longest


def _raw(environment: str, minutes: int) -> dict:
    raw = json.loads((REPO_ROOT / "config" / f"{environment}.json").read_text())
    raw["pipeline"]["execution_timeout_minutes"] = minutes
    return {**raw, "environment": environment}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_config_refuses_an_execution_timeout_shorter_than_its_tasks(environment: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(_raw(environment, 5))
    message = str(refused.value)
    assert "pipeline.execution_timeout_minutes 5 is shorter than the longest run" in message
    assert "tuning" in message and "set it to at least" in message
    minimum = int(re.search(r"at least (\d+)", message).group(1))
    parse_config(_raw(environment, minimum))  # the figure it names is enough
    with pytest.raises(ConfigError, match=f"at least {minimum}"):
        parse_config(_raw(environment, minimum - 1))
