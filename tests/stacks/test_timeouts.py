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


@pytest.mark.parametrize("use_spot", [True, False])
def test_the_train_timeout_and_the_plans_stopping_condition_come_from_one_derivation(use_spot: bool) -> None:
    """The training settings are read once (run_planning/training_limits.py): the Train task's timeout at
    synthesis and the StoppingCondition every plan carries cannot disagree on which limit bounds a job."""
    from run_planning.run_plan import plan_run
    from run_planning.settings import Settings

    from stacks.config import run_defaults
    from stacks.config.timeouts import SLACK_SECONDS, task_timeouts

    raw = _raw("dev", 24 * 60)
    raw["training"]["use_spot"] = use_spot
    config = parse_config(raw)
    settings = Settings("data-bucket", "artifacts-bucket", "endpoint", run_defaults(config))
    plan = plan_run({"data": "s3://data-bucket/d.csv"}, settings, execution_name="e", start_time="2026-11-26T04:00:00Z")
    stopping = plan["training"]["stopping_condition"]
    assert ("MaxWaitTimeInSeconds" in stopping) is use_spot
    timeouts = task_timeouts(config.processing, config.training, config.tuning, config.endpoint.deployment)
    assert timeouts.training == max(stopping.values()) + SLACK_SECONDS
